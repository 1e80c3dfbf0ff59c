//! Objects in the store: where each lives (its key), how it is encoded (the
//! object's JSON without `resourceVersion`, which is the key's mod revision
//! and filled in on every read), and paging tokens.
//!
//! The store holds one form per stored resource: an events.k8s.io/v1 Event
//! is stored as a core/v1 Event (`ironclad_api::conversion`). Encoding
//! converts to that form and decoding does too (for objects written by
//! older builds), so everything read from the store is in storage form and
//! the handlers convert to the form of the API a client called.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use ironclad_api::ResourceInfo;
use ironclad_api::conversion;
use ironclad_api::registry::storage_resource;
use ironclad_store::{KeyValue, Revision};
use serde_json::{Value, json};

use crate::error::{ApiError, Result};

/// Root of every Kubernetes object in the store.
pub const ROOT: &str = "/registry/";

/// The prefix all objects of a resource share (in one namespace if given):
/// `/registry/<group or core>/<plural>/[<namespace>/]`.
pub fn prefix(info: &ResourceInfo, namespace: Option<&str>) -> String {
    let (group, plural) = storage_resource(info);
    let group = if group.is_empty() { "core" } else { group };
    match namespace {
        Some(ns) if info.namespaced => format!("{ROOT}{group}/{plural}/{ns}/"),
        _ => format!("{ROOT}{group}/{plural}/"),
    }
}

/// The key of one object.
pub fn key(info: &ResourceInfo, namespace: Option<&str>, name: &str) -> String {
    format!("{}{name}", prefix(info, namespace))
}

/// Decodes a stored object (in its storage form) and sets its
/// resourceVersion.
pub fn decode(kv: &KeyValue) -> Result<Value> {
    let obj: Value = serde_json::from_slice(&kv.value).map_err(|e| {
        ApiError::internal(format!(
            "stored object {} is not JSON: {e}",
            String::from_utf8_lossy(&kv.key)
        ))
    })?;
    let mut obj = conversion::to_stored(obj);
    set_resource_version(&mut obj, kv.mod_revision);
    Ok(obj)
}

/// Encodes an object for the store, in its storage form and without its
/// resourceVersion.
pub fn encode(obj: &Value) -> Result<Bytes> {
    let mut obj = conversion::to_stored(obj.clone());
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    serde_json::to_vec(&obj)
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(format!("encode object: {e}")))
}

/// Reads one core/v1 object by name (`namespace` is ignored for
/// cluster-scoped resources); `None` if there is none.
pub async fn read_core(
    store: &dyn ironclad_store::Store,
    plural: &str,
    namespace: Option<&str>,
    name: &str,
) -> Result<Option<Value>> {
    let info = ironclad_api::registry::lookup("", "v1", plural)
        .ok_or_else(|| ApiError::internal(format!("{plural} are not registered")))?;
    let kv = store.get(key(info, namespace, name).as_bytes()).await?;
    kv.map(|kv| decode(&kv)).transpose()
}

/// Sets `metadata.resourceVersion`.
pub fn set_resource_version(obj: &mut Value, rev: Revision) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("resourceVersion".into(), Value::String(rev.to_string()));
    }
}

/// Parses a resourceVersion sent by a client.
pub fn parse_resource_version(rv: &str) -> Result<Revision> {
    rv.parse::<Revision>()
        .ok()
        .filter(|r| *r >= 0)
        .ok_or_else(|| ApiError::bad_request(format!("invalid resource version: {rv:?}")))
}

/// Where a paged list continues: the revision it reads at and the key after
/// which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continue {
    /// Store revision of the whole list.
    pub revision: Revision,
    /// Last key returned.
    pub after: String,
}

impl Continue {
    /// The opaque token.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(
            json!({"v": "ironclad/v1", "rv": self.revision, "after": self.after}).to_string(),
        )
    }

    /// Parses a token; a malformed one is a 400 as upstream answers.
    pub fn decode(token: &str) -> Result<Continue> {
        let bad = || ApiError::bad_request("continue key is not valid: malformed token");
        let raw = URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|_| bad())?;
        let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
        let revision = v.get("rv").and_then(Value::as_i64).ok_or_else(bad)?;
        let after = v.get("after").and_then(Value::as_str).ok_or_else(bad)?;
        if !after.starts_with(ROOT) {
            return Err(bad());
        }
        Ok(Continue {
            revision,
            after: after.to_string(),
        })
    }
}

/// Reads `metadata.<field>` as a string.
pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

/// The object's metadata map, created if missing (non-objects are left alone).
pub fn meta_mut(obj: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    let o = obj.as_object_mut()?;
    let m = o.entry("metadata").or_insert_with(|| json!({}));
    if !m.is_object() {
        *m = json!({});
    }
    m.as_object_mut()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironclad_api::registry::lookup;

    #[test]
    fn keys_separate_resources_and_namespaces() {
        let cm = lookup("", "v1", "configmaps").unwrap();
        assert_eq!(key(cm, Some("a"), "x"), "/registry/core/configmaps/a/x");
        assert_eq!(prefix(cm, None), "/registry/core/configmaps/");
        let ns = lookup("", "v1", "namespaces").unwrap();
        assert_eq!(key(ns, Some("ignored"), "a"), "/registry/core/namespaces/a");
        let ev = lookup("events.k8s.io", "v1", "events").unwrap();
        assert_eq!(prefix(ev, Some("a")), "/registry/core/events/a/");
    }

    #[test]
    fn events_are_stored_and_read_in_core_form() {
        let new = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "a", "resourceVersion": "3"},
            "regarding": {"kind": "Pod", "name": "p"}, "note": "hi"});
        let stored: Value = serde_json::from_slice(&encode(&new).unwrap()).unwrap();
        assert_eq!(
            stored,
            json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "a"},
                "involvedObject": {"kind": "Pod", "name": "p"}, "message": "hi"})
        );
        // An event an older build stored in events.k8s.io form reads as core.
        let kv = KeyValue {
            key: Bytes::from_static(b"/registry/core/events/a/e"),
            value: Bytes::from(serde_json::to_vec(&new).unwrap()),
            create_revision: 5,
            mod_revision: 9,
            version: 1,
            lease: 0,
        };
        let read = decode(&kv).unwrap();
        assert_eq!(read["apiVersion"], "v1");
        assert_eq!(read["involvedObject"]["name"], "p");
        assert_eq!(read["metadata"]["resourceVersion"], "9");
    }

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let c = Continue {
            revision: 42,
            after: "/registry/core/configmaps/a/x".into(),
        };
        assert_eq!(Continue::decode(&c.encode()).unwrap(), c);
        assert!(Continue::decode("garbage!").is_err());
        assert!(
            Continue::decode(&URL_SAFE_NO_PAD.encode("{\"rv\":1,\"after\":\"/etc\"}")).is_err()
        );
    }
}

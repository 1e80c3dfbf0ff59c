//! What each write of a CertificateSigningRequest may change (upstream's
//! `pkg/registry/certificates/certificates/strategy.go`):
//!
//! - create: the requester's identity fills `spec.username`, `uid`,
//!   `groups` and `extra` ([`set_requester`]); the status starts empty;
//! - update of the main resource: neither spec nor status change;
//! - `/status`: only the status, and not its Approved or Denied
//!   conditions (the certificate and Failed are the signer's);
//! - `/approval`: only `status.conditions`.
//!
//! Both subresources stamp the conditions' missing timestamps.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{APPROVED, DENIED};

/// Who created a request, as the API server authenticated them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requester {
    /// User name.
    pub username: String,
    /// User UID.
    pub uid: String,
    /// Groups.
    pub groups: Vec<String>,
    /// Extra attributes.
    pub extra: BTreeMap<String, Vec<String>>,
}

/// Fills the requester fields of a new request from the authenticated
/// user, replacing whatever the client sent (None: an unauthenticated
/// request, which leaves them empty). Upstream's `PrepareForCreate`.
pub fn set_requester(obj: &mut Value, requester: Option<&Requester>) {
    let Some(o) = obj.as_object_mut() else { return };
    let spec = o.entry("spec").or_insert_with(|| json!({}));
    let Some(spec) = spec.as_object_mut() else {
        return;
    };
    for f in ["username", "uid", "groups", "extra"] {
        spec.remove(f);
    }
    let Some(r) = requester else { return };
    if !r.username.is_empty() {
        spec.insert("username".into(), json!(r.username));
    }
    if !r.uid.is_empty() {
        spec.insert("uid".into(), json!(r.uid));
    }
    if !r.groups.is_empty() {
        spec.insert("groups".into(), json!(r.groups));
    }
    if !r.extra.is_empty() {
        spec.insert("extra".into(), json!(r.extra));
    }
}

/// Prepares the new object of an update through `subresource` (None for
/// the main resource) from the stored `old`; `now` stamps new conditions
/// (RFC 3339). Metadata is left as it came.
pub fn prepare_update(subresource: Option<&str>, new: &mut Value, old: &Value, now: &str) {
    let Some(n) = new.as_object_mut() else { return };
    copy_field(n, old, "spec");
    match subresource {
        Some("status") => {
            let old_conds = conditions(old);
            let status = n.entry("status").or_insert_with(|| json!({}));
            if !status.is_object() {
                *status = json!({});
            }
            let mut conds = conditions(status);
            for t in [APPROVED, DENIED] {
                conds.retain(|c| c["type"] != t);
                conds.extend(old_conds.iter().filter(|c| c["type"] == t).cloned());
            }
            set_conditions(status, conds, &old_conds, now);
        }
        Some("approval") => {
            let conds = n.get("status").map(conditions).unwrap_or_default();
            copy_field(n, old, "status");
            let status = n.entry("status").or_insert_with(|| json!({}));
            if !status.is_object() {
                *status = json!({});
            }
            set_conditions(status, conds, &conditions(old), now);
        }
        _ => copy_field(n, old, "status"),
    }
}

/// Sets `to[field]` to `from[field]`, or removes it when `from` has none.
fn copy_field(to: &mut Map<String, Value>, from: &Value, field: &str) {
    match from.get(field) {
        Some(v) => {
            to.insert(field.into(), v.clone());
        }
        None => {
            to.remove(field);
        }
    }
}

/// The conditions of a status (or of the object holding it).
fn conditions(v: &Value) -> Vec<Value> {
    let status = v.get("status").unwrap_or(v);
    status
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Stores `conds` with upstream's `populateConditionTimestamps`: a missing
/// lastUpdateTime is now; a missing lastTransitionTime is that of the old
/// condition of the same type and status, else now.
fn set_conditions(status: &mut Value, mut conds: Vec<Value>, old: &[Value], now: &str) {
    let unset = |v: Option<&Value>| v.is_none_or(|t| t.is_null() || t.as_str() == Some(""));
    for c in conds.iter_mut() {
        let Some(m) = c.as_object_mut() else { continue };
        if unset(m.get("lastUpdateTime")) {
            m.insert("lastUpdateTime".into(), json!(now));
        }
        if unset(m.get("lastTransitionTime")) {
            let kept = old
                .iter()
                .find(|o| {
                    o.get("type") == m.get("type")
                        && o.get("status") == m.get("status")
                        && !unset(o.get("lastTransitionTime"))
                })
                .and_then(|o| o.get("lastTransitionTime").cloned());
            m.insert(
                "lastTransitionTime".into(),
                kept.unwrap_or_else(|| json!(now)),
            );
        }
    }
    let Some(s) = status.as_object_mut() else {
        return;
    };
    if conds.is_empty() {
        s.remove("conditions");
    } else {
        s.insert("conditions".into(), Value::Array(conds));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-01-02T03:04:05Z";

    fn old() -> Value {
        json!({
            "metadata": {"name": "c"},
            "spec": {"request": "UkVR", "signerName": "example.com/s", "usages": ["client auth"], "username": "alice"},
            "status": {"conditions": [
                {"type": "Failed", "status": "True", "lastUpdateTime": "t0", "lastTransitionTime": "t0"}
            ]}
        })
    }

    #[test]
    fn the_main_resource_keeps_spec_and_status() {
        let mut new = json!({
            "metadata": {"name": "c", "labels": {"a": "b"}},
            "spec": {"request": "T1RIRVI=", "username": "mallory"},
            "status": {"certificate": "Q0VSVA==", "conditions": []}
        });
        prepare_update(None, &mut new, &old(), NOW);
        assert_eq!(new["spec"], old()["spec"]);
        assert_eq!(new["status"], old()["status"]);
        assert_eq!(new["metadata"]["labels"]["a"], "b");
    }

    #[test]
    fn status_writes_cannot_approve_or_deny() {
        let mut stored = old();
        stored["status"]["conditions"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "Approved", "status": "True", "reason": "R", "lastUpdateTime": "t1", "lastTransitionTime": "t1"}));
        let mut new = json!({
            "spec": {"username": "mallory"},
            "status": {"certificate": "Q0VSVA==", "conditions": [
                {"type": "Denied", "status": "True"},
                {"type": "Failed", "status": "True", "lastUpdateTime": "t0", "lastTransitionTime": "t0"},
                {"type": "Extra", "status": "False"}
            ]}
        });
        prepare_update(Some("status"), &mut new, &stored, NOW);
        assert_eq!(new["spec"], stored["spec"]);
        assert_eq!(new["status"]["certificate"], "Q0VSVA==");
        let types: Vec<&str> = new["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        // Denied dropped, the stored Approved kept (moved last).
        assert_eq!(types, ["Failed", "Extra", "Approved"]);
        let extra = &new["status"]["conditions"][1];
        assert_eq!(
            (&extra["lastUpdateTime"], &extra["lastTransitionTime"]),
            (&json!(NOW), &json!(NOW))
        );
        assert_eq!(new["status"]["conditions"][2]["lastUpdateTime"], "t1");
    }

    #[test]
    fn approval_writes_only_conditions() {
        let mut new = json!({
            "spec": {"username": "mallory"},
            "status": {"certificate": "Q0VSVA==", "conditions": [
                {"type": "Failed", "status": "True"},
                {"type": "Approved", "status": "True", "reason": "OK"}
            ]}
        });
        prepare_update(Some("approval"), &mut new, &old(), NOW);
        assert_eq!(new["spec"], old()["spec"]);
        assert!(new["status"].get("certificate").is_none());
        let conds = new["status"]["conditions"].as_array().unwrap();
        // Same type and status as before: the old transition time stays.
        assert_eq!(conds[0]["lastTransitionTime"], "t0");
        assert_eq!(conds[0]["lastUpdateTime"], NOW);
        assert_eq!(conds[1]["lastTransitionTime"], NOW);
        // An approval without a status leaves no conditions.
        let mut none = json!({"metadata": {}});
        prepare_update(Some("approval"), &mut none, &json!({"spec": {}}), NOW);
        assert_eq!(none["status"], json!({}));
    }

    #[test]
    fn the_requester_replaces_what_the_client_claims() {
        let mut obj =
            json!({"spec": {"username": "root", "groups": ["system:masters"], "request": "x"}});
        set_requester(&mut obj, None);
        assert_eq!(obj["spec"], json!({"request": "x"}));
        let r = Requester {
            username: "system:node:n1".into(),
            uid: "u".into(),
            groups: vec!["system:nodes".into()],
            extra: BTreeMap::from([("k".to_string(), vec!["v".to_string()])]),
        };
        set_requester(&mut obj, Some(&r));
        assert_eq!(
            obj["spec"],
            json!({"request": "x", "username": "system:node:n1", "uid": "u",
                   "groups": ["system:nodes"], "extra": {"k": ["v"]}})
        );
    }
}

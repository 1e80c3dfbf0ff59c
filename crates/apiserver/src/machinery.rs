//! Object machinery every write goes through: system metadata on create
//! (uid, creationTimestamp, generation, generateName), what an update may
//! and may not change (identity, status vs spec), and when `generation`
//! grows.

use chrono::{SecondsFormat, Utc};
use ironclad_api::ResourceInfo;
use rand::Rng;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, Result};
use crate::objects::meta_mut;

/// The current time as Kubernetes writes timestamps (RFC 3339, seconds).
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Kinds whose `metadata.generation` counts changes of their desired state.
pub fn tracks_generation(info: &ResourceInfo) -> bool {
    matches!(
        (info.group, info.kind),
        ("apps", _)
            | ("", "ReplicationController")
            | ("batch", _)
            | ("networking.k8s.io", _)
            | ("discovery.k8s.io", "EndpointSlice")
            | ("", "Pod")
    )
}

/// Whether the resource has a `status` subresource, so that writes to the
/// main resource keep the stored status and `/status` writes keep the rest.
pub fn has_status(info: &ResourceInfo) -> bool {
    info.subresource("status").is_some()
}

const NAME_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The name made from `generateName`: the prefix and five random
/// characters from upstream's alphabet (no vowels, no look-alikes).
pub fn generate_name(prefix: &str) -> String {
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| NAME_CHARS[rng.random_range(0..NAME_CHARS.len())] as char)
        .collect();
    // Upstream truncates the prefix so the name fits in 63 characters.
    let keep = prefix.len().min(58);
    let mut cut = keep;
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &prefix[..cut])
}

/// Checks the body's apiVersion/kind against the URL and fills them in.
pub fn check_type(
    info: &ResourceInfo,
    kind: &str,
    api_version: &str,
    obj: &mut Value,
) -> Result<()> {
    let Some(o) = obj.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the request body is not a JSON object",
        ));
    };
    match o.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            o.insert("kind".into(), json!(kind));
        }
        Some(k) if k == kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({kind})"
            )));
        }
    }
    match o.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            o.insert("apiVersion".into(), json!(api_version));
        }
        Some(v) if v == api_version => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
    }
    let _ = info;
    Ok(())
}

/// Checks the body's namespace against the URL's and fills it in.
pub fn check_namespace(info: &ResourceInfo, url_ns: Option<&str>, obj: &mut Value) -> Result<()> {
    let Some(m) = meta_mut(obj) else {
        return Err(ApiError::bad_request(
            "the request body is not a JSON object",
        ));
    };
    if !info.namespaced {
        // Upstream clears a namespace sent for a cluster-scoped object.
        m.remove("namespace");
        return Ok(());
    }
    let url_ns = url_ns.unwrap_or_default();
    match m.get("namespace").and_then(Value::as_str) {
        None | Some("") => {
            m.insert("namespace".into(), json!(url_ns));
        }
        Some(ns) if ns == url_ns => {}
        Some(_) => {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    }
    Ok(())
}

/// System metadata of a new object. The name is taken from `generateName`
/// when none is given.
pub fn prepare_create(info: &ResourceInfo, obj: &mut Value) {
    let Some(m) = meta_mut(obj) else { return };
    let has_name = m
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !has_name
        && let Some(prefix) = m
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
    {
        let name = generate_name(prefix);
        m.insert("name".into(), json!(name));
    }
    m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    m.insert("creationTimestamp".into(), json!(now()));
    for f in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        m.remove(f);
    }
    if tracks_generation(info) {
        m.insert("generation".into(), json!(1));
    } else {
        m.remove("generation");
    }
    // A new object's status is the system's to fill, except where the client
    // legitimately sets it (nodes report theirs; events carry none).
    if has_status(info)
        && !matches!(info.kind, "Node" | "Namespace")
        && let Some(o) = obj.as_object_mut()
    {
        o.remove("status");
    }
}

/// The object's identity and system metadata, which no update may change.
const KEPT_META: &[&str] = &[
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
];

/// Carries what an update cannot change from `old` into `new`, keeps the
/// status (main resource) or everything but the status (`/status`), and
/// bumps `generation` when the desired state changed.
pub fn prepare_update(
    info: &ResourceInfo,
    new: &mut Value,
    old: &Value,
    subresource: Option<&str>,
) {
    // Upstream's CSR strategy: an update of the main resource keeps the
    // spec it was created with (and its status).
    if info.kind == "CertificateSigningRequest" && subresource.is_none() {
        ironclad_api::certificates::prepare_update(None, new, old, &now());
    }
    if subresource == Some("status") {
        let status = new.get("status").cloned();
        let mut merged = old.clone();
        if let Some(o) = merged.as_object_mut() {
            match status {
                Some(s) => {
                    o.insert("status".into(), s);
                }
                None => {
                    o.remove("status");
                }
            }
        }
        // managedFields travel with the new object (the caller records them).
        if let (Some(mf), Some(m)) = (
            new.get("metadata")
                .and_then(|m| m.get("managedFields"))
                .cloned(),
            meta_mut(&mut merged),
        ) {
            m.insert("managedFields".into(), mf);
        }
        // Upstream's Deployment status strategy resets only spec and
        // labels: the deployment controller records the rollout's
        // revision annotation with its status write.
        if (info.group, info.kind) == ("apps", "Deployment")
            && let Some(m) = meta_mut(&mut merged)
        {
            match new.get("metadata").and_then(|m| m.get("annotations")) {
                Some(a) => {
                    m.insert("annotations".into(), a.clone());
                }
                None => {
                    m.remove("annotations");
                }
            }
        }
        *new = merged;
        return;
    }
    let old_meta = old
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(m) = meta_mut(new) {
        for f in KEPT_META {
            match old_meta.get(*f) {
                Some(v) => {
                    m.insert((*f).into(), v.clone());
                }
                None => {
                    m.remove(*f);
                }
            }
        }
        m.remove("selfLink");
    }
    // A binding sets spec.nodeName and the PodScheduled condition at once.
    if has_status(info)
        && !matches!(info.kind, "Namespace" | "Node")
        && subresource != Some("binding")
        && let Some(o) = new.as_object_mut()
    {
        match old.get("status") {
            Some(s) => {
                o.insert("status".into(), s.clone());
            }
            None => {
                o.remove("status");
            }
        }
    }

    // Upstream's EndpointSlice strategy also counts label changes (the
    // EndpointSlice controller tracks its own writes by generation).
    let labels_changed =
        info.kind == "EndpointSlice" && old_meta.get("labels") != new.pointer("/metadata/labels");
    if tracks_generation(info) && (desired_state_changed(old, new) || labels_changed) {
        let g = old_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if let Some(m) = meta_mut(new) {
            m.insert("generation".into(), json!(g + 1));
        }
    }
}

/// Whether anything other than metadata and status differs.
pub fn desired_state_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| -> Map<String, Value> {
        let mut o = v.as_object().cloned().unwrap_or_default();
        o.remove("metadata");
        o.remove("status");
        o
    };
    strip(old) != strip(new)
}

/// Whether two versions of an object are the same apart from
/// resourceVersion and managedFields timestamps: such a write is a no-op
/// and is not stored (upstream skips it too, keeping the resourceVersion).
pub fn same_object(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(m) = meta_mut(&mut v) {
            m.remove("resourceVersion");
            if let Some(Value::Array(mf)) = m.get_mut("managedFields") {
                for e in mf.iter_mut() {
                    if let Some(e) = e.as_object_mut() {
                        e.remove("time");
                    }
                }
            }
        }
        v
    };
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironclad_api::registry::lookup;

    #[test]
    fn generate_name_keeps_the_prefix() {
        let n = generate_name("gen-");
        assert!(n.starts_with("gen-") && n.len() == 9, "{n}");
        assert_eq!(generate_name(&"x".repeat(80)).len(), 63);
    }

    #[test]
    fn update_keeps_identity_and_status_and_bumps_generation_on_spec() {
        let d = lookup("apps", "v1", "deployments").unwrap();
        let old = json!({"metadata": {"name": "d", "uid": "u1", "generation": 2, "creationTimestamp": "t"},
                         "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let mut new = json!({"metadata": {"name": "d", "uid": "evil", "labels": {"a": "b"}},
                             "spec": {"replicas": 1}, "status": {"replicas": 9}});
        prepare_update(d, &mut new, &old, None);
        assert_eq!(new["metadata"]["uid"], "u1");
        assert_eq!(new["metadata"]["generation"], 2);
        assert_eq!(new["status"]["replicas"], 1);
        let mut new = json!({"metadata": {"name": "d"}, "spec": {"replicas": 3}});
        prepare_update(d, &mut new, &old, None);
        assert_eq!(new["metadata"]["generation"], 3);
        let mut st =
            json!({"metadata": {"name": "d"}, "spec": {"replicas": 7}, "status": {"replicas": 5}});
        prepare_update(d, &mut st, &old, Some("status"));
        assert_eq!(st["spec"]["replicas"], 1);
        assert_eq!(st["status"]["replicas"], 5);
    }

    #[test]
    fn deployment_status_writes_keep_annotations_not_labels() {
        let d = lookup("apps", "v1", "deployments").unwrap();
        let old = json!({"metadata": {"name": "d", "labels": {"a": "b"}}, "spec": {"replicas": 1}});
        let mut st = json!({"metadata": {"name": "d", "labels": {"a": "x"},
                                         "annotations": {"deployment.kubernetes.io/revision": "2"}},
                            "status": {"replicas": 1}});
        prepare_update(d, &mut st, &old, Some("status"));
        assert_eq!(
            st["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "2"
        );
        assert_eq!(st["metadata"]["labels"]["a"], "b");
        // Other kinds keep all of their metadata.
        let rs = lookup("apps", "v1", "replicasets").unwrap();
        let mut st = json!({"metadata": {"name": "d", "annotations": {"x": "y"}}, "status": {}});
        prepare_update(rs, &mut st, &old, Some("status"));
        assert!(st["metadata"].get("annotations").is_none());
    }

    #[test]
    fn endpoint_slices_count_endpoint_and_label_changes() {
        let es = lookup("discovery.k8s.io", "v1", "endpointslices").unwrap();
        let old = json!({"metadata": {"name": "s", "generation": 1, "labels": {"a": "1"}},
                         "addressType": "IPv4", "endpoints": []});
        let mut same = old.clone();
        same["metadata"]["annotations"] = json!({"x": "y"});
        prepare_update(es, &mut same, &old, None);
        assert_eq!(same["metadata"]["generation"], 1);
        let mut relabeled = old.clone();
        relabeled["metadata"]["labels"] = json!({"a": "2"});
        prepare_update(es, &mut relabeled, &old, None);
        assert_eq!(relabeled["metadata"]["generation"], 2);
        let mut moved = old.clone();
        moved["endpoints"] = json!([{"addresses": ["10.0.0.1"]}]);
        prepare_update(es, &mut moved, &old, None);
        assert_eq!(moved["metadata"]["generation"], 2);
    }

    #[test]
    fn type_and_namespace_checks() {
        let cm = lookup("", "v1", "configmaps").unwrap();
        let mut o = json!({"metadata": {"name": "x"}});
        check_type(cm, "ConfigMap", "v1", &mut o).unwrap();
        check_namespace(cm, Some("a"), &mut o).unwrap();
        assert_eq!(o["kind"], "ConfigMap");
        assert_eq!(o["metadata"]["namespace"], "a");
        let mut o = json!({"kind": "Secret"});
        assert!(check_type(cm, "ConfigMap", "v1", &mut o).is_err());
        let mut o = json!({"metadata": {"namespace": "b"}});
        assert!(check_namespace(cm, Some("a"), &mut o).is_err());
    }
}

//! Defaulting: the values upstream's `pkg/apis/*/v1/defaults.go` (and a
//! few registry strategies) fill in before validation, applied in place to
//! the object's JSON so that unknown shapes survive. Fields of the wrong
//! JSON type are left alone for validation to report.

mod kinds;
mod pod;
mod status;
mod workloads;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

pub use crate::validation::batch::{job_name_labels, job_selector_labels};
pub use workloads::generate_job_selector;

use crate::registry::ResourceInfo;

/// Fills in the defaults of the object's kind.
pub fn apply(info: &ResourceInfo, obj: &mut Value) {
    let Some(o) = obj.as_object_mut() else { return };
    match (info.group, info.kind) {
        ("", "Pod") => pod::pod(o),
        ("", "PodTemplate") => {
            if let Some(t) = child(o, "template") {
                pod::template(t);
            }
        }
        ("", "ReplicationController") => workloads::replication_controller(o),
        ("apps", "Deployment") => workloads::deployment(o),
        ("apps", "ReplicaSet") => workloads::replica_set(o),
        ("apps", "DaemonSet") => workloads::daemon_set(o),
        ("apps", "StatefulSet") => workloads::stateful_set(o),
        ("batch", "Job") => workloads::job(o),
        ("batch", "CronJob") => workloads::cron_job(o),
        ("", "Service") => kinds::service(o),
        ("", "Secret") => kinds::secret(o),
        ("", "Namespace") => kinds::namespace(o),
        ("", "Node") => kinds::node(o),
        ("", "Endpoints") => kinds::endpoints(o),
        ("discovery.k8s.io", "EndpointSlice") => kinds::endpoint_slice(o),
        ("", "LimitRange") => kinds::limit_range(o),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => kinds::binding(o),
        ("apiregistration.k8s.io", "APIService") => kinds::api_service(o),
        _ => {}
    }
    status::zero(info.group, info.kind, o);
}

/// The object under `key`, if it is one.
pub(crate) fn child<'a>(
    m: &'a mut Map<String, Value>,
    key: &str,
) -> Option<&'a mut Map<String, Value>> {
    m.get_mut(key).and_then(Value::as_object_mut)
}

/// The object under `key`, created when absent or null.
pub(crate) fn child_or_insert<'a>(
    m: &'a mut Map<String, Value>,
    key: &str,
) -> Option<&'a mut Map<String, Value>> {
    let slot = m.entry(key).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

/// Each object in the array under `key`.
pub(crate) fn each<'a>(
    m: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    m.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// Sets `key` when absent or null (upstream's nil pointer).
pub(crate) fn set(m: &mut Map<String, Value>, key: &str, v: Value) {
    let slot = m.entry(key).or_insert(Value::Null);
    if slot.is_null() {
        *slot = v;
    }
}

/// Sets a string `key` when absent, null or empty (upstream's "").
pub(crate) fn set_str(m: &mut Map<String, Value>, key: &str, v: &str) {
    let slot = m.entry(key).or_insert(Value::Null);
    if slot.is_null() || slot.as_str() == Some("") {
        *slot = Value::String(v.to_string());
    }
}

/// Sets a number `key` when absent, null or zero (upstream's non-pointer 0).
pub(crate) fn set_nonzero(m: &mut Map<String, Value>, key: &str, v: i64) {
    let slot = m.entry(key).or_insert(Value::Null);
    if slot.is_null() || slot.as_i64() == Some(0) {
        *slot = Value::from(v);
    }
}

/// The string under `key` ("" when absent or not a string).
pub(crate) fn str_of<'a>(m: &'a Map<String, Value>, key: &str) -> &'a str {
    m.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Whether the value under `key` is a non-empty object.
pub(crate) fn has_entries(m: &Map<String, Value>, key: &str) -> bool {
    m.get(key)
        .and_then(Value::as_object)
        .is_some_and(|o| !o.is_empty())
}

//! The status a new object shows before anything has written one: the
//! zero value of upstream's status struct as Go serializes it (a struct
//! field is never omitted, and counters without `omitempty` show 0).
//! Clients rely on it: the Python client, for one, checks that a created
//! Service has a status.

use serde_json::{Map, Value, json};

/// Fills in `status` when absent or null.
pub(super) fn zero(group: &str, kind: &str, o: &mut Map<String, Value>) {
    let zero = match (group, kind) {
        ("", "Service") => json!({"loadBalancer": {}}),
        ("networking.k8s.io", "Ingress") => json!({"loadBalancer": {}}),
        ("", "ReplicationController") | ("apps", "ReplicaSet") => json!({"replicas": 0}),
        ("apps", "StatefulSet") => json!({"replicas": 0, "availableReplicas": 0}),
        ("apps", "DaemonSet") => json!({
            "currentNumberScheduled": 0,
            "numberMisscheduled": 0,
            "desiredNumberScheduled": 0,
            "numberReady": 0,
        }),
        ("apps", "Deployment")
        | ("batch", "Job")
        | ("batch", "CronJob")
        | ("", "ResourceQuota")
        | ("apiregistration.k8s.io", "APIService")
        | ("certificates.k8s.io", "CertificateSigningRequest") => json!({}),
        _ => return,
    };
    if o.get("status").is_none_or(Value::is_null) {
        o.insert("status".into(), zero);
    }
}

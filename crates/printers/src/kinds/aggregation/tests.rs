use serde_json::json;

use crate::tests::{ago, cells, column_names, info, wide_columns};

#[test]
fn api_services() {
    let a = info("apiregistration.k8s.io", "apiservices");
    assert_eq!(column_names(a), ["Name", "Service", "Available", "Age"]);
    assert!(wide_columns(a).is_empty());
    let local = json!({
        "metadata": {"name": "v1.apps", "creationTimestamp": ago(86400)},
        "spec": {"group": "apps", "version": "v1", "groupPriorityMinimum": 17800, "versionPriority": 15},
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]},
    });
    assert_eq!(
        cells(a, local),
        [
            json!("v1.apps"),
            json!("Local"),
            json!("True"),
            json!("24h")
        ]
    );
    let remote = json!({
        "metadata": {"name": "v1beta1.metrics.k8s.io", "creationTimestamp": ago(120)},
        "spec": {"service": {"namespace": "kube-system", "name": "metrics-server", "port": 443}},
        "status": {"conditions": [{"type": "Available", "status": "False",
            "reason": "MissingEndpoints"}]},
    });
    assert_eq!(
        cells(a, remote),
        [
            json!("v1beta1.metrics.k8s.io"),
            json!("kube-system/metrics-server"),
            json!("False (MissingEndpoints)"),
            json!("2m"),
        ]
    );
    // No condition yet: Unknown; a false one without a reason: False.
    let pending =
        json!({"metadata": {"name": "v1.x"}, "spec": {"service": {"namespace": "n", "name": "s"}}});
    assert_eq!(cells(a, pending)[2], "Unknown");
    let bare = json!({"metadata": {"name": "v1.x"},
        "status": {"conditions": [{"type": "Available", "status": "False"}]}});
    assert_eq!(cells(a, bare)[2], "False");
}

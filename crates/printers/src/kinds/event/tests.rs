use serde_json::json;

use crate::tests::{ago, cells, column_names, info, wide_columns};

#[test]
fn columns_are_upstreams() {
    for (group, plural) in [("", "events"), ("events.k8s.io", "events")] {
        let e = info(group, plural);
        assert_eq!(
            column_names(e),
            [
                "Last Seen",
                "Type",
                "Reason",
                "Object",
                "Subobject",
                "Source",
                "Message",
                "First Seen",
                "Count",
                "Name"
            ]
        );
        assert_eq!(
            wide_columns(e),
            ["Subobject", "Source", "First Seen", "Count", "Name"]
        );
    }
}

#[test]
fn a_core_event() {
    let ev = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web-0.17c3a", "namespace": "default", "creationTimestamp": ago(3600)},
        "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default",
                           "fieldPath": "spec.containers{app}"},
        "reason": "BackOff", "type": "Warning",
        "message": "Back-off restarting failed container app\n",
        "source": {"component": "kubelet", "host": "node-a"},
        "firstTimestamp": ago(3600), "lastTimestamp": ago(120), "count": 5,
    });
    assert_eq!(
        cells(info("", "events"), ev),
        [
            json!("2m"),
            json!("Warning"),
            json!("BackOff"),
            json!("pod/web-0"),
            json!("spec.containers{app}"),
            json!("kubelet, node-a"),
            json!("Back-off restarting failed container app"),
            json!("60m"),
            json!(5),
            json!("web-0.17c3a"),
        ]
    );
}

#[test]
fn events_of_the_new_api() {
    // Written by a client of events.k8s.io but read back as core/v1: no
    // legacy timestamps or count, an eventTime and a reporting controller.
    let singleton = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "n1.1"},
        "involvedObject": {"kind": "Node", "name": ""},
        "reason": "Starting", "type": "Normal", "message": "Starting kubelet.",
        "eventTime": "2024-05-01T11:59:15.123456Z",
        "reportingComponent": "kubelet", "reportingInstance": "n1",
    });
    let c = cells(info("", "events"), singleton);
    assert_eq!(c[0], "44s");
    assert_eq!(c[3], "node");
    assert_eq!(c[5], "kubelet, n1");
    assert_eq!((&c[7], &c[8]), (&json!("44s"), &json!(1)));

    let series = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "e.2", "namespace": "ns"},
        "regarding": {"kind": "Deployment", "name": "web"},
        "reason": "ScalingReplicaSet", "type": "Normal", "note": "Scaled up",
        "eventTime": ago(600),
        "series": {"count": 7, "lastObservedTime": ago(45)},
        "reportingController": "deployment-controller",
        "deprecatedSource": {"component": ""},
    });
    let c = cells(info("events.k8s.io", "events"), series);
    assert_eq!(
        c,
        [
            json!("45s"),
            json!("Normal"),
            json!("ScalingReplicaSet"),
            json!("deployment/web"),
            json!(""),
            json!("deployment-controller"),
            json!("Scaled up"),
            json!("10m"),
            json!(7),
            json!("e.2"),
        ]
    );
    let timeless = cells(info("", "events"), json!({"metadata": {"name": "x"}}));
    assert_eq!(
        (&timeless[0], &timeless[7]),
        (&json!("<unknown>"), &json!("<unknown>"))
    );
}

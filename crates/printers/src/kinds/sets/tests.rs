use serde_json::{Value, json};

use crate::tests::{ago, cells, column_names, info, wide_columns};

fn template() -> Value {
    json!({
        "metadata": {"labels": {"app": "agent"}},
        "spec": {
            "nodeSelector": {"kubernetes.io/os": "linux", "disk": "ssd"},
            "containers": [
                {"name": "agent", "image": "agent:2"},
                {"name": "sidecar", "image": "busybox:1.36"},
            ],
        },
    })
}

#[test]
fn daemon_sets() {
    let ds = info("apps", "daemonsets");
    assert_eq!(
        column_names(ds),
        [
            "Name",
            "Desired",
            "Current",
            "Ready",
            "Up-to-date",
            "Available",
            "Node Selector",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ]
    );
    assert_eq!(wide_columns(ds), ["Containers", "Images", "Selector"]);
    let obj = json!({
        "metadata": {"name": "agent", "creationTimestamp": ago(3 * 3600)},
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template()},
        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                   "updatedNumberScheduled": 1, "numberAvailable": 2},
    });
    assert_eq!(
        cells(ds, obj),
        [
            json!("agent"),
            json!(3),
            json!(3),
            json!(2),
            json!(1),
            json!(2),
            json!("disk=ssd,kubernetes.io/os=linux"),
            json!("3h"),
            json!("agent,sidecar"),
            json!("agent:2,busybox:1.36"),
            json!("app=agent"),
        ]
    );
    // A new daemon set: no status yet, no node selector.
    let c = cells(ds, json!({"metadata": {"name": "x"}, "spec": {}}));
    assert_eq!(
        c[1..7],
        [
            json!(0),
            json!(0),
            json!(0),
            json!(0),
            json!(0),
            json!("<none>")
        ]
    );
    assert_eq!(c[10], "<none>");
}

#[test]
fn stateful_sets() {
    let sts = info("apps", "statefulsets");
    assert_eq!(
        column_names(sts),
        ["Name", "Ready", "Age", "Containers", "Images"]
    );
    assert_eq!(wide_columns(sts), ["Containers", "Images"]);
    let obj = json!({
        "metadata": {"name": "db", "creationTimestamp": ago(600)},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "agent"}}, "template": template()},
        "status": {"replicas": 3, "readyReplicas": 2},
    });
    assert_eq!(
        cells(sts, obj),
        [
            json!("db"),
            json!("2/3"),
            json!("10m"),
            json!("agent,sidecar"),
            json!("agent:2,busybox:1.36"),
        ]
    );
    // Replicas default to one; scaled to zero prints 0/0.
    let c = cells(sts, json!({"metadata": {"name": "x"}}));
    assert_eq!(c[1], "0/1");
    let c = cells(
        sts,
        json!({"metadata": {"name": "x"}, "spec": {"replicas": 0}}),
    );
    assert_eq!(c[1], "0/0");
}

use serde_json::{Value, json};

use crate::tests::{ago, cells, column_names, info, wide_columns};

fn template() -> Value {
    json!({
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [
            {"name": "nginx", "image": "nginx:1.25"},
            {"name": "exporter", "image": "prom/nginx-exporter:0.11"},
        ]},
    })
}

#[test]
fn deployments() {
    let d = info("apps", "deployments");
    assert_eq!(
        column_names(d),
        [
            "Name",
            "Ready",
            "Up-to-date",
            "Available",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ]
    );
    assert_eq!(wide_columns(d), ["Containers", "Images", "Selector"]);
    let dep = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(600)},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": template(),
        },
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    });
    assert_eq!(
        cells(d, dep),
        [
            json!("web"),
            json!("2/3"),
            json!(3),
            json!(2),
            json!("10m"),
            json!("nginx,exporter"),
            json!("nginx:1.25,prom/nginx-exporter:0.11"),
            json!("app=web"),
        ]
    );
    // Defaults: one replica; a missing selector prints as "".
    let bare = json!({"metadata": {"name": "x"}, "spec": {"template": template()}});
    let c = cells(d, bare);
    assert_eq!(
        (&c[1], &c[2], &c[7]),
        (&json!("0/1"), &json!(0), &json!(""))
    );
}

#[test]
fn replica_sets_and_replication_controllers() {
    let rs = info("apps", "replicasets");
    assert_eq!(
        column_names(rs),
        [
            "Name",
            "Desired",
            "Current",
            "Ready",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ]
    );
    let obj = json!({
        "metadata": {"name": "web-7d4b9", "creationTimestamp": ago(45 * 86400)},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d4b9"},
                         "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
            "template": template(),
        },
        "status": {"replicas": 3, "readyReplicas": 1},
    });
    assert_eq!(
        cells(rs, obj),
        [
            json!("web-7d4b9"),
            json!(3),
            json!(3),
            json!(1),
            json!("45d"),
            json!("nginx,exporter"),
            json!("nginx:1.25,prom/nginx-exporter:0.11"),
            json!("app=web,pod-template-hash=7d4b9,tier notin (db)"),
        ]
    );
    assert_eq!(cells(rs, json!({"metadata": {"name": "x"}}))[7], "<none>");

    let rc = info("", "replicationcontrollers");
    assert_eq!(column_names(rc), column_names(rs));
    let obj = json!({
        "metadata": {"name": "legacy", "creationTimestamp": ago(90)},
        "spec": {"replicas": 2, "selector": {"app": "legacy"}, "template": template()},
        "status": {"replicas": 2, "readyReplicas": 2},
    });
    let c = cells(rc, obj);
    assert_eq!(
        c[..5],
        [json!("legacy"), json!(2), json!(2), json!(2), json!("90s")]
    );
    assert_eq!(c[7], "app=legacy");
    // No template: empty container cells.
    let c = cells(rc, json!({"metadata": {"name": "t"}}));
    assert_eq!(
        c[1..],
        [
            json!(1),
            json!(0),
            json!(0),
            json!("<unknown>"),
            json!(""),
            json!(""),
            json!("<none>")
        ]
    );
}

fn job(status: Value) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "pi", "creationTimestamp": ago(300)},
        "spec": {
            "completions": 1, "parallelism": 1,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
            "template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34"}]}},
        },
        "status": status,
    })
}

#[test]
fn jobs() {
    let j = info("batch", "jobs");
    assert_eq!(
        column_names(j),
        [
            "Name",
            "Status",
            "Completions",
            "Duration",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ]
    );
    let complete = job(json!({
        "startTime": ago(290), "completionTime": ago(260), "succeeded": 1,
        "conditions": [{"type": "SuccessCriteriaMet", "status": "True"},
                       {"type": "Complete", "status": "True"}],
    }));
    assert_eq!(
        cells(j, complete),
        [
            json!("pi"),
            json!("Complete"),
            json!("1/1"),
            json!("30s"),
            json!("5m"),
            json!("pi"),
            json!("perl:5.34"),
            json!("batch.kubernetes.io/controller-uid=u1"),
        ]
    );
    let running = job(json!({"startTime": ago(200), "active": 1}));
    let c = cells(j, running);
    assert_eq!(c[1..4], [json!("Running"), json!("0/1"), json!("3m20s")]);
    let status = |conditions: Value| cells(j, job(json!({"conditions": conditions})))[1].clone();
    assert_eq!(
        status(json!([{"type": "Failed", "status": "True"}])),
        "Failed"
    );
    assert_eq!(
        status(json!([{"type": "Suspended", "status": "True"}])),
        "Suspended"
    );
    assert_eq!(
        status(json!([{"type": "FailureTarget", "status": "True"}])),
        "FailureTarget"
    );
    assert_eq!(
        status(json!([{"type": "Complete", "status": "False"}])),
        "Running"
    );
    let mut deleting = job(json!({}));
    deleting["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(cells(j, deleting)[1], "Terminating");
    // No start time: no duration.
    assert_eq!(cells(j, job(json!({})))[3], "");

    let parallel = json!({"metadata": {"name": "w"}, "spec": {"parallelism": 3},
                          "status": {"succeeded": 2}});
    assert_eq!(cells(j, parallel)[2], "2/1 of 3");
    assert_eq!(cells(j, json!({"metadata": {"name": "w"}}))[2], "0/1");
}

#[test]
fn cron_jobs() {
    let cj = info("batch", "cronjobs");
    assert_eq!(
        column_names(cj),
        [
            "Name",
            "Schedule",
            "Timezone",
            "Suspend",
            "Active",
            "Last Schedule",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ]
    );
    let obj = json!({
        "metadata": {"name": "backup", "creationTimestamp": ago(8 * 86400)},
        "spec": {
            "schedule": "*/5 * * * *", "suspend": false,
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [
                {"name": "backup", "image": "restic:0.16"}]}}}},
        },
        "status": {"active": [{"name": "backup-1"}], "lastScheduleTime": ago(182)},
    });
    assert_eq!(
        cells(cj, obj),
        [
            json!("backup"),
            json!("*/5 * * * *"),
            json!("<none>"),
            json!("False"),
            json!(1),
            json!("3m2s"),
            json!("8d"),
            json!("backup"),
            json!("restic:0.16"),
            json!("<none>"),
        ]
    );
    let tz = json!({"metadata": {"name": "t"},
                    "spec": {"schedule": "0 0 * * *", "timeZone": "Etc/UTC", "suspend": true}});
    let c = cells(cj, tz);
    assert_eq!(
        c[2..6],
        [json!("Etc/UTC"), json!("True"), json!(0), json!("<none>")]
    );
    assert_eq!(cells(cj, json!({}))[3], "<unset>");
}

#[test]
fn pod_templates() {
    let pt = info("", "podtemplates");
    assert_eq!(
        column_names(pt),
        ["Name", "Containers", "Images", "Pod Labels"]
    );
    assert!(wide_columns(pt).is_empty());
    let obj = json!({"metadata": {"name": "tpl"}, "template": template()});
    assert_eq!(
        cells(pt, obj),
        [
            json!("tpl"),
            json!("nginx,exporter"),
            json!("nginx:1.25,prom/nginx-exporter:0.11"),
            json!("app=web"),
        ]
    );
    assert_eq!(cells(pt, json!({}))[3], "<none>");
}

#[test]
fn controller_revisions() {
    let cr = info("apps", "controllerrevisions");
    assert_eq!(column_names(cr), ["Name", "Controller", "Revision", "Age"]);
    let obj = json!({
        "metadata": {"name": "web-6b7c", "creationTimestamp": ago(86400),
                     "ownerReferences": [
                         {"apiVersion": "v1", "kind": "ConfigMap", "name": "other"},
                         {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web",
                          "controller": true}]},
        "revision": 3,
    });
    assert_eq!(
        cells(cr, obj),
        [
            json!("web-6b7c"),
            json!("statefulset.apps/web"),
            json!(3),
            json!("24h")
        ]
    );
    let core_owner = json!({"metadata": {"ownerReferences": [
        {"apiVersion": "v1", "kind": "Pod", "name": "p", "controller": true}]}});
    assert_eq!(cells(cr, core_owner)[1], "pod/p");
    assert_eq!(cells(cr, json!({"metadata": {"name": "x"}}))[1], "<none>");
}

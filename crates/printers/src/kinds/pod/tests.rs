use serde_json::{Value, json};

use crate::tests::{ago, cells, column_names, info, wide_columns};

fn pods(obj: Value) -> Vec<Value> {
    cells(info("", "pods"), obj)
}

fn pod(spec: Value, status: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default", "creationTimestamp": ago(3 * 3600)},
        "spec": spec,
        "status": status,
    })
}

fn one_container() -> Value {
    json!({"containers": [{"name": "app", "image": "nginx:1.25"}]})
}

/// (READY, STATUS, RESTARTS) of a pod.
fn summary(p: Value) -> (String, String, String) {
    let c = pods(p);
    (
        c[1].as_str().unwrap().to_string(),
        c[2].as_str().unwrap().to_string(),
        c[3].as_str().unwrap().to_string(),
    )
}

fn s(ready: &str, status: &str, restarts: &str) -> (String, String, String) {
    (ready.into(), status.into(), restarts.into())
}

#[test]
fn columns_are_upstreams() {
    assert_eq!(
        column_names(info("", "pods")),
        [
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
            "IP",
            "Node",
            "Nominated Node",
            "Readiness Gates"
        ]
    );
    assert_eq!(
        wide_columns(info("", "pods")),
        ["IP", "Node", "Nominated Node", "Readiness Gates"]
    );
}

#[test]
fn a_running_pod() {
    let p = pod(
        json!({
            "nodeName": "node-a",
            "containers": [{"name": "app", "image": "nginx"}, {"name": "log", "image": "busybox"}],
        }),
        json!({
            "phase": "Running",
            "podIP": "10.244.1.7", "podIPs": [{"ip": "10.244.1.7"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {"name": "app", "ready": true, "restartCount": 1, "state": {"running": {}},
                 "lastState": {"terminated": {"exitCode": 137, "finishedAt": ago(300)}}},
                {"name": "log", "ready": true, "restartCount": 0, "state": {"running": {}}},
            ],
        }),
    );
    assert_eq!(
        pods(p),
        json!([
            "web-0",
            "2/2",
            "Running",
            "1 (5m ago)",
            "3h",
            "10.244.1.7",
            "node-a",
            "<none>",
            "<none>"
        ])
        .as_array()
        .unwrap()
        .clone()
    );
}

#[test]
fn waiting_and_crashing_containers() {
    let creating = pod(
        one_container(),
        json!({"phase": "Pending", "containerStatuses": [
            {"name": "app", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "ContainerCreating"}}},
        ]}),
    );
    let c = pods(creating.clone());
    assert_eq!(
        c[1..4],
        [json!("0/1"), json!("ContainerCreating"), json!("0")]
    );
    assert_eq!(
        c[5..],
        [
            json!("<none>"),
            json!("<none>"),
            json!("<none>"),
            json!("<none>")
        ]
    );

    let crashing = pod(
        one_container(),
        json!({"phase": "Running", "containerStatuses": [
            {"name": "app", "ready": false, "restartCount": 5,
             "state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(30)}}},
        ]}),
    );
    assert_eq!(
        summary(crashing),
        s("0/1", "CrashLoopBackOff", "5 (30s ago)")
    );

    let pending = pod(one_container(), json!({"phase": "Pending"}));
    assert_eq!(summary(pending), s("0/1", "Pending", "0"));
    let gated = pod(
        one_container(),
        json!({"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"},
        ]}),
    );
    assert_eq!(summary(gated), s("0/1", "SchedulingGated", "0"));
}

#[test]
fn finished_pods_and_their_conditions() {
    let completed = pod(
        one_container(),
        json!({"phase": "Succeeded", "containerStatuses": [
            {"name": "app", "ready": false, "restartCount": 0,
             "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        ]}),
    );
    let t = crate::table(
        info("", "pods"),
        std::slice::from_ref(&completed),
        crate::IncludeObject::None,
        crate::tests::now(),
    );
    assert_eq!(
        t["rows"][0]["conditions"],
        json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
                "message": "The pod has completed successfully."}])
    );
    assert_eq!(summary(completed), s("0/1", "Completed", "0"));

    let failed = pod(
        one_container(),
        json!({"phase": "Failed", "containerStatuses": [
            {"name": "app", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}},
        ]}),
    );
    let t = crate::table(
        info("", "pods"),
        std::slice::from_ref(&failed),
        crate::IncludeObject::None,
        crate::tests::now(),
    );
    assert_eq!(t["rows"][0]["conditions"][0]["reason"], "Failed");
    assert_eq!(t["rows"][0]["conditions"][0]["message"], "The pod failed.");
    assert_eq!(summary(failed), s("0/1", "Error", "0"));

    let signalled = pod(
        one_container(),
        json!({"phase": "Failed", "containerStatuses": [
            {"name": "app", "state": {"terminated": {"exitCode": 137, "signal": 9}}},
        ]}),
    );
    assert_eq!(summary(signalled).1, "Signal:9");
    let exited = pod(
        one_container(),
        json!({"phase": "Failed", "containerStatuses": [
            {"name": "app", "state": {"terminated": {"exitCode": 2}}},
        ]}),
    );
    assert_eq!(summary(exited).1, "ExitCode:2");
    let evicted = pod(
        one_container(),
        json!({"phase": "Failed", "reason": "Evicted"}),
    );
    assert_eq!(summary(evicted).1, "Evicted");
}

#[test]
fn deletion_shows_terminating_or_unknown() {
    let mut p = pod(
        one_container(),
        json!({"phase": "Running", "containerStatuses": [
            {"name": "app", "ready": true, "state": {"running": {}}},
        ]}),
    );
    p["metadata"]["deletionTimestamp"] = json!(ago(5));
    assert_eq!(summary(p.clone()), s("1/1", "Terminating", "0"));
    p["status"]["reason"] = json!("NodeLost");
    assert_eq!(summary(p.clone()).1, "Unknown");
    // A finished pod being deleted keeps its final status.
    let mut done = pod(one_container(), json!({"phase": "Succeeded"}));
    done["metadata"]["deletionTimestamp"] = json!(ago(5));
    assert_eq!(summary(done).1, "Succeeded");
}

#[test]
fn init_containers() {
    let spec = json!({
        "initContainers": [{"name": "migrate", "image": "m"}, {"name": "seed", "image": "s"}],
        "containers": [{"name": "app", "image": "a"}],
    });
    let status = |second: Value| {
        json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "migrate", "restartCount": 0, "state": {"terminated": {"exitCode": 0}}},
            second,
        ], "containerStatuses": [
            {"name": "app", "state": {"waiting": {"reason": "PodInitializing"}}},
        ]})
    };
    let running = status(json!({"name": "seed", "restartCount": 0, "state": {"running": {}}}));
    assert_eq!(
        summary(pod(spec.clone(), running)),
        s("0/1", "Init:1/2", "0")
    );
    let pulling = status(json!({"name": "seed", "restartCount": 3,
        "state": {"waiting": {"reason": "ErrImagePull"}}}));
    assert_eq!(
        summary(pod(spec.clone(), pulling)),
        s("0/1", "Init:ErrImagePull", "3")
    );
    let error = status(json!({"name": "seed",
        "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}));
    assert_eq!(summary(pod(spec.clone(), error)).1, "Init:Error");
    let exit = status(json!({"name": "seed", "state": {"terminated": {"exitCode": 3}}}));
    assert_eq!(summary(pod(spec.clone(), exit)).1, "Init:ExitCode:3");
    let signal =
        status(json!({"name": "seed", "state": {"terminated": {"exitCode": 1, "signal": 15}}}));
    assert_eq!(summary(pod(spec.clone(), signal)).1, "Init:Signal:15");
    let initializing =
        status(json!({"name": "seed", "state": {"waiting": {"reason": "PodInitializing"}}}));
    assert_eq!(summary(pod(spec, initializing)).1, "Init:1/2");
}

#[test]
fn sidecars_count_towards_ready_and_restarts() {
    let spec = json!({
        "initContainers": [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}],
        "containers": [{"name": "app", "image": "a"}],
    });
    let status = json!({
        "phase": "Running",
        "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
        "initContainerStatuses": [
            {"name": "proxy", "ready": true, "started": true, "restartCount": 2,
             "state": {"running": {}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(7200)}}},
        ],
        "containerStatuses": [
            {"name": "app", "ready": true, "restartCount": 1, "state": {"running": {}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(600)}}},
        ],
    });
    assert_eq!(
        summary(pod(spec, status)),
        s("2/2", "Running", "3 (10m ago)")
    );
}

#[test]
fn a_completed_container_beside_a_running_one() {
    let spec = json!({"containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]});
    let status = |ready: &str| {
        json!({"phase": "Running", "conditions": [{"type": "Ready", "status": ready}],
        "containerStatuses": [
            {"name": "a", "ready": true, "state": {"running": {}}},
            {"name": "b", "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        ]})
    };
    assert_eq!(
        summary(pod(spec.clone(), status("True"))),
        s("1/2", "Running", "0")
    );
    assert_eq!(
        summary(pod(spec, status("False"))),
        s("1/2", "NotReady", "0")
    );
}

#[test]
fn wide_columns_show_ip_nodes_and_readiness_gates() {
    let p = pod(
        json!({"nodeName": "node-b", "containers": [{"name": "a"}],
               "readinessGates": [{"conditionType": "lb/ready"}, {"conditionType": "x/ok"}]}),
        json!({"phase": "Pending", "podIP": "10.0.0.9", "nominatedNodeName": "node-c",
               "conditions": [{"type": "lb/ready", "status": "True"}, {"type": "x/ok", "status": "False"}]}),
    );
    let c = pods(p);
    assert_eq!(
        c[5..],
        [
            json!("10.0.0.9"),
            json!("node-b"),
            json!("node-c"),
            json!("1/2")
        ]
    );
    assert_eq!(pods(json!({}))[4], "<unknown>");
}

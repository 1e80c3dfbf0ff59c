//! The node lifecycle controller against a real API server, with short
//! grace and eviction periods: a node whose Lease stops being renewed turns
//! Unknown and is tainted, its pods are marked not ready and evicted when
//! their tolerations run out, and it is untainted when it comes back; pods
//! of vanished nodes are collected.
//!
//! The ReplicationController that would recreate the evicted pods
//! elsewhere is another controller; here the evictions themselves are
//! checked.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ironclad_controllers::{Config, Context, nodelifecycle};
use ironclad_testkit::{PodState, TestCluster, eventually, fake_node, mark_pod};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(15);

fn config() -> Config {
    Config {
        node_monitor_grace_period: Duration::from_millis(1500),
        pod_eviction_timeout: Duration::from_secs(1),
        ..Config::default()
    }
}

/// A kubelet's heartbeat: renews `node`'s Lease every 200 ms while `alive`.
fn heartbeat(client: &Client, node: &str, alive: Arc<AtomicBool>) {
    let leases = Api::<Lease>::namespaced(client.clone(), "kube-node-lease");
    let node = node.to_string();
    tokio::spawn(async move {
        let lease: Lease = serde_json::from_value(json!({
            "metadata": {"name": node},
            "spec": {"holderIdentity": node, "leaseDurationSeconds": 40}
        }))
        .unwrap();
        let _ = leases.create(&PostParams::default(), &lease).await;
        loop {
            if alive.load(Ordering::SeqCst) {
                let renew = json!({"spec": {"renewTime": MicroTime(Timestamp::now())}});
                let _ = leases
                    .patch(&node, &PatchParams::default(), &Patch::Merge(&renew))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
}

async fn bound_pod(client: &Client, name: &str, node: &str, tolerations: serde_json::Value) -> Pod {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "tolerations": tolerations,
            "containers": [{"name": "c", "image": "nginx"}]
        }
    }))
    .unwrap();
    let pod = Api::<Pod>::default_namespaced(client.clone())
        .create(&PostParams::default(), &pod)
        .await
        .unwrap();
    mark_pod(client, &pod, PodState::RunningReady)
        .await
        .unwrap()
}

fn ready_status(node: &Node) -> Option<(String, Option<String>)> {
    let c = node
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?;
    Some((c.status.clone(), c.reason.clone()))
}

fn taint_keys(node: &Node) -> Vec<String> {
    let mut keys: Vec<String> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .map(|t| format!("{}:{}", t.key, t.effect))
        .collect();
    keys.sort();
    keys
}

async fn wait_node(client: &Client, name: &str, what: &str, ok: impl Fn(&Node) -> bool) -> Node {
    let nodes = Api::<Node>::all(client.clone());
    let ok = &ok;
    eventually(&format!("node {name}: {what}"), WAIT, || {
        let nodes = nodes.clone();
        async move { nodes.get(name).await.ok().filter(|n| ok(n)) }
    })
    .await
}

async fn wait_pod(client: &Client, name: &str, what: &str, ok: impl Fn(Option<&Pod>) -> bool) {
    let pods = Api::<Pod>::default_namespaced(client.clone());
    let ok = &ok;
    eventually(&format!("pod {name}: {what}"), WAIT, || {
        let pods = pods.clone();
        async move {
            let p = pods.get_opt(name).await.ok()?;
            ok(p.as_ref()).then_some(())
        }
    })
    .await
}

fn pod_ready(p: &Pod) -> Option<bool> {
    let c = p
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?;
    Some(c.status == "True")
}

#[tokio::test]
async fn a_silent_node_is_tainted_its_pods_evicted_and_it_recovers() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    fake_node(&client, "node-a", "4", "8Gi").await.unwrap();
    fake_node(&client, "node-b", "4", "8Gi").await.unwrap();
    let a_alive = Arc::new(AtomicBool::new(true));
    heartbeat(&client, "node-a", a_alive.clone());
    heartbeat(&client, "node-b", Arc::new(AtomicBool::new(true)));
    tokio::spawn(nodelifecycle::run(Context::new(client.clone(), config())));

    // Defaulted tolerations (300 s, standing for the eviction timeout).
    bound_pod(&client, "plain", "node-a", json!(null)).await;
    let forever = json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}]);
    bound_pod(&client, "stays", "node-a", forever).await;
    bound_pod(&client, "elsewhere", "node-b", json!(null)).await;

    // Both nodes heard from: nothing happens for longer than the grace period.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let a = Api::<Node>::all(client.clone())
        .get("node-a")
        .await
        .unwrap();
    assert_eq!(ready_status(&a).unwrap().0, "True");
    assert!(taint_keys(&a).is_empty());

    a_alive.store(false, Ordering::SeqCst);
    let a = wait_node(&client, "node-a", "Unknown and tainted", |n| {
        ready_status(n).is_some_and(|(s, _)| s == "Unknown")
            && taint_keys(n)
                == [
                    "node.kubernetes.io/unreachable:NoExecute",
                    "node.kubernetes.io/unreachable:NoSchedule",
                ]
    })
    .await;
    assert_eq!(
        ready_status(&a).unwrap().1.as_deref(),
        Some("NodeStatusUnknown")
    );
    let message = a
        .status
        .as_ref()
        .unwrap()
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .message
        .clone();
    assert_eq!(
        message.as_deref(),
        Some("Kubelet stopped posting node status.")
    );

    // Pods on it: marked not ready, then the intolerant one evicted.
    wait_pod(&client, "stays", "marked not ready", |p| {
        p.and_then(pod_ready) == Some(false)
    })
    .await;
    wait_pod(&client, "plain", "evicted", |p| {
        p.is_none_or(|p| p.metadata.deletion_timestamp.is_some())
    })
    .await;
    let pods = Api::<Pod>::default_namespaced(client.clone());
    let stays = pods.get("stays").await.unwrap();
    assert!(stays.metadata.deletion_timestamp.is_none());
    let elsewhere = pods.get("elsewhere").await.unwrap();
    assert!(elsewhere.metadata.deletion_timestamp.is_none());
    assert_eq!(pod_ready(&elsewhere), Some(true));
    let b = Api::<Node>::all(client.clone())
        .get("node-b")
        .await
        .unwrap();
    assert_eq!(ready_status(&b).unwrap().0, "True");
    assert!(taint_keys(&b).is_empty());

    // The kubelet is back: Ready again, taints gone.
    a_alive.store(true, Ordering::SeqCst);
    let now = Time(Timestamp::now());
    let back = json!({"status": {"conditions": [{
        "type": "Ready", "status": "True", "reason": "KubeletReady",
        "lastHeartbeatTime": now, "lastTransitionTime": now
    }]}});
    Api::<Node>::all(client.clone())
        .patch_status("node-a", &PatchParams::default(), &Patch::Strategic(&back))
        .await
        .unwrap();
    wait_node(&client, "node-a", "untainted", |n| {
        ready_status(n).is_some_and(|(s, _)| s == "True") && taint_keys(n).is_empty()
    })
    .await;
}

#[tokio::test]
async fn a_kubelet_reporting_not_ready_gets_not_ready_taints() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    fake_node(&client, "node-a", "4", "8Gi").await.unwrap();
    fake_node(&client, "node-b", "4", "8Gi").await.unwrap();
    heartbeat(&client, "node-a", Arc::new(AtomicBool::new(true)));
    heartbeat(&client, "node-b", Arc::new(AtomicBool::new(true)));
    tokio::spawn(nodelifecycle::run(Context::new(client.clone(), config())));

    let now = Time(Timestamp::now());
    let not_ready = json!({"status": {"conditions": [{
        "type": "Ready", "status": "False", "reason": "KubeletNotReady",
        "lastHeartbeatTime": now, "lastTransitionTime": now
    }]}});
    Api::<Node>::all(client.clone())
        .patch_status(
            "node-a",
            &PatchParams::default(),
            &Patch::Strategic(&not_ready),
        )
        .await
        .unwrap();
    wait_node(&client, "node-a", "not-ready taints", |n| {
        taint_keys(n)
            == [
                "node.kubernetes.io/not-ready:NoExecute",
                "node.kubernetes.io/not-ready:NoSchedule",
            ]
    })
    .await;

    // Cordoned: the unschedulable taint too.
    let cordon = json!({"spec": {"unschedulable": true}});
    Api::<Node>::all(client.clone())
        .patch("node-b", &PatchParams::default(), &Patch::Merge(&cordon))
        .await
        .unwrap();
    wait_node(&client, "node-b", "unschedulable taint", |n| {
        taint_keys(n) == ["node.kubernetes.io/unschedulable:NoSchedule"]
    })
    .await;
}

#[tokio::test]
async fn pods_of_vanished_nodes_are_collected() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    fake_node(&client, "node-a", "4", "8Gi").await.unwrap();
    fake_node(&client, "node-gone", "4", "8Gi").await.unwrap();
    heartbeat(&client, "node-a", Arc::new(AtomicBool::new(true)));
    heartbeat(&client, "node-gone", Arc::new(AtomicBool::new(true)));
    tokio::spawn(nodelifecycle::run(Context::new(client.clone(), config())));

    bound_pod(&client, "ghost", "no-such-node", json!(null)).await;
    bound_pod(&client, "orphan", "node-gone", json!(null)).await;
    bound_pod(&client, "kept", "node-a", json!(null)).await;
    Api::<Node>::all(client.clone())
        .delete("node-gone", &DeleteParams::default())
        .await
        .unwrap();
    wait_pod(&client, "ghost", "collected", |p| p.is_none()).await;
    wait_pod(&client, "orphan", "collected", |p| p.is_none()).await;
    let kept = Api::<Pod>::default_namespaced(client.clone())
        .get("kept")
        .await
        .unwrap();
    assert!(kept.metadata.deletion_timestamp.is_none());
}

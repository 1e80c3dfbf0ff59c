//! The whole control plane against a real API server: the controller-
//! manager (every controller) and the scheduler, with two fake nodes whose
//! kubelets are played by this test. A ReplicationController's pods run on
//! node A; A's Lease stops being renewed; A is marked NotReady and tainted,
//! its pods are evicted, and the RC's replacements are scheduled on B.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ironclad_controllers::{Config, Context, ControllerManager};
use ironclad_testkit::{PodState, TestCluster, eventually, fake_node, mark_pod};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);

/// Plays the kubelets of the nodes in `alive`: renews their Leases and
/// reports their pods running and ready, every 200 ms.
async fn kubelets(client: Client, alive: Arc<Mutex<HashSet<String>>>) {
    let leases = Api::<Lease>::namespaced(client.clone(), "kube-node-lease");
    let pods = Api::<Pod>::all(client.clone());
    loop {
        let nodes: Vec<String> = alive.lock().unwrap().iter().cloned().collect();
        for node in nodes {
            let lease: Lease = serde_json::from_value(json!({
                "metadata": {"name": node},
                "spec": {"holderIdentity": node, "leaseDurationSeconds": 40,
                         "renewTime": MicroTime(Timestamp::now())}
            }))
            .unwrap();
            if leases.create(&PostParams::default(), &lease).await.is_err() {
                let renew = json!({"spec": {"renewTime": MicroTime(Timestamp::now())}});
                let _ = leases
                    .patch(&node, &PatchParams::default(), &Patch::Merge(&renew))
                    .await;
            }
            let on_node = ListParams::default().fields(&format!("spec.nodeName={node}"));
            for pod in pods
                .list(&on_node)
                .await
                .map(|l| l.items)
                .unwrap_or_default()
            {
                let running =
                    pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
                if !running && pod.metadata.deletion_timestamp.is_none() {
                    let _ = mark_pod(&client, &pod, PodState::RunningReady).await;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The RC's pods that are not being deleted, by node.
async fn active_pods_by_node(client: &Client) -> Vec<(String, bool)> {
    let pods = Api::<Pod>::namespaced(client.clone(), "default");
    let list = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap();
    list.items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| {
            let node = p
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default();
            let ready = p
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            (node, ready)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_nodes_rc_pods_are_recreated_on_another_node() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let config = Config {
        node_monitor_grace_period: Duration::from_millis(1500),
        pod_eviction_timeout: Duration::from_secs(1),
        ..Config::default()
    };
    let ctx = Context::new(client.clone(), config);
    let controllers = tokio::spawn(ControllerManager::run_all(ctx));
    let scheduler = tokio::spawn(ironclad_scheduler::Scheduler::run(
        client.clone(),
        ironclad_scheduler::Config::default(),
    ));
    let alive = Arc::new(Mutex::new(HashSet::from(["node-a".to_string()])));
    let kubelet = tokio::spawn(kubelets(client.clone(), alive.clone()));

    fake_node(&client, "node-a", "4", "8Gi").await.unwrap();
    let rcs = Api::<ReplicationController>::namespaced(client.clone(), "default");
    let rc: ReplicationController = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 3, "selector": {"app": "web"}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "busybox",
                     "resources": {"requests": {"cpu": "100m"}}}]}}}
    }))
    .unwrap();
    rcs.create(&PostParams::default(), &rc).await.unwrap();
    eventually("3 ready pods on node-a", WAIT, || async {
        let pods = active_pods_by_node(&client).await;
        (pods.len() == 3 && pods.iter().all(|(n, r)| n == "node-a" && *r)).then_some(())
    })
    .await;

    // B joins; A's kubelet dies.
    fake_node(&client, "node-b", "4", "8Gi").await.unwrap();
    alive.lock().unwrap().insert("node-b".into());
    alive.lock().unwrap().remove("node-a");

    let nodes = Api::<Node>::all(client.clone());
    eventually("node-a NotReady (Unknown) and tainted", WAIT, || async {
        let a = nodes.get("node-a").await.ok()?;
        let ready = a
            .status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == "Ready")?
            .status
            .clone();
        let tainted = a
            .spec
            .as_ref()?
            .taints
            .as_ref()?
            .iter()
            .any(|t| t.key == "node.kubernetes.io/unreachable");
        (ready == "Unknown" && tainted).then_some(())
    })
    .await;
    eventually("3 ready replacements on node-b", WAIT, || async {
        let pods = active_pods_by_node(&client).await;
        (pods.len() == 3 && pods.iter().all(|(n, r)| n == "node-b" && *r)).then_some(())
    })
    .await;
    let rc = rcs.get("web").await.unwrap();
    assert_eq!(rc.status.unwrap().ready_replicas, Some(3));

    kubelet.abort();
    scheduler.abort();
    controllers.abort();
}

//! The ReplicationController and ReplicaSet controllers against a real API
//! server: the test runs the controller under test and acts as the kubelet.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use ironclad_controllers::{Config, Context, replication};
use ironclad_testkit::{PodState, TestCluster, eventually, mark_pod};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::task::JoinHandle;

const DEADLINE: Duration = Duration::from_secs(20);

/// Aborts the tasks it holds when the test ends.
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

async fn start() -> (TestCluster, Client) {
    let cluster = TestCluster::start().await.expect("cluster");
    let client = cluster.client().expect("client");
    (cluster, client)
}

fn ctx(client: &Client) -> Context {
    Context::new(client.clone(), Config::default())
}

/// A kubelet for every pod of `ns`: Pending pods become Running and Ready.
fn kubelet(client: &Client, ns: &str) -> JoinHandle<()> {
    let client = client.clone();
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    tokio::spawn(async move {
        let mut pods = watcher(api, watcher::Config::default())
            .default_backoff()
            .applied_objects()
            .boxed();
        while let Some(p) = pods.next().await {
            let Ok(p) = p else { continue };
            let pending = p
                .status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .is_none_or(|ph| ph == "Pending");
            if pending && p.metadata.deletion_timestamp.is_none() {
                let _ = mark_pod(&client, &p, PodState::RunningReady).await;
            }
        }
    })
}

fn template(labels: &BTreeMap<String, String>) -> serde_json::Value {
    json!({
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    })
}

fn labels(app: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_string(), app.to_string())])
}

async fn create_rc(client: &Client, name: &str, replicas: i32) -> ReplicationController {
    let api: Api<ReplicationController> = Api::default_namespaced(client.clone());
    let rc: ReplicationController = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": labels(name), "template": template(&labels(name))}
    }))
    .unwrap();
    api.create(&PostParams::default(), &rc).await.unwrap()
}

async fn create_rs(client: &Client, name: &str, replicas: i32, min_ready: i32) -> ReplicaSet {
    let api: Api<ReplicaSet> = Api::default_namespaced(client.clone());
    let rs: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready,
            "selector": {"matchLabels": labels(name)},
            "template": template(&labels(name)),
        }
    }))
    .unwrap();
    api.create(&PostParams::default(), &rs).await.unwrap()
}

/// The active pods (not finished, not being deleted) controlled by `uid`.
async fn owned_active(client: &Client, uid: &str) -> Vec<Pod> {
    let api: Api<Pod> = Api::default_namespaced(client.clone());
    api.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| {
            p.owner_references()
                .iter()
                .any(|r| r.uid == uid && r.controller == Some(true))
        })
        .filter(|p| {
            let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
            p.metadata.deletion_timestamp.is_none()
                && !matches!(phase, Some("Succeeded" | "Failed"))
        })
        .collect()
}

/// Waits until `uid` controls exactly `n` active pods, all Ready.
async fn wait_ready_pods(client: &Client, uid: &str, n: usize) -> Vec<Pod> {
    eventually(&format!("{n} ready pods"), DEADLINE, || async {
        let pods = owned_active(client, uid).await;
        let ready = pods.iter().all(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        });
        (pods.len() == n && ready).then_some(pods)
    })
    .await
}

/// Records the most active pods `uid` ever controlled at once, from a
/// watch of the namespace's pods.
fn max_owned(client: &Client, uid: &str) -> (Arc<Mutex<usize>>, JoinHandle<()>) {
    let api: Api<Pod> = Api::default_namespaced(client.clone());
    let uid = uid.to_string();
    let max = Arc::new(Mutex::new(0));
    let m = max.clone();
    let task = tokio::spawn(async move {
        let mut live: BTreeMap<String, bool> = BTreeMap::new();
        let mut events = watcher(api, watcher::Config::default()).boxed();
        while let Some(Ok(ev)) = events.next().await {
            let mut apply = |p: &Pod, gone: bool| {
                let mine = p.owner_references().iter().any(|r| r.uid == uid);
                let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
                let active = !gone
                    && mine
                    && p.metadata.deletion_timestamp.is_none()
                    && !matches!(phase, Some("Succeeded" | "Failed"));
                live.insert(p.name_any(), active);
            };
            match ev {
                watcher::Event::Apply(p) | watcher::Event::InitApply(p) => apply(&p, false),
                watcher::Event::Delete(p) => apply(&p, true),
                _ => {}
            }
            let n = live.values().filter(|a| **a).count();
            let mut g = m.lock().unwrap();
            *g = (*g).max(n);
        }
    });
    (max, task)
}

#[tokio::test]
async fn rc_keeps_three_replicas_when_pods_are_deleted() {
    let (_cluster, client) = start().await;
    let _tasks = Tasks(vec![
        tokio::spawn({
            let c = ctx(&client);
            async move {
                let _ = replication::run_replication_controllers(c).await;
            }
        }),
        kubelet(&client, "default"),
    ]);
    let rc = create_rc(&client, "web", 3).await;
    let uid = rc.uid().unwrap();
    let pods = wait_ready_pods(&client, &uid, 3).await;
    for p in &pods {
        assert!(p.name_any().starts_with("web-"), "{}", p.name_any());
        let r = &p.owner_references()[0];
        assert_eq!(
            (r.kind.as_str(), r.api_version.as_str(), r.name.as_str()),
            ("ReplicationController", "v1", "web")
        );
        assert_eq!(
            (r.controller, r.block_owner_deletion),
            (Some(true), Some(true))
        );
        assert_eq!(p.labels().get("app").map(String::as_str), Some("web"));
    }

    let api: Api<Pod> = Api::default_namespaced(client.clone());
    for p in &pods[..2] {
        api.delete(&p.name_any(), &DeleteParams::default())
            .await
            .unwrap();
    }
    let again = wait_ready_pods(&client, &uid, 3).await;
    let old: Vec<String> = pods.iter().map(|p| p.name_any()).collect();
    assert_eq!(
        again.iter().filter(|p| old.contains(&p.name_any())).count(),
        1
    );

    let rcs: Api<ReplicationController> = Api::default_namespaced(client.clone());
    eventually("rc status", DEADLINE, || async {
        let rc = rcs.get("web").await.unwrap();
        let s = rc.status?;
        (s.replicas == 3
            && s.ready_replicas == Some(3)
            && s.available_replicas == Some(3)
            && s.fully_labeled_replicas == Some(3)
            && s.observed_generation == rc.metadata.generation)
            .then_some(())
    })
    .await;

    // Events as upstream: SuccessfulCreate "Created pod: <name>" on the RC
    // (written through events.k8s.io/v1, as kube's Recorder does).
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::default_namespaced(client.clone());
    eventually("SuccessfulCreate events", DEADLINE, || async {
        let list = events.list(&ListParams::default()).await.unwrap();
        let created = list
            .items
            .iter()
            .filter(|e| e.reason.as_deref() == Some("SuccessfulCreate"))
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("web"))
            .filter(|e| {
                e.note
                    .as_deref()
                    .is_some_and(|m| m.starts_with("Created pod: web-"))
            })
            .count();
        (created == 5).then_some(())
    })
    .await;
}

#[tokio::test]
async fn rc_scales_3_to_10_to_1() {
    let (_cluster, client) = start().await;
    let mut tasks = Tasks(vec![
        tokio::spawn({
            let c = ctx(&client);
            async move {
                let _ = replication::run_replication_controllers(c).await;
            }
        }),
        kubelet(&client, "default"),
    ]);
    let rc = create_rc(&client, "scale", 3).await;
    let uid = rc.uid().unwrap();
    let (max, watch) = max_owned(&client, &uid);
    tasks.0.push(watch);
    wait_ready_pods(&client, &uid, 3).await;

    let rcs: Api<ReplicationController> = Api::default_namespaced(client.clone());
    let scale = |n: i32| {
        let rcs = rcs.clone();
        async move {
            rcs.patch(
                "scale",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": n}})),
            )
            .await
            .unwrap()
        }
    };
    scale(10).await;
    wait_ready_pods(&client, &uid, 10).await;
    // Expectations kept the controller from creating more than asked.
    assert_eq!(*max.lock().unwrap(), 10);

    let rc = scale(1).await;
    wait_ready_pods(&client, &uid, 1).await;
    eventually("rc status after scaling down", DEADLINE, || async {
        let got = rcs.get("scale").await.unwrap();
        let s = got.status?;
        (s.replicas == 1 && s.observed_generation == rc.metadata.generation).then_some(())
    })
    .await;
}

#[tokio::test]
async fn rs_adopts_a_matching_orphan_and_releases_a_relabelled_pod() {
    let (_cluster, client) = start().await;
    let _tasks = Tasks(vec![
        tokio::spawn({
            let c = ctx(&client);
            async move {
                let _ = replication::run_replica_sets(c).await;
            }
        }),
        kubelet(&client, "default"),
    ]);
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let orphan: Pod = serde_json::from_value(json!({
        "metadata": {"name": "orphan", "labels": labels("adopt")},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &orphan).await.unwrap();

    let rs = create_rs(&client, "adopt", 2, 0).await;
    let uid = rs.uid().unwrap();
    let owned = wait_ready_pods(&client, &uid, 2).await;
    let adopted = owned
        .iter()
        .find(|p| p.name_any() == "orphan")
        .expect("the orphan was adopted");
    let r = &adopted.owner_references()[0];
    assert_eq!((r.kind.as_str(), r.name.as_str()), ("ReplicaSet", "adopt"));
    assert_eq!(
        (r.controller, r.block_owner_deletion),
        (Some(true), Some(true))
    );

    // Relabelled out of the selector: released, and replaced.
    pods.patch(
        "orphan",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "elsewhere"}}})),
    )
    .await
    .unwrap();
    eventually(
        "the relabelled pod released and replaced",
        DEADLINE,
        || async {
            let owned = owned_active(&client, &uid).await;
            (owned.len() == 2 && owned.iter().all(|p| p.name_any() != "orphan")).then_some(())
        },
    )
    .await;
    wait_ready_pods(&client, &uid, 2).await;
    let released = pods.get("orphan").await.unwrap();
    assert!(
        released.owner_references().is_empty(),
        "{:?}",
        released.owner_references()
    );
}

#[tokio::test]
async fn rs_replaces_failed_pods() {
    let (_cluster, client) = start().await;
    let _tasks = Tasks(vec![
        tokio::spawn({
            let c = ctx(&client);
            async move {
                let _ = replication::run_replica_sets(c).await;
            }
        }),
        kubelet(&client, "default"),
    ]);
    let rs = create_rs(&client, "fails", 3, 0).await;
    let uid = rs.uid().unwrap();
    let pods = wait_ready_pods(&client, &uid, 3).await;
    mark_pod(&client, &pods[0], PodState::Failed).await.unwrap();
    mark_pod(&client, &pods[1], PodState::Succeeded)
        .await
        .unwrap();
    let now = wait_ready_pods(&client, &uid, 3).await;
    let old: Vec<String> = pods.iter().map(|p| p.name_any()).collect();
    assert_eq!(
        now.iter().filter(|p| old.contains(&p.name_any())).count(),
        1
    );
    // Finished pods stay (the pod garbage collector's job), uncounted.
    let api: Api<Pod> = Api::default_namespaced(client.clone());
    assert!(api.get(&pods[0].name_any()).await.is_ok());
}

#[tokio::test]
async fn rs_status_counts_ready_and_available_after_min_ready_seconds() {
    let (_cluster, client) = start().await;
    let _tasks = Tasks(vec![tokio::spawn({
        let c = ctx(&client);
        async move {
            let _ = replication::run_replica_sets(c).await;
        }
    })]);
    let rs = create_rs(&client, "status", 2, 2).await;
    let uid = rs.uid().unwrap();
    let rss: Api<ReplicaSet> = Api::default_namespaced(client.clone());
    let pods = eventually("2 pods", DEADLINE, || async {
        let p = owned_active(&client, &uid).await;
        (p.len() == 2).then_some(p)
    })
    .await;
    eventually("replicas 2, none ready", DEADLINE, || async {
        let s = rss.get("status").await.unwrap().status?;
        (s.replicas == 2 && s.ready_replicas.is_none() && s.fully_labeled_replicas == Some(2))
            .then_some(())
    })
    .await;
    mark_pod(&client, &pods[0], PodState::RunningReady)
        .await
        .unwrap();
    mark_pod(&client, &pods[1], PodState::RunningNotReady)
        .await
        .unwrap();
    let s = eventually("1 ready, not yet available", DEADLINE, || async {
        let s = rss.get("status").await.unwrap().status?;
        (s.ready_replicas == Some(1)).then_some(s)
    })
    .await;
    assert_eq!(s.available_replicas, None);
    mark_pod(&client, &pods[1], PodState::RunningReady)
        .await
        .unwrap();
    eventually("2 available after minReadySeconds", DEADLINE, || async {
        let rs = rss.get("status").await.unwrap();
        let s = rs.status?;
        (s.ready_replicas == Some(2)
            && s.available_replicas == Some(2)
            && s.observed_generation == rs.metadata.generation)
            .then_some(())
    })
    .await;
}

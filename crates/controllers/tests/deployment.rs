//! The Deployment controller (with the ReplicaSet controller under it)
//! against a real API server: the test acts as the kubelet, records every
//! pod change of a rollout from a watch and checks maxSurge and
//! maxUnavailable at each one, and drives rollbacks and rollout status
//! with the real kubectl.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use ironclad_controllers::{Config, Context, deployment, replication};
use ironclad_testkit::{PodState, TestCluster, eventually, mark_pod};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::task::JoinHandle;

const DEADLINE: Duration = Duration::from_secs(30);
const REVISION: &str = "deployment.kubernetes.io/revision";
const HASH: &str = "pod-template-hash";

/// Aborts the tasks it holds when the test ends.
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// A cluster with the Deployment and ReplicaSet controllers running and,
/// when `kubelet`, a kubelet that makes every new pod Running and Ready.
async fn start(kubelet: bool) -> (TestCluster, Client, Tasks) {
    let cluster = TestCluster::start().await.expect("cluster");
    let client = cluster.client().expect("client");
    let ctx = Context::new(client.clone(), Config::default());
    let mut tasks = vec![
        tokio::spawn({
            let c = ctx.clone();
            async move {
                let _ = deployment::run(c).await;
            }
        }),
        tokio::spawn(async move {
            let _ = replication::run_replica_sets(ctx).await;
        }),
    ];
    if kubelet {
        tasks.push(run_kubelet(&client));
    }
    (cluster, client, Tasks(tasks))
}

fn run_kubelet(client: &Client) -> JoinHandle<()> {
    let client = client.clone();
    let api: Api<Pod> = Api::default_namespaced(client.clone());
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

fn deployment(name: &str, replicas: i32, image: &str, strategy: serde_json::Value) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": strategy,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]}
            }
        }
    }))
    .unwrap()
}

fn rolling(surge: serde_json::Value, unavailable: serde_json::Value) -> serde_json::Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}})
}

async fn create(client: &Client, d: &Deployment) -> Deployment {
    let api: Api<Deployment> = Api::default_namespaced(client.clone());
    api.create(&PostParams::default(), d).await.unwrap()
}

async fn set_image(client: &Client, name: &str, image: &str) -> Deployment {
    let api: Api<Deployment> = Api::default_namespaced(client.clone());
    let patch =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}});
    api.patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .unwrap()
}

/// Waits until the rollout of the Deployment's current generation is
/// complete, as `kubectl rollout status` judges it.
async fn wait_complete(client: &Client, name: &str) -> Deployment {
    let api: Api<Deployment> = Api::default_namespaced(client.clone());
    eventually(
        &format!("deployment {name} rolled out"),
        DEADLINE,
        || async {
            let d = api.get(name).await.unwrap();
            let s = d.status.clone()?;
            let want = d.spec.as_ref()?.replicas?;
            let done = d.metadata.generation <= s.observed_generation
                && s.updated_replicas.unwrap_or(0) == want
                && s.replicas.unwrap_or(0) == want
                && s.available_replicas.unwrap_or(0) == want;
            done.then_some(d)
        },
    )
    .await
}

async fn replica_sets(client: &Client) -> Vec<ReplicaSet> {
    let api: Api<ReplicaSet> = Api::default_namespaced(client.clone());
    api.list(&ListParams::default()).await.unwrap().items
}

fn annotation<'a>(o: &'a impl ResourceExt, key: &str) -> Option<&'a str> {
    o.annotations().get(key).map(String::as_str)
}

fn image_of(rs: &ReplicaSet) -> &str {
    rs.spec
        .as_ref()
        .unwrap()
        .template
        .as_ref()
        .unwrap()
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
        .image
        .as_deref()
        .unwrap()
}

fn condition(d: &Deployment, type_: &str) -> Option<(String, String)> {
    d.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone().unwrap_or_default()))
}

/// Every pod change from a watch, and what was true after each: active
/// pods and available (active and Ready) pods.
#[derive(Default)]
struct Record {
    steps: Vec<(usize, usize)>,
    /// Pods of a template hash that appeared while pods of another
    /// existed (Recreate must never allow it).
    overlaps: Vec<String>,
}

fn record_pods(client: &Client) -> (Arc<Mutex<Record>>, JoinHandle<()>) {
    let api: Api<Pod> = Api::default_namespaced(client.clone());
    let record = Arc::new(Mutex::new(Record::default()));
    let r = record.clone();
    let task = tokio::spawn(async move {
        let mut pods: BTreeMap<String, Pod> = BTreeMap::new();
        let mut listed = false;
        let mut events = watcher(api, watcher::Config::default()).boxed();
        while let Some(Ok(ev)) = events.next().await {
            match ev {
                watcher::Event::InitApply(p) => {
                    pods.insert(p.name_any(), p);
                }
                watcher::Event::InitDone => listed = true,
                watcher::Event::Apply(p) => {
                    let hash = p.labels().get(HASH).cloned().unwrap_or_default();
                    if !pods.contains_key(&p.name_any())
                        && pods
                            .values()
                            .any(|o| o.labels().get(HASH).is_some_and(|h| *h != hash))
                    {
                        r.lock().unwrap().overlaps.push(p.name_any());
                    }
                    pods.insert(p.name_any(), p);
                }
                watcher::Event::Delete(p) => {
                    pods.remove(&p.name_any());
                }
                watcher::Event::Init => {}
            }
            if !listed {
                continue;
            }
            let active: Vec<&Pod> = pods
                .values()
                .filter(|p| {
                    let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
                    p.metadata.deletion_timestamp.is_none()
                        && !matches!(phase, Some("Succeeded" | "Failed"))
                })
                .collect();
            let available = active
                .iter()
                .filter(|p| {
                    p.status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
                })
                .count();
            r.lock().unwrap().steps.push((active.len(), available));
        }
    });
    (record, task)
}

/// The total size of the namespace's ReplicaSets after each of their
/// changes, from a watch.
fn record_replica_sets(client: &Client) -> (Arc<Mutex<Vec<i32>>>, JoinHandle<()>) {
    let api: Api<ReplicaSet> = Api::default_namespaced(client.clone());
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let r = sizes.clone();
    let task = tokio::spawn(async move {
        let mut rss: BTreeMap<String, i32> = BTreeMap::new();
        let mut listed = false;
        let mut events = watcher(api, watcher::Config::default()).boxed();
        let size = |rs: &ReplicaSet| rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
        while let Some(Ok(ev)) = events.next().await {
            match ev {
                watcher::Event::InitApply(rs) | watcher::Event::Apply(rs) => {
                    rss.insert(rs.name_any(), size(&rs));
                }
                watcher::Event::Delete(rs) => {
                    rss.remove(&rs.name_any());
                }
                watcher::Event::InitDone => listed = true,
                watcher::Event::Init => {}
            }
            if listed {
                r.lock().unwrap().push(rss.values().sum());
            }
        }
    });
    (sizes, task)
}

/// Rolls `replicas` pods from one image to another with this strategy and
/// checks every recorded step against maxSurge and maxUnavailable.
async fn rolling_update_respects_bounds(
    name: &str,
    replicas: i32,
    strategy: serde_json::Value,
    max_surge: usize,
    max_unavailable: usize,
) {
    let (_cluster, client, mut tasks) = start(true).await;
    create(&client, &deployment(name, replicas, "nginx:1.26", strategy)).await;
    wait_complete(&client, name).await;

    let (record, task) = record_pods(&client);
    tasks.0.push(task);
    let (sizes, task) = record_replica_sets(&client);
    tasks.0.push(task);
    eventually("the recorders listed", DEADLINE, || async {
        (!record.lock().unwrap().steps.is_empty() && !sizes.lock().unwrap().is_empty())
            .then_some(())
    })
    .await;
    set_image(&client, name, "nginx:1.27").await;
    let d = wait_complete(&client, name).await;
    // Wait for the last old pod's deletion to reach the recorder.
    let n = usize::try_from(replicas).unwrap();
    eventually("the recorder saw the end", DEADLINE, || async {
        let r = record.lock().unwrap();
        (r.steps.last() == Some(&(n, n))).then_some(())
    })
    .await;
    let steps = record.lock().unwrap().steps.clone();
    assert!(steps.len() > n, "a rollout takes steps: {steps:?}");
    for (i, (active, available)) in steps.iter().enumerate() {
        assert!(
            *active <= n + max_surge,
            "step {i}: {active} pods > {n} + maxSurge {max_surge}: {steps:?}"
        );
        assert!(
            *available + max_unavailable >= n,
            "step {i}: {available} available < {n} - maxUnavailable {max_unavailable}: {steps:?}"
        );
    }

    // The ReplicaSets' sizes never add up to more than maxSurge allows.
    let sizes = sizes.lock().unwrap().clone();
    let bound = replicas + i32::try_from(max_surge).unwrap();
    assert!(
        sizes.iter().all(|s| *s <= bound),
        "sizes over {bound}: {sizes:?}"
    );
    assert!(sizes.len() > 2, "{sizes:?}");

    // Two ReplicaSets: the old at zero with revision 1, the new with 2.
    assert_eq!(annotation(&d, REVISION), Some("2"));
    let rss = replica_sets(&client).await;
    assert_eq!(rss.len(), 2);
    for rs in &rss {
        let size = rs.spec.as_ref().unwrap().replicas.unwrap();
        match image_of(rs) {
            "nginx:1.26" => assert_eq!((annotation(rs, REVISION), size), (Some("1"), 0)),
            _ => assert_eq!((annotation(rs, REVISION), size), (Some("2"), replicas)),
        }
    }
}

#[tokio::test]
async fn deployment_creates_a_replica_set_with_revision_1() {
    let (_cluster, client, _tasks) = start(true).await;
    let d = create(
        &client,
        &deployment("web", 3, "nginx:1.27", rolling(json!(1), json!(0))),
    )
    .await;
    let done = wait_complete(&client, "web").await;
    assert_eq!(annotation(&done, REVISION), Some("1"));
    assert_eq!(
        condition(&done, "Available"),
        Some(("True".into(), "MinimumReplicasAvailable".into()))
    );
    assert_eq!(
        condition(&done, "Progressing"),
        Some(("True".into(), "NewReplicaSetAvailable".into()))
    );
    let s = done.status.clone().unwrap();
    assert_eq!(
        (
            s.replicas,
            s.updated_replicas,
            s.ready_replicas,
            s.available_replicas,
            s.unavailable_replicas
        ),
        (Some(3), Some(3), Some(3), Some(3), None)
    );

    let rss = replica_sets(&client).await;
    assert_eq!(rss.len(), 1);
    let rs = &rss[0];
    let hash = rs
        .labels()
        .get(HASH)
        .cloned()
        .expect("pod-template-hash label");
    assert_eq!(rs.name_any(), format!("web-{hash}"));
    assert_eq!(annotation(rs, REVISION), Some("1"));
    assert_eq!(
        annotation(rs, "deployment.kubernetes.io/desired-replicas"),
        Some("3")
    );
    assert_eq!(
        annotation(rs, "deployment.kubernetes.io/max-replicas"),
        Some("4")
    );
    let r = &rs.owner_references()[0];
    assert_eq!(
        (r.kind.as_str(), r.name.as_str(), r.uid.as_str()),
        ("Deployment", "web", d.uid().unwrap().as_str())
    );
    assert_eq!(
        rs.spec
            .as_ref()
            .unwrap()
            .selector
            .match_labels
            .as_ref()
            .unwrap()
            .get(HASH),
        Some(&hash)
    );
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let pods = pods.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(pods.len(), 3);
    assert!(pods.iter().all(|p| p.labels().get(HASH) == Some(&hash)));

    // The Event upstream records on the Deployment.
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::default_namespaced(client.clone());
    let note = format!("Scaled up replica set web-{hash} from 0 to 3");
    eventually("the ScalingReplicaSet event", DEADLINE, || async {
        let list = events.list(&ListParams::default()).await.unwrap();
        list.items
            .iter()
            .find(|e| {
                e.reason.as_deref() == Some("ScalingReplicaSet")
                    && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("web")
                    && e.note.as_deref() == Some(note.as_str())
            })
            .map(|_| ())
    })
    .await;
}

#[tokio::test]
async fn old_replica_sets_beyond_the_history_limit_are_deleted() {
    let (_cluster, client, _tasks) = start(true).await;
    let mut d = deployment("history", 1, "nginx:1.21", rolling(json!(1), json!(0)));
    d.spec.as_mut().unwrap().revision_history_limit = Some(1);
    create(&client, &d).await;
    wait_complete(&client, "history").await;
    for v in 22..=24 {
        set_image(&client, "history", &format!("nginx:1.{v}")).await;
        wait_complete(&client, "history").await;
    }
    let rss = eventually("one old replica set kept", DEADLINE, || async {
        let rss = replica_sets(&client).await;
        (rss.len() == 2).then_some(rss)
    })
    .await;
    let mut revisions: Vec<&str> = rss
        .iter()
        .filter_map(|rs| annotation(rs, REVISION))
        .collect();
    revisions.sort_unstable();
    assert_eq!(revisions, ["3", "4"]);
}

#[tokio::test]
async fn rolling_update_with_max_surge_1_max_unavailable_0() {
    rolling_update_respects_bounds("surge", 3, rolling(json!(1), json!(0)), 1, 0).await;
}

#[tokio::test]
async fn rolling_update_with_25_percent_on_4_replicas() {
    rolling_update_respects_bounds("quarter", 4, rolling(json!("25%"), json!("25%")), 1, 1).await;
}

#[tokio::test]
async fn recreate_deletes_old_pods_before_creating_new_ones() {
    let (_cluster, client, mut tasks) = start(true).await;
    create(
        &client,
        &deployment("recreate", 3, "nginx:1.26", json!({"type": "Recreate"})),
    )
    .await;
    wait_complete(&client, "recreate").await;
    let (record, task) = record_pods(&client);
    tasks.0.push(task);
    eventually("the recorder listed", DEADLINE, || async {
        (!record.lock().unwrap().steps.is_empty()).then_some(())
    })
    .await;
    set_image(&client, "recreate", "nginx:1.27").await;
    let d = wait_complete(&client, "recreate").await;
    assert_eq!(annotation(&d, REVISION), Some("2"));
    eventually("the recorder saw the end", DEADLINE, || async {
        let r = record.lock().unwrap();
        (r.steps.last() == Some(&(3, 3))).then_some(())
    })
    .await;
    let r = record.lock().unwrap();
    assert!(
        r.overlaps.is_empty(),
        "new pods while old ones existed: {:?}",
        r.overlaps
    );
    // All old pods went before the first new one came.
    assert!(r.steps.contains(&(0, 0)), "{:?}", r.steps);
}

#[tokio::test]
async fn paused_deployment_scales_but_does_not_roll() {
    let (_cluster, client, _tasks) = start(true).await;
    create(
        &client,
        &deployment("paused", 2, "nginx:1.26", rolling(json!(1), json!(0))),
    )
    .await;
    wait_complete(&client, "paused").await;
    let api: Api<Deployment> = Api::default_namespaced(client.clone());
    api.patch(
        "paused",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": true}})),
    )
    .await
    .unwrap();
    set_image(&client, "paused", "nginx:1.27").await;
    let scaled = api
        .patch(
            "paused",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    // The controller has seen all of it, and says it is paused.
    let d = eventually("the paused change observed", DEADLINE, || async {
        let d = api.get("paused").await.unwrap();
        let s = d.status.clone()?;
        (s.observed_generation >= scaled.metadata.generation && s.available_replicas == Some(3))
            .then_some(d)
    })
    .await;
    assert_eq!(
        condition(&d, "Progressing"),
        Some(("Unknown".into(), "DeploymentPaused".into()))
    );
    let rss = replica_sets(&client).await;
    assert_eq!(rss.len(), 1, "no rollout while paused");
    assert_eq!(image_of(&rss[0]), "nginx:1.26");
    assert_eq!(
        rss[0].spec.as_ref().unwrap().replicas,
        Some(3),
        "scaling still applies"
    );

    api.patch(
        "paused",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": false}})),
    )
    .await
    .unwrap();
    let d = wait_complete(&client, "paused").await;
    assert_eq!(annotation(&d, REVISION), Some("2"));
    let rss = replica_sets(&client).await;
    let new = rss
        .iter()
        .find(|rs| image_of(rs) == "nginx:1.27")
        .expect("the new replica set");
    assert_eq!(new.spec.as_ref().unwrap().replicas, Some(3));
}

#[tokio::test]
async fn progress_deadline_exceeded() {
    // No kubelet: the pods never become ready.
    let (_cluster, client, _tasks) = start(false).await;
    let mut d = deployment("stuck", 1, "nginx:1.27", rolling(json!(1), json!(0)));
    d.spec.as_mut().unwrap().progress_deadline_seconds = Some(1);
    create(&client, &d).await;
    let api: Api<Deployment> = Api::default_namespaced(client.clone());
    let d = eventually("ProgressDeadlineExceeded", DEADLINE, || async {
        let d = api.get("stuck").await.unwrap();
        let c = condition(&d, "Progressing")?;
        (c == ("False".into(), "ProgressDeadlineExceeded".into())).then_some(d)
    })
    .await;
    assert_eq!(
        condition(&d, "Available"),
        Some(("False".into(), "MinimumReplicasUnavailable".into()))
    );
    assert_eq!(d.status.as_ref().unwrap().unavailable_replicas, Some(1));
}

#[tokio::test]
async fn scaling_mid_rollout_is_proportional() {
    // No kubelet: the rollout stays where it is while we scale.
    let (_cluster, client, _tasks) = start(false).await;
    create(
        &client,
        &deployment("prop", 10, "nginx:1.26", rolling(json!(3), json!(2))),
    )
    .await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    // Make the first ten ready by hand, then start a rollout that cannot
    // finish (its pods never become ready).
    let first = eventually("10 pods", DEADLINE, || async {
        let p = pods.list(&ListParams::default()).await.unwrap().items;
        (p.len() == 10).then_some(p)
    })
    .await;
    for p in &first {
        mark_pod(&client, p, PodState::RunningReady).await.unwrap();
    }
    wait_complete(&client, "prop").await;
    set_image(&client, "prop", "nginx:1.27").await;
    // 10 + 3 surge: the new one gets 3, the old one keeps 10 - 2 = 8.
    eventually("the rollout stuck at 8 old + 5 new", DEADLINE, || async {
        let rss = replica_sets(&client).await;
        let size = |img: &str| {
            rss.iter()
                .find(|rs| image_of(rs) == img)
                .and_then(|rs| rs.spec.as_ref()?.replicas)
        };
        (size("nginx:1.26") == Some(8) && size("nginx:1.27") == Some(5)).then_some(())
    })
    .await;
    // Scale 10 -> 20 mid-rollout: 10 more (plus surge) spread in
    // proportion: max 23 vs 13 before, so old 8 -> 14, new 5 -> 9.
    let api: Api<Deployment> = Api::default_namespaced(client.clone());
    api.patch(
        "prop",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 20}})),
    )
    .await
    .unwrap();
    eventually("proportional scaling", DEADLINE, || async {
        let rss = replica_sets(&client).await;
        let size = |img: &str| {
            rss.iter()
                .find(|rs| image_of(rs) == img)
                .and_then(|rs| rs.spec.as_ref()?.replicas)
        };
        (size("nginx:1.26") == Some(14) && size("nginx:1.27") == Some(9)).then_some(())
    })
    .await;
}

/// kubectl, if installed.
fn kubectl() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/kubectl");
    p.exists().then_some(p)
}

/// An admin kubeconfig for the test cluster.
fn kubeconfig(cluster: &TestCluster, name: &str) -> PathBuf {
    let admin = cluster
        .kubeconfig_for("admin", &["system:masters"])
        .unwrap();
    cluster.write_kubeconfig(name, &admin).unwrap()
}

async fn run_kubectl(kubectl: &Path, config: &Path, args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(config)
        .args(args)
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn kubectl_rollout_undo_restores_the_previous_template() {
    let Some(kubectl) = kubectl() else {
        eprintln!("skipped: no kubectl at /usr/bin/kubectl");
        return;
    };
    let (cluster, client, _tasks) = start(true).await;
    let config = kubeconfig(&cluster, "undo");
    create(
        &client,
        &deployment("undo", 2, "nginx:1.26", rolling(json!(1), json!(0))),
    )
    .await;
    let (ok, out) = run_kubectl(
        &kubectl,
        &config,
        &["rollout", "status", "deployment/undo", "--timeout=30s"],
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("successfully rolled out"), "{out}");

    set_image(&client, "undo", "nginx:1.27").await;
    let (ok, out) = run_kubectl(
        &kubectl,
        &config,
        &["rollout", "status", "deployment/undo", "--timeout=30s"],
    )
    .await;
    assert!(ok, "{out}");
    let d = wait_complete(&client, "undo").await;
    assert_eq!(annotation(&d, REVISION), Some("2"));

    let (ok, out) = run_kubectl(&kubectl, &config, &["rollout", "undo", "deployment/undo"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("rolled back"), "{out}");
    let (ok, out) = run_kubectl(
        &kubectl,
        &config,
        &["rollout", "status", "deployment/undo", "--timeout=30s"],
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("successfully rolled out"), "{out}");

    // The first template is back, as revision 3 (upstream renumbers the
    // revived ReplicaSet and keeps 1 in its history).
    let d = wait_complete(&client, "undo").await;
    let template = &d.spec.as_ref().unwrap().template;
    assert_eq!(
        template.spec.as_ref().unwrap().containers[0]
            .image
            .as_deref(),
        Some("nginx:1.26")
    );
    assert!(
        !template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap()
            .contains_key(HASH)
    );
    let d = eventually("revision 3 on the deployment", DEADLINE, || async {
        let api: Api<Deployment> = Api::default_namespaced(client.clone());
        let d = api.get("undo").await.unwrap();
        (annotation(&d, REVISION) == Some("3")).then_some(d)
    })
    .await;
    assert_eq!(annotation(&d, REVISION), Some("3"));
    let rss = replica_sets(&client).await;
    assert_eq!(rss.len(), 2, "the old ReplicaSet was reused");
    let old = rss.iter().find(|rs| image_of(rs) == "nginx:1.26").unwrap();
    assert_eq!(annotation(old, REVISION), Some("3"));
    assert_eq!(
        annotation(old, "deployment.kubernetes.io/revision-history"),
        Some("1")
    );
    assert_eq!(old.spec.as_ref().unwrap().replicas, Some(2));
    let newer = rss.iter().find(|rs| image_of(rs) == "nginx:1.27").unwrap();
    assert_eq!(annotation(newer, REVISION), Some("2"));
    assert_eq!(newer.spec.as_ref().unwrap().replicas, Some(0));

    // kubectl reads the same history.
    let (ok, out) = run_kubectl(
        &kubectl,
        &config,
        &["rollout", "history", "deployment/undo"],
    )
    .await;
    assert!(ok, "{out}");
    assert!(
        out.contains('2') && out.contains('3') && !out.contains("\n1 "),
        "{out}"
    );
    let _ = std::fs::remove_file(config);
}

#[tokio::test]
async fn kubectl_rollout_status_reports_the_progress_deadline() {
    let Some(kubectl) = kubectl() else {
        eprintln!("skipped: no kubectl at /usr/bin/kubectl");
        return;
    };
    let (cluster, client, _tasks) = start(false).await;
    let config = kubeconfig(&cluster, "deadline");
    let mut d = deployment("late", 1, "nginx:1.27", rolling(json!(1), json!(0)));
    d.spec.as_mut().unwrap().progress_deadline_seconds = Some(1);
    create(&client, &d).await;
    let (ok, out) = run_kubectl(
        &kubectl,
        &config,
        &["rollout", "status", "deployment/late", "--timeout=30s"],
    )
    .await;
    assert!(!ok, "{out}");
    assert!(out.contains("exceeded its progress deadline"), "{out}");
    let _ = std::fs::remove_file(config);
}

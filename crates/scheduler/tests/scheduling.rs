//! The scheduler against a real API server (in process) with fake nodes:
//! each test starts a cluster, creates Node objects, runs the scheduler
//! unelected and checks where pods land and what it reports.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

use std::collections::BTreeMap;
use std::time::Duration;

use ironclad_scheduler::{Config, Scheduler};
use ironclad_testkit::{TestCluster, eventually, fake_node, node_object};
use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerPort, Node, Pod, PodAffinityTerm, PodAntiAffinity, PodSpec,
    ResourceRequirements, Taint, Toleration,
};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use tokio::task::JoinHandle;

const WAIT: Duration = Duration::from_secs(15);

/// A cluster with a running scheduler (aborted on drop).
struct Setup {
    _cluster: TestCluster,
    client: Client,
    scheduler: JoinHandle<()>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.scheduler.abort();
    }
}

async fn setup(nodes: &[(&str, &str)]) -> Setup {
    setup_with(nodes, |_| {}).await
}

/// Creates the nodes (changed by `change` first), then starts the
/// scheduler, so its first list already shows them as they are meant.
async fn setup_with(nodes: &[(&str, &str)], change: impl Fn(&mut Node)) -> Setup {
    // RUST_LOG=ironclad_scheduler=debug shows the scheduler's decisions.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let api: Api<Node> = Api::all(client.clone());
    for (name, cpu) in nodes {
        let mut node = node_object(name, cpu, "8Gi");
        change(&mut node);
        api.create(&PostParams::default(), &node).await.unwrap();
        let status = serde_json::json!({"status": node.status});
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap();
    }
    let scheduler = tokio::spawn(Scheduler::run(client.clone(), Config::default()));
    Setup {
        _cluster: cluster,
        client,
        scheduler,
    }
}

fn pod(name: &str, cpu: Option<&str>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(BTreeMap::from([("app".into(), "web".into())])),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "c".into(),
                image: Some("registry.k8s.io/pause:3.10".into()),
                resources: cpu.map(|cpu| ResourceRequirements {
                    requests: Some(BTreeMap::from([("cpu".into(), Quantity(cpu.into()))])),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn with(mut p: Pod, f: impl FnOnce(&mut PodSpec)) -> Pod {
    f(p.spec.as_mut().unwrap());
    p
}

async fn create(client: &Client, p: Pod) {
    Api::<Pod>::default_namespaced(client.clone())
        .create(&PostParams::default(), &p)
        .await
        .unwrap();
}

/// The node `name` lands on.
async fn node_of(client: &Client, name: &str) -> String {
    let pods = Api::<Pod>::default_namespaced(client.clone());
    eventually(&format!("{name} to be bound"), WAIT, || async {
        let p = pods.get(name).await.ok()?;
        p.spec?.node_name
    })
    .await
}

/// The FailedScheduling note for `name` (the latest one).
async fn failed_scheduling(client: &Client, name: &str) -> String {
    let events = Api::<Event>::default_namespaced(client.clone());
    eventually(
        &format!("a FailedScheduling event for {name}"),
        WAIT,
        || async {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .into_iter()
                .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
                .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
                .filter_map(|e| e.note)
                .next_back()
        },
    )
    .await
}

async fn still_pending(client: &Client, name: &str) {
    let p = Api::<Pod>::default_namespaced(client.clone())
        .get(name)
        .await
        .unwrap();
    assert_eq!(
        p.spec.unwrap().node_name,
        None,
        "{name} should not be bound"
    );
}

#[tokio::test]
async fn pods_land_on_nodes_that_fit_and_are_reported_scheduled() {
    let s = setup(&[("small", "1"), ("big", "8")]).await;
    for i in 0..3 {
        create(&s.client, pod(&format!("p{i}"), Some("2"))).await;
    }
    for i in 0..3 {
        assert_eq!(node_of(&s.client, &format!("p{i}")).await, "big");
    }
    let events = Api::<Event>::default_namespaced(s.client.clone());
    let note = eventually("a Scheduled event", WAIT, || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some("Scheduled"))
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("p0"))
            .find_map(|e| e.note)
    })
    .await;
    assert_eq!(note, "Successfully assigned default/p0 to big");
    let p0 = Api::<Pod>::default_namespaced(s.client.clone())
        .get("p0")
        .await
        .unwrap();
    let cond = p0.status.unwrap().conditions.unwrap();
    assert!(
        cond.iter()
            .any(|c| c.type_ == "PodScheduled" && c.status == "True")
    );
}

#[tokio::test]
async fn node_selector_picks_the_labelled_node() {
    let s = setup_with(&[("a", "4"), ("b", "4"), ("c", "4")], |n| {
        if n.metadata.name.as_deref() == Some("b") {
            let labels = n.metadata.labels.get_or_insert_default();
            labels.insert("disk".into(), "ssd".into());
        }
    })
    .await;
    for i in 0..4 {
        let p = with(pod(&format!("ssd{i}"), None), |s| {
            s.node_selector = Some(BTreeMap::from([("disk".into(), "ssd".into())]))
        });
        create(&s.client, p).await;
    }
    for i in 0..4 {
        assert_eq!(node_of(&s.client, &format!("ssd{i}")).await, "b");
    }
    let p = with(pod("nowhere", None), |s| {
        s.node_selector = Some(BTreeMap::from([("disk".into(), "tape".into())]))
    });
    create(&s.client, p).await;
    assert_eq!(
        failed_scheduling(&s.client, "nowhere").await,
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
    );
}

#[tokio::test]
async fn taints_keep_away_pods_that_do_not_tolerate_them() {
    let s = setup_with(&[("gpu", "4"), ("plain", "1")], |n| {
        if n.metadata.name.as_deref() == Some("gpu") {
            n.spec.get_or_insert_default().taints = Some(vec![Taint {
                key: "dedicated".into(),
                value: Some("gpu".into()),
                effect: "NoSchedule".into(),
                ..Default::default()
            }]);
        }
    })
    .await;
    // Both fit by resources; only "plain" is untainted.
    for i in 0..3 {
        create(&s.client, pod(&format!("p{i}"), None)).await;
    }
    for i in 0..3 {
        assert_eq!(node_of(&s.client, &format!("p{i}")).await, "plain");
    }
    // Needs 2 cpus: only the tainted node is big enough.
    create(&s.client, pod("big", Some("2"))).await;
    assert_eq!(
        failed_scheduling(&s.client, "big").await,
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}."
    );
    let tolerant = with(pod("tolerant", Some("2")), |s| {
        s.tolerations = Some(vec![Toleration {
            key: Some("dedicated".into()),
            operator: Some("Equal".into()),
            value: Some("gpu".into()),
            effect: Some("NoSchedule".into()),
            ..Default::default()
        }])
    });
    create(&s.client, tolerant).await;
    assert_eq!(node_of(&s.client, "tolerant").await, "gpu");
    still_pending(&s.client, "big").await;
}

#[tokio::test]
async fn anti_affinity_spreads_pods_one_per_node() {
    let s = setup(&[("a", "4"), ("b", "4"), ("c", "4")]).await;
    let spread = |name: &str| {
        with(pod(name, None), |s| {
            s.affinity = Some(Affinity {
                pod_anti_affinity: Some(PodAntiAffinity {
                    required_during_scheduling_ignored_during_execution: Some(vec![
                        PodAffinityTerm {
                            label_selector: Some(LabelSelector {
                                match_labels: Some(BTreeMap::from([("app".into(), "web".into())])),
                                ..Default::default()
                            }),
                            topology_key: "kubernetes.io/hostname".into(),
                            ..Default::default()
                        },
                    ]),
                    ..Default::default()
                }),
                ..Default::default()
            })
        })
    };
    for i in 0..4 {
        create(&s.client, spread(&format!("w{i}"))).await;
    }
    let mut placed = Vec::new();
    for i in 0..3 {
        placed.push(node_of(&s.client, &format!("w{i}")).await);
    }
    placed.sort();
    assert_eq!(placed, ["a", "b", "c"]);
    assert_eq!(
        failed_scheduling(&s.client, "w3").await,
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
    );
}

#[tokio::test]
async fn host_ports_are_not_shared() {
    let s = setup(&[("a", "4"), ("b", "4")]).await;
    let port = |name: &str| {
        with(pod(name, None), |s| {
            s.containers[0].ports = Some(vec![ContainerPort {
                container_port: 80,
                host_port: Some(8080),
                ..Default::default()
            }])
        })
    };
    for i in 0..3 {
        create(&s.client, port(&format!("h{i}"))).await;
    }
    let mut placed = vec![
        node_of(&s.client, "h0").await,
        node_of(&s.client, "h1").await,
    ];
    placed.sort();
    assert_eq!(placed, ["a", "b"]);
    assert_eq!(
        failed_scheduling(&s.client, "h2").await,
        "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports."
    );
}

#[tokio::test]
async fn an_unschedulable_pod_is_reported_then_placed_when_a_node_fits() {
    let s = setup(&[("small", "1")]).await;
    create(&s.client, pod("hungry", Some("4"))).await;
    assert_eq!(
        failed_scheduling(&s.client, "hungry").await,
        "0/1 nodes are available: 1 Insufficient cpu."
    );
    let pods = Api::<Pod>::default_namespaced(s.client.clone());
    let cond = eventually("PodScheduled=False", WAIT, || async {
        let p = pods.get("hungry").await.ok()?;
        p.status?
            .conditions?
            .into_iter()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    })
    .await;
    assert_eq!(cond.reason.as_deref(), Some("Unschedulable"));
    assert_eq!(
        cond.message.as_deref(),
        Some("0/1 nodes are available: 1 Insufficient cpu.")
    );
    fake_node(&s.client, "large", "8", "8Gi").await.unwrap();
    assert_eq!(node_of(&s.client, "hungry").await, "large");
}

#[tokio::test]
async fn least_allocated_prefers_the_emptier_node() {
    let s = setup(&[("busy", "4"), ("idle", "4")]).await;
    // A pod already running on "busy" holds 3 of its 4 cpus.
    let running = with(pod("running", Some("3")), |s| {
        s.node_name = Some("busy".into())
    });
    create(&s.client, running).await;
    for i in 0..3 {
        create(&s.client, pod(&format!("new{i}"), Some("100m"))).await;
        assert_eq!(node_of(&s.client, &format!("new{i}")).await, "idle");
    }
}

//! The node lifecycle controller (upstream's `node-controller` with its
//! taint-based eviction, plus the pod garbage collector):
//!
//! - every monitor period, each node's health is judged from its Lease in
//!   `kube-node-lease` and its Ready heartbeat ([`health`]); a node silent
//!   past `node_monitor_grace_period` gets Unknown conditions, its pods'
//!   Ready condition False, and an event;
//! - NoSchedule taints follow the node's conditions, NoExecute
//!   `not-ready`/`unreachable` taints are added through per-zone rate
//!   limits ([`zones`], [`taints`]) and removed once the node is Ready;
//! - pods on nodes with NoExecute taints are evicted when their
//!   tolerations run out ([`eviction`]), the default tolerations lasting
//!   `pod_eviction_timeout`;
//! - pods of nodes that are gone are deleted ([`podgc`]).

pub mod eviction;
pub mod health;
pub mod podgc;
pub mod taints;
pub mod zones;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::pods::cache::{self, Change};
use crate::pods::{self};
use crate::{Config, Context, Result};
use taints::{NO_EXECUTE, NOT_READY, UNREACHABLE};

/// The namespace of node heartbeat Leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// Runs the controller and the pod garbage collector until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    let client = ctx.client.clone();
    let (nodes, nodes_w) = cache::store::<Node>();
    let (leases, leases_w) = cache::store::<Lease>();
    let (pod_store, pods_w) = cache::store::<Pod>();
    let changed = Arc::new(Notify::new());
    let cfg = watcher::Config::default();
    let node_watch = cache::follow(
        watcher::watcher(Api::<Node>::all(client.clone()), cfg.clone()),
        nodes_w,
        {
            let changed = changed.clone();
            move |_: Change<Node>| changed.notify_one()
        },
    );
    let lease_watch = cache::follow(
        watcher::watcher(
            Api::<Lease>::namespaced(client.clone(), NODE_LEASE_NAMESPACE),
            cfg.clone(),
        ),
        leases_w,
        |_| {},
    );
    let pod_watch = cache::follow(
        watcher::watcher(Api::<Pod>::all(client.clone()), cfg),
        pods_w,
        |_| {},
    );
    let ready = async {
        futures::future::try_join3(
            nodes.wait_until_ready(),
            leases.wait_until_ready(),
            pod_store.wait_until_ready(),
        )
        .await
        .is_ok()
    };
    let work = async {
        if !ready.await {
            return;
        }
        let mut lifecycle = Lifecycle::new(&ctx, nodes.clone(), leases.clone(), pod_store.clone());
        let mut gc = podgc::PodGc::new(
            client.clone(),
            nodes.clone(),
            pod_store.clone(),
            ctx.config.node_monitor_grace_period,
        );
        let gc_period = (ctx.config.node_monitor_grace_period / 2)
            .clamp(Duration::from_millis(100), Duration::from_secs(20));
        let gc_loop = async {
            loop {
                gc.pass().await;
                tokio::time::sleep(gc_period).await;
            }
        };
        tokio::join!(lifecycle.run(&changed), gc_loop);
    };
    tokio::join!(node_watch, lease_watch, pod_watch, work);
    Ok(())
}

/// How often node health is judged: upstream's 5 s, or more often when
/// the grace period is short (tests).
fn monitor_period(config: &Config) -> Duration {
    (config.node_monitor_grace_period / 8).clamp(Duration::from_millis(50), Duration::from_secs(5))
}

/// How often the NoExecute tainting queues are looked at (upstream's
/// `nodeEvictionPeriod`).
const TAINT_PASS: Duration = Duration::from_millis(100);

struct Lifecycle {
    client: Client,
    config: Arc<Config>,
    nodes: Store<Node>,
    leases: Store<Lease>,
    pods: Store<Pod>,
    health: health::Health,
    zones: zones::Zones,
    known: HashSet<String>,
    /// Nodes whose pods could not all be marked not ready yet.
    retry_mark: HashSet<String>,
    evictions: eviction::Schedule,
    recorder: Recorder,
    evict_recorder: Recorder,
}

// === impl Lifecycle ===

impl Lifecycle {
    fn new(ctx: &Context, nodes: Store<Node>, leases: Store<Lease>, pods: Store<Pod>) -> Self {
        let recorder = |name: &str| {
            Recorder::new(
                ctx.client.clone(),
                Reporter {
                    controller: name.into(),
                    instance: None,
                },
            )
        };
        Lifecycle {
            client: ctx.client.clone(),
            config: ctx.config.clone(),
            nodes,
            leases,
            pods,
            health: health::Health::default(),
            zones: zones::Zones::default(),
            known: HashSet::new(),
            retry_mark: HashSet::new(),
            evictions: eviction::Schedule::default(),
            recorder: recorder("node-controller"),
            evict_recorder: recorder("taint-eviction-controller"),
        }
    }

    fn node_api(&self) -> Api<Node> {
        Api::all(self.client.clone())
    }

    async fn run(&mut self, changed: &Notify) {
        let period = monitor_period(&self.config);
        let mut next_monitor = Instant::now();
        loop {
            let now = Instant::now();
            if now >= next_monitor {
                self.monitor(now).await;
                next_monitor = now + period;
            }
            self.no_schedule_pass().await;
            self.taint_pass(Instant::now()).await;
            self.eviction_pass(Instant::now()).await;
            let mut wake = next_monitor.min(Instant::now() + TAINT_PASS);
            if let Some(due) = self.evictions.next() {
                wake = wake.min(due);
            }
            tokio::select! {
                _ = changed.notified() => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// Upstream's `monitorNodeHealth`.
    async fn monitor(&mut self, now: Instant) {
        let nodes = self.nodes.state();
        let names: HashSet<String> = nodes.iter().map(|n| n.name_any()).collect();
        for n in &nodes {
            if self.known.insert(n.name_any()) {
                self.node_event(
                    n,
                    "RegisteredNode",
                    format!("Registered Node {} in Controller", n.name_any()),
                )
                .await;
                self.mark_reachable(n).await;
            }
        }
        let gone: Vec<String> = self.known.difference(&names).cloned().collect();
        for name in gone {
            self.known.remove(&name);
            self.retry_mark.remove(&name);
            tracing::info!(node = %name, "Removing Node from Controller");
        }
        self.health.retain(&names);

        let mut ready_by_zone: HashMap<String, Vec<Option<NodeCondition>>> = HashMap::new();
        let grace = self.config.node_monitor_grace_period;
        for cached in &nodes {
            let name = cached.name_any();
            let lease = self
                .leases
                .get(&ObjectRef::new(&name).within(NODE_LEASE_NAMESPACE));
            let seen = self.health.observe(cached, lease.as_deref(), grace, now);
            let mut node: Node = (**cached).clone();
            if let Some(status) = seen.update {
                let mut next = node.clone();
                next.status = Some(status.clone());
                match self
                    .node_api()
                    .replace_status(&name, &PostParams::default(), &next)
                    .await
                {
                    Ok(written) => {
                        self.health.written(&name, &status);
                        node = written;
                    }
                    Err(e) => {
                        tracing::debug!(node = %name, error = %e, "cannot update node status; next pass");
                        continue;
                    }
                }
            }
            if zones::counted(&node) {
                ready_by_zone
                    .entry(zones::zone_of(&node))
                    .or_default()
                    .push(seen.current.clone());
            }
            let Some(current) = seen.current else {
                continue;
            };
            self.taint_for_eviction(&node, &current, now).await;
            let became_not_ready = current.status != "True" && seen.observed.status == "True";
            if became_not_ready {
                self.node_event(
                    &node,
                    "NodeNotReady",
                    format!("Node {name} status is now: NodeNotReady"),
                )
                .await;
            }
            if current.status != "True" && (became_not_ready || self.retry_mark.contains(&name)) {
                if self.mark_pods_not_ready(&name).await {
                    self.retry_mark.remove(&name);
                } else {
                    self.retry_mark.insert(name);
                }
                continue;
            }
            if current.status == "True" && seen.observed.status != "True" {
                self.node_event(
                    &node,
                    "NodeReady",
                    format!("Node {name} status is now: NodeReady"),
                )
                .await;
            }
            self.retry_mark.remove(&name);
        }
        match self.zones.update(&ready_by_zone, now) {
            zones::Transition::EnteredFullDisruption => {
                tracing::info!("every node is not ready: entering master disruption mode");
                for n in &nodes {
                    self.mark_reachable(n).await;
                }
            }
            zones::Transition::LeftFullDisruption => {
                tracing::info!("some nodes are ready: leaving master disruption mode");
                self.health.reset_probes(now);
            }
            zones::Transition::None => {}
        }
    }

    /// Upstream's `processTaintBaseEviction`.
    async fn taint_for_eviction(&mut self, node: &Node, ready: &NodeCondition, now: Instant) {
        let name = node.name_any();
        let zone = zones::zone_of(node);
        let (want, opposite) = match ready.status.as_str() {
            "False" => (NOT_READY, UNREACHABLE),
            "Unknown" => (UNREACHABLE, NOT_READY),
            _ => {
                self.mark_reachable(node).await;
                return;
            }
        };
        if taints::has(node, opposite, NO_EXECUTE) {
            // Already tainted the other way: swap at once.
            if let Some(t) = taints::swap_no_execute(node, Some(want), &[opposite])
                && let Err(e) = taints::write(&self.node_api(), node, t).await
            {
                tracing::debug!(node = %name, error = %e, "cannot swap taints; next pass");
            }
        } else if !taints::has(node, want, NO_EXECUTE) {
            self.zones.enqueue(&zone, &name, now);
        }
    }

    /// Upstream's `markNodeAsReachable`: our NoExecute taints off.
    async fn mark_reachable(&mut self, node: &Node) {
        self.zones.dequeue(&zones::zone_of(node), &node.name_any());
        if let Some(t) = taints::swap_no_execute(node, None, &[NOT_READY, UNREACHABLE])
            && let Err(e) = taints::write(&self.node_api(), node, t).await
        {
            tracing::debug!(node = %node.name_any(), error = %e, "cannot remove taints; next pass");
        }
    }

    /// Upstream's `doNoExecuteTaintingPass`: the nodes whose turn came get
    /// their NoExecute taint, judged on a fresh read.
    async fn taint_pass(&mut self, now: Instant) {
        for (zone, name) in self.zones.due(now) {
            let node = match self.node_api().get_opt(&name).await {
                Ok(Some(n)) => n,
                Ok(None) => continue,
                Err(_) => {
                    self.zones.enqueue(&zone, &name, now);
                    continue;
                }
            };
            let ready = health::condition(node.status.as_ref(), "Ready").map(|c| c.status.clone());
            let (add, remove) = match ready.as_deref() {
                Some("False") => (NOT_READY, UNREACHABLE),
                Some("Unknown") => (UNREACHABLE, NOT_READY),
                _ => continue,
            };
            if let Some(t) = taints::swap_no_execute(&node, Some(add), &[remove])
                && let Err(e) = taints::write(&self.node_api(), &node, t).await
            {
                tracing::debug!(node = %name, error = %e, "cannot taint node; requeued");
                self.zones.enqueue(&zone, &name, now);
            }
        }
    }

    /// Upstream's `doNoScheduleTaintingPass`, for every node.
    async fn no_schedule_pass(&self) {
        for node in self.nodes.state() {
            if let Some(t) = taints::with_no_schedule(&node)
                && let Err(e) = taints::write(&self.node_api(), &node, t).await
            {
                tracing::debug!(node = %node.name_any(), error = %e, "cannot update taints; next pass");
            }
        }
    }

    /// Upstream's `MarkPodsNotReady`; returns whether every pod was done.
    async fn mark_pods_not_ready(&self, node: &str) -> bool {
        let mut ok = true;
        for pod in self.pods.state() {
            if pods::node_name(&pod) != node || !pods::is_pod_ready(&pod) {
                continue;
            }
            let mut p = (*pod).clone();
            if let Some(c) = p
                .status
                .as_mut()
                .and_then(|s| s.conditions.as_mut())
                .and_then(|c| c.iter_mut().find(|c| c.type_ == "Ready"))
            {
                c.status = "False".into();
                c.last_transition_time = Some(Time(Timestamp::now()));
            }
            let ns = p.namespace().unwrap_or_default();
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
            match api
                .replace_status(&p.name_any(), &PostParams::default(), &p)
                .await
            {
                Ok(_) => {
                    let ev = Event {
                        type_: EventType::Warning,
                        reason: "NodeNotReady".into(),
                        note: Some("Node is not ready".into()),
                        action: "MarkPodNotReady".into(),
                        secondary: None,
                    };
                    let _ = self.recorder.publish(&ev, &p.object_ref(&())).await;
                }
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => {
                    tracing::debug!(pod = %p.name_any(), error = %e, "cannot mark pod not ready");
                    ok = false;
                }
            }
        }
        ok
    }

    async fn node_event(&self, node: &Node, reason: &str, note: String) {
        let ev = Event {
            type_: EventType::Normal,
            reason: reason.into(),
            note: Some(note),
            action: reason.into(),
            secondary: None,
        };
        let _ = self.recorder.publish(&ev, &node.object_ref(&())).await;
    }
}

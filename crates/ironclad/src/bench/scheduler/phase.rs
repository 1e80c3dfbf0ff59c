//! One phase of `ironclad bench scheduler`: create the pods from several
//! clients, have them bound (by the scheduler, or round-robin), optionally
//! marked Running by a fake kubelet, and time it all through a watch.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use ironclad_testkit::{PodState, client_for, mark_pod};
use k8s_openapi::api::core::v1::{
    Binding, Container, Namespace, ObjectReference, Pod, PodSpec, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher::{self, Event};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::Plan;
use crate::bench::percentile;

/// How long a phase may take before the benchmark gives up.
const PHASE_DEADLINE: Duration = Duration::from_secs(600);
/// The schedulerName of the baseline's pods (the scheduler ignores them).
const ROUND_ROBIN: &str = "bench-round-robin";
/// Status patches the fake kubelet has in flight.
const KUBELET_CONCURRENCY: usize = 16;

/// Who binds the pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binder {
    /// ironclad's scheduler.
    Scheduler,
    /// The baseline: no decision, next node in turn.
    RoundRobin,
}

/// One phase's setup.
pub(crate) struct Phase {
    pub url: String,
    pub binder: Binder,
    pub kubelet: bool,
    pub plan: Plan,
    pub nodes: Vec<String>,
}

/// What one phase measured.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// Pods / (first create sent -> last binding seen).
    pub bound_per_second: f64,
    /// Pods / (first create sent -> last pod seen Running); NaN without
    /// the kubelet.
    pub running_per_second: f64,
    /// Pods / (first create sent -> last create acknowledged).
    pub created_per_second: f64,
    /// Create sent -> binding seen, per pod, in ms.
    pub latency_p50: f64,
    /// Same, 99th percentile.
    pub latency_p99: f64,
    /// CPU time of this whole process (API server, store, scheduler,
    /// harness) per pod, in ms: steadier than rates on a shared machine.
    pub cpu_ms_per_pod: f64,
    /// Scheduled events the phase's namespace holds at the end.
    pub scheduled_events: usize,
}

impl Outcome {
    pub fn summary(&self) -> String {
        let running = if self.running_per_second.is_nan() {
            String::new()
        } else {
            format!(", {:.0} running/s", self.running_per_second)
        };
        format!(
            "{:.0} bound/s (created at {:.0}/s), create->bound p50 {:.1} ms, p99 {:.1} ms{running}, \
             {:.2} ms CPU per pod, {} Scheduled events",
            self.bound_per_second,
            self.created_per_second,
            self.latency_p50,
            self.latency_p99,
            self.cpu_ms_per_pod,
            self.scheduled_events
        )
    }
}

/// When each pod was seen bound and Running.
struct Seen {
    bound: Vec<Option<Instant>>,
    running: Vec<Option<Instant>>,
}

// === impl Phase ===

impl Phase {
    fn namespace(&self) -> String {
        let who = match self.binder {
            Binder::Scheduler => "scheduler",
            Binder::RoundRobin => "round-robin",
        };
        let kubelet = if self.kubelet { "-kubelet" } else { "" };
        format!("bench-{who}{kubelet}")
    }

    pub fn describe(&self) -> String {
        let who = match self.binder {
            Binder::Scheduler => "the scheduler places",
            Binder::RoundRobin => "round-robin binder binds",
        };
        let kubelet = if self.kubelet {
            ", fake kubelet marks them Running"
        } else {
            ""
        };
        format!(
            "{who} {} pods on {} nodes{kubelet}",
            self.plan.pods, self.plan.nodes
        )
    }

    /// Runs the phase.
    pub async fn run(&self) -> anyhow::Result<Outcome> {
        let client = client_for(&self.url)?;
        let ns = self.namespace();
        create_namespace(&client, &ns).await?;
        let n = self.plan.pods;

        // Everything that watches is listening before the first create.
        let mut helpers = JoinSet::new();
        let (ready, observed) = oneshot::channel();
        let (seen_tx, seen_rx) = oneshot::channel();
        helpers.spawn(observe(
            client_for(&self.url)?,
            ns.clone(),
            n,
            self.kubelet,
            ready,
            seen_tx,
        ));
        observed.await.context("the observer's watch")?;
        if self.binder == Binder::RoundRobin {
            let (ready, listening) = oneshot::channel();
            helpers.spawn(round_robin(
                client_for(&self.url)?,
                ns.clone(),
                self.nodes.clone(),
                ready,
            ));
            listening.await.context("the binder's watch")?;
        }
        if self.kubelet {
            let (ready, listening) = oneshot::channel();
            helpers.spawn(kubelet(client_for(&self.url)?, ns.clone(), ready));
            listening.await.context("the kubelet's watch")?;
        }

        let scheduler = match self.binder {
            Binder::Scheduler => None,
            Binder::RoundRobin => Some(ROUND_ROBIN),
        };
        let creators = (0..self.plan.clients)
            .map(|_| Ok((client_for(&self.url)?, ns.clone())))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let cpu_before = process_cpu();
        let start = Instant::now();
        let sent = create_pods(creators, n, scheduler).await?;
        let created = start.elapsed();
        let seen = tokio::time::timeout(PHASE_DEADLINE, seen_rx)
            .await
            .context("the phase took too long")?
            .context("the observer stopped")?;
        helpers.abort_all();
        // The events of the last pods are still being written: their CPU
        // belongs to the phase.
        let scheduled_events = settled_scheduled_events(&client, &ns).await?;
        let cpu = process_cpu() - cpu_before;

        let last = |times: &[Option<Instant>]| {
            times
                .iter()
                .flatten()
                .max()
                .map_or(f64::NAN, |t| t.duration_since(start).as_secs_f64())
        };
        let mut latencies: Vec<f64> = sent
            .iter()
            .zip(&seen.bound)
            .filter_map(|(s, b)| {
                Some(b.as_ref()?.saturating_duration_since(*s).as_secs_f64() * 1e3)
            })
            .collect();
        latencies.sort_by(f64::total_cmp);
        Ok(Outcome {
            bound_per_second: n as f64 / last(&seen.bound),
            running_per_second: if self.kubelet {
                n as f64 / last(&seen.running)
            } else {
                f64::NAN
            },
            created_per_second: n as f64 / created.as_secs_f64(),
            latency_p50: percentile(&latencies, 50.0),
            latency_p99: percentile(&latencies, 99.0),
            cpu_ms_per_pod: cpu.as_secs_f64() * 1e3 / n as f64,
            scheduled_events,
        })
    }
}

/// User + system CPU time of this process so far (from /proc, in
/// USER_HZ ticks of 10 ms).
fn process_cpu() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses.
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            // utime and stime are fields 14 and 15; `rest` starts at field 3.
            let utime: u64 = rest.get(11)?.parse().ok()?;
            let stime: u64 = rest.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// How many Scheduled events `ns` holds once their number stops growing
/// (the scheduler drops events when its queue of them is full, as
/// upstream's broadcaster does, so it may stay below the pods).
async fn settled_scheduled_events(client: &Client, ns: &str) -> anyhow::Result<usize> {
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), ns);
    let until = Instant::now() + Duration::from_secs(10);
    let mut last = usize::MAX;
    loop {
        let list = events
            .list_metadata(&ListParams::default().fields("reason=Scheduled"))
            .await
            .context("list events")?;
        let n = list.items.len();
        if n == last || Instant::now() > until {
            return Ok(n);
        }
        last = n;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn pod_name(i: usize) -> String {
    format!("p-{i:06}")
}

fn pod_index(name: &str) -> Option<usize> {
    name.strip_prefix("p-")?.parse().ok()
}

/// A pod asking for 100m cpu and 64Mi.
fn pod(name: &str, scheduler: Option<&str>) -> Pod {
    let requests = BTreeMap::from([
        ("cpu".to_string(), Quantity("100m".into())),
        ("memory".to_string(), Quantity("64Mi".into())),
    ]);
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(BTreeMap::from([("app".into(), "bench".into())])),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "c".into(),
                image: Some("registry.k8s.io/pause:3.10".into()),
                resources: Some(ResourceRequirements {
                    requests: Some(requests),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            scheduler_name: scheduler.map(str::to_string),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn create_namespace(client: &Client, name: &str) -> anyhow::Result<()> {
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .with_context(|| format!("create namespace {name}"))?;
    Ok(())
}

/// Creates pods 0..n from each of `creators` (each its own client and
/// connections) in turn, each as fast as the server answers; returns when
/// each was sent.
async fn create_pods(
    creators: Vec<(Client, String)>,
    n: usize,
    scheduler: Option<&'static str>,
) -> anyhow::Result<Vec<Instant>> {
    let clients = creators.len().max(1);
    let mut tasks = JoinSet::new();
    for (k, (client, ns)) in creators.into_iter().enumerate() {
        tasks.spawn(async move {
            let path = format!("/api/v1/namespaces/{ns}/pods");
            let mut sent = Vec::new();
            for i in (k..n).step_by(clients) {
                let body = serde_json::to_vec(&pod(&pod_name(i), scheduler))?;
                let req = kube::core::Request::new(&path).create(&PostParams::default(), body)?;
                let at = Instant::now();
                // The answer is checked for errors, not parsed.
                client.request_text(req).await?;
                sent.push((i, at));
            }
            Ok::<_, anyhow::Error>(sent)
        });
    }
    let mut sent = vec![Instant::now(); n];
    while let Some(r) = tasks.join_next().await {
        for (i, at) in r.context("a creating client")?.context("create a pod")? {
            sent[i] = at;
        }
    }
    Ok(sent)
}

/// Watches the namespace until every pod is bound (and Running, with the
/// kubelet), noting when each was first seen so.
async fn observe(
    client: Client,
    ns: String,
    n: usize,
    kubelet: bool,
    ready: oneshot::Sender<()>,
    done: oneshot::Sender<Seen>,
) {
    let mut seen = Seen {
        bound: vec![None; n],
        running: vec![None; n],
    };
    let (mut bound, mut running) = (0, 0);
    let mut done = Some(done);
    light_watch(&client, &ns, ready, |pod| {
        let now = Instant::now();
        let Some(i) = pod_index(&pod.metadata.name).filter(|i| *i < n) else {
            return true;
        };
        if seen.bound[i].is_none() && pod.spec.node_name.is_some() {
            seen.bound[i] = Some(now);
            bound += 1;
        }
        if seen.running[i].is_none() && pod.status.phase.as_deref() == Some("Running") {
            seen.running[i] = Some(now);
            running += 1;
        }
        if bound == n && (!kubelet || running == n) {
            if let Some(d) = done.take() {
                let _ = d.send(std::mem::replace(
                    &mut seen,
                    Seen {
                        bound: Vec::new(),
                        running: Vec::new(),
                    },
                ));
            }
            return false;
        }
        true
    })
    .await;
}

/// The few fields of a pod the observer and the binder read: parsing only
/// these keeps the harness's share of the CPU small.
#[derive(Debug, Clone, serde::Deserialize)]
struct LightPod {
    metadata: LightMeta,
    #[serde(default)]
    spec: LightSpec,
    #[serde(default)]
    status: LightStatus,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LightMeta {
    name: String,
    #[serde(default)]
    resource_version: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LightSpec {
    node_name: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
struct LightStatus {
    phase: Option<String>,
}

/// Watches the pods of `ns` (empty when it starts), calling `each` on
/// every added or modified pod until it answers false; signals `ready`
/// once the server has the watch.
async fn light_watch(
    client: &Client,
    ns: &str,
    ready: oneshot::Sender<()>,
    mut each: impl FnMut(LightPod) -> bool,
) {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut rv = match api.list_metadata(&ListParams::default().limit(1)).await {
        Ok(list) => list.metadata.resource_version.unwrap_or_default(),
        Err(e) => {
            tracing::warn!("bench watch: list: {e}");
            return;
        }
    };
    let mut ready = Some(ready);
    let path = format!("/api/v1/namespaces/{ns}/pods");
    loop {
        let req = match kube::core::Request::new(&path).watch(&WatchParams::default(), &rv) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("bench watch: {e}");
                return;
            }
        };
        let stream = match client.request_events::<LightPod>(req).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("bench watch: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if let Some(r) = ready.take() {
            let _ = r.send(());
        }
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(WatchEvent::Added(p) | WatchEvent::Modified(p)) => {
                    rv.clone_from(&p.metadata.resource_version);
                    if !each(p) {
                        return;
                    }
                }
                Ok(WatchEvent::Bookmark(b)) => rv = b.metadata.resource_version,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("bench watch: {e}");
                    break;
                }
            }
        }
    }
}

/// Binds every pending pod of the namespace to the next node in turn, with
/// as many bindings in flight as the scheduler allows itself.
async fn round_robin(client: Client, ns: String, nodes: Vec<String>, ready: oneshot::Sender<()>) {
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let mut sent = HashSet::new();
    let watch = light_watch(&client, &ns, ready, |p| {
        if p.spec.node_name.is_none() && sent.insert(p.metadata.name.clone()) {
            return tx.send(p.metadata.name).is_ok();
        }
        true
    });
    let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let concurrency = ironclad_scheduler::Config::default().max_in_flight_bindings;
    let bind = tokio_stream_of(rx)
        .enumerate()
        .for_each_concurrent(concurrency, |(i, name)| {
            let api = api.clone();
            let node = nodes[i % nodes.len()].clone();
            async move {
                let binding = Binding {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        ..Default::default()
                    },
                    target: ObjectReference {
                        api_version: Some("v1".into()),
                        kind: Some("Node".into()),
                        name: Some(node),
                        ..Default::default()
                    },
                };
                if let Err(e) = api
                    .create_subresource::<_, serde_json::Value>(
                        "binding",
                        &name,
                        &PostParams::default(),
                        &binding,
                    )
                    .await
                {
                    tracing::warn!("bench binder: {name}: {e}");
                }
            }
        });
    futures::join!(watch, bind);
}

/// Marks every bound pod of the namespace Running, as its kubelet would.
async fn kubelet(client: Client, ns: String, ready: oneshot::Sender<()>) {
    let (tx, rx) = mpsc::unbounded_channel::<Pod>();
    let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let watch = watch_pods(api, ready, tx, |p| {
        p.spec.as_ref().is_some_and(|s| s.node_name.is_some())
    });
    let mark = tokio_stream_of(rx).for_each_concurrent(KUBELET_CONCURRENCY, |pod| {
        let client = client.clone();
        async move {
            if let Err(e) = mark_pod(&client, &pod, PodState::RunningReady).await {
                tracing::warn!("bench kubelet: {:?}: {e}", pod.metadata.name);
            }
        }
    });
    futures::join!(watch, mark);
}

/// Sends each pod of `api` once, the first time `wanted` holds for it;
/// signals `ready` once the watch is established.
async fn watch_pods(
    api: Api<Pod>,
    ready: oneshot::Sender<()>,
    tx: mpsc::UnboundedSender<Pod>,
    wanted: impl Fn(&Pod) -> bool,
) {
    let mut sent = HashSet::new();
    let mut ready = Some(ready);
    let mut stream = std::pin::pin!(watcher::watcher(api, watcher::Config::default()));
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::InitDone) => {
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
            }
            Ok(Event::Apply(p) | Event::InitApply(p)) => {
                let Some(name) = p.metadata.name.clone() else {
                    continue;
                };
                if wanted(&p) && !sent.contains(&name) {
                    sent.insert(name);
                    if tx.send(p).is_err() {
                        return;
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("bench watch: {e}"),
        }
    }
}

fn tokio_stream_of<T>(mut rx: mpsc::UnboundedReceiver<T>) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Waits until the scheduler binds a probe pod: its watches are listed and
/// it is deciding.
pub(crate) async fn wait_scheduler_ready(url: &str) -> anyhow::Result<()> {
    let client = client_for(url)?;
    create_namespace(&client, "bench-probe").await?;
    let api: Api<Pod> = Api::namespaced(client, "bench-probe");
    api.create(&PostParams::default(), &pod("probe", None))
        .await
        .context("create the probe pod")?;
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let p = api.get("probe").await.context("read the probe pod")?;
        if p.spec.and_then(|s| s.node_name).is_some() {
            return Ok(());
        }
        if Instant::now() > until {
            anyhow::bail!("the scheduler did not bind a probe pod within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

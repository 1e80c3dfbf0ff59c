//! `ironclad bench scheduler`: pods scheduled per second onto hollow
//! nodes (Node objects only, no agent), against a baseline measured in the
//! same run.
//!
//! The API server runs in this process on a fresh embedded store with the
//! configuration `ironclad server` uses (durable: the write-ahead log is
//! fsync'd before each acknowledgement). After the nodes are created the
//! scheduler runs, unelected, for the whole benchmark. Each phase creates
//! its pods in a fresh namespace from several clients at once, as fast as
//! the server takes them, and watches them until the last one is bound.
//!
//! - ironclad: the scheduler places the pods (filters, scores, binds,
//!   writes a Scheduled event per pod).
//! - baseline: the same pods with another `schedulerName`, bound
//!   round-robin by a binder that makes no decision (a watch, then the same
//!   number of concurrent `pods/binding` POSTs as the scheduler allows
//!   itself): the rate the API server accepts bindings at. What separates
//!   the two is the scheduler's own cost.
//!
//! Both are measured again with a fake kubelet that marks every bound pod
//! Running (one watch, status patches), up to the last pod seen Running.

mod phase;

use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use futures::StreamExt;
use ironclad_apiserver::ApiServer;
use ironclad_store::Store;
use ironclad_store_embedded::{Config as StoreConfig, EmbeddedStore};
use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};

use self::phase::{Binder, Outcome, Phase};
use super::{Better, Figure, Report};

/// Requests in flight while the nodes are created (not measured).
const NODE_CLIENTS: usize = 16;
/// The target for 1000 nodes and 5000 pods.
const TARGET_PODS_PER_SECOND: f64 = 1000.0;

/// Options of `ironclad bench scheduler`.
#[derive(Args, Debug)]
pub struct SchedulerBenchArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// A smoke run: 100 nodes and 500 pods per phase. The figure names
    /// stay those of the full run.
    #[arg(long)]
    quick: bool,
    /// Hollow nodes.
    #[arg(long, default_value_t = 1000)]
    nodes: usize,
    /// Pods per phase.
    #[arg(long, default_value_t = 5000)]
    pods: usize,
    /// Clients creating pods at once.
    #[arg(long, default_value_t = 16)]
    clients: usize,
}

/// The sizes of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub nodes: usize,
    pub pods: usize,
    pub clients: usize,
}

impl From<&SchedulerBenchArgs> for Plan {
    fn from(a: &SchedulerBenchArgs) -> Plan {
        let (nodes, pods) = if a.quick {
            (a.nodes.min(100), a.pods.min(500))
        } else {
            (a.nodes, a.pods)
        };
        Plan {
            nodes: nodes.max(1),
            pods: pods.max(1),
            clients: a.clients.max(1),
        }
    }
}

/// An API server in this process on a durable embedded store.
struct Cluster {
    url: String,
    serve: tokio::task::JoinHandle<()>,
    _api: ApiServer,
    _dir: tempfile::TempDir,
}

impl Cluster {
    async fn start() -> anyhow::Result<Cluster> {
        let dir = tempfile::Builder::new()
            .prefix("ironclad-bench-scheduler-")
            .tempdir()
            .context("temp dir")?;
        // The server's own store configuration (fsync on).
        let store: Arc<dyn Store> = Arc::new(
            EmbeddedStore::open(dir.path(), StoreConfig::default())
                .await
                .context("open the embedded store")?,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("listen")?;
        let addr = listener.local_addr().context("listen")?;
        let api = ApiServer::new(
            store,
            ironclad_apiserver::Config::new(addr.ip(), addr.port()),
        )
        .await
        .context("start the API server")?;
        let router = api.router();
        let serve = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Cluster {
            url: format!("http://{addr}"),
            serve,
            _api: api,
            _dir: dir,
        })
    }

    fn client(&self) -> anyhow::Result<Client> {
        ironclad_testkit::client_for(&self.url).context("client")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.serve.abort();
    }
}

/// Runs `ironclad bench scheduler`.
pub async fn run(args: SchedulerBenchArgs) -> anyhow::Result<()> {
    let plan = Plan::from(&args);
    let say = |m: &str| {
        if !args.json {
            eprintln!("{m}");
        }
    };
    say("bench scheduler: API server in this process, embedded store with fsync on");
    let cluster = Cluster::start().await?;
    let client = cluster.client()?;
    say(&format!(
        "  {} hollow nodes (4 cpu, 16Gi, 110 pods each)",
        plan.nodes
    ));
    let nodes = create_nodes(&client, plan.nodes).await?;

    let scheduler = tokio::spawn(ironclad_scheduler::Scheduler::run(
        client.clone(),
        ironclad_scheduler::Config::default(),
    ));
    let _stop = AbortOnDrop(scheduler);
    phase::wait_scheduler_ready(&cluster.url).await?;

    let mut results = Vec::new();
    for (binder, kubelet) in [
        (Binder::Scheduler, false),
        (Binder::RoundRobin, false),
        (Binder::Scheduler, true),
        (Binder::RoundRobin, true),
    ] {
        let p = Phase {
            url: cluster.url.clone(),
            binder,
            kubelet,
            plan,
            nodes: nodes.clone(),
        };
        say(&format!("  {}", p.describe()));
        let outcome = p.run().await?;
        say(&format!("    {}", outcome.summary()));
        results.push(outcome);
    }
    let [ours, base, ours_k, base_k] =
        <[Outcome; 4]>::try_from(results).map_err(|_| anyhow::anyhow!("four phases expected"))?;

    let report = report(&ours, &base, &ours_k, &base_k);
    if !args.json {
        legend(plan);
    }
    report.print(args.json)?;
    if !args.json {
        let check = if ours.bound_per_second >= TARGET_PODS_PER_SECOND {
            "met"
        } else {
            "MISSED"
        };
        println!(
            "target: >= {TARGET_PODS_PER_SECOND} pods/s with 1000 nodes and 5000 pods: \
             {:.0} pods/s with {} nodes and {} pods, {check}",
            ours.bound_per_second, plan.nodes, plan.pods
        );
    }
    Ok(())
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Creates `n` Ready nodes (spec, then status, as a kubelet registers).
async fn create_nodes(client: &Client, n: usize) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> = (0..n).map(|i| format!("hollow-{i:05}")).collect();
    let api: Api<Node> = Api::all(client.clone());
    let mut created = futures::stream::iter(names.clone())
        .map(|name| {
            let api = api.clone();
            async move {
                let node = ironclad_testkit::node_object(&name, "4", "16Gi");
                api.create(&PostParams::default(), &node).await?;
                let status = serde_json::json!({"status": node.status});
                api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                    .await?;
                Ok::<_, kube::Error>(())
            }
        })
        .buffer_unordered(NODE_CLIENTS);
    while let Some(r) = created.next().await {
        r.context("create a node")?;
    }
    Ok(names)
}

fn report(ours: &Outcome, base: &Outcome, ours_k: &Outcome, base_k: &Outcome) -> Report {
    let fig = |name, unit, ironclad, baseline, better| Figure {
        name,
        unit,
        ironclad,
        baseline,
        better,
    };
    Report {
        bench: "scheduler",
        baseline: "round-robin binder".into(),
        results: vec![
            fig(
                "pods_per_second_1000_nodes",
                "pods/s",
                ours.bound_per_second,
                base.bound_per_second,
                Better::Higher,
            ),
            fig(
                "schedule_p50",
                "ms",
                ours.latency_p50,
                base.latency_p50,
                Better::Lower,
            ),
            fig(
                "schedule_p99",
                "ms",
                ours.latency_p99,
                base.latency_p99,
                Better::Lower,
            ),
            fig(
                "cpu_per_pod",
                "ms",
                ours.cpu_ms_per_pod,
                base.cpu_ms_per_pod,
                Better::Lower,
            ),
            fig(
                "creates_per_second",
                "pods/s",
                ours.created_per_second,
                base.created_per_second,
                Better::Higher,
            ),
            fig(
                "bound_per_s_kubelet",
                "pods/s",
                ours_k.bound_per_second,
                base_k.bound_per_second,
                Better::Higher,
            ),
            fig(
                "running_per_second",
                "pods/s",
                ours_k.running_per_second,
                base_k.running_per_second,
                Better::Higher,
            ),
        ],
    }
}

fn legend(plan: Plan) {
    println!(
        "\n{} hollow nodes, {} pods per phase (100m cpu, 64Mi each) created by {} clients as fast \
         as the server acknowledges them; API server, scheduler and load in this process, embedded \
         store with fsync on (the server's configuration).\n\
         ironclad: the scheduler places the pods. round-robin binder: the same pods (another \
         schedulerName) bound node after node by {} concurrent binding POSTs, no decision.\n\
         pods_per_second: pods / (first create sent -> last binding seen on a watch); schedule_p50/p99: \
         create sent -> binding seen, per pod; cpu_per_pod: CPU time of this \
         process (API server, store, scheduler and harness together) per pod; creates_per_second: pods / (first create sent -> last \
         create acknowledged); *_kubelet, running_per_second: again, with a fake kubelet marking each \
         bound pod Running (status patches), up to the last pod seen Running.",
        plan.nodes,
        plan.pods,
        plan.clients,
        ironclad_scheduler::Config::default().max_in_flight_bindings
    );
}

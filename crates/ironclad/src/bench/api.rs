//! `ironclad bench api`: the API server under a fixed request rate, with
//! its embedded store and with a single-member etcd behind it (started on
//! loopback from the installed `etcd`, fsync on, as `bench store` does).
//! The baseline is the same load straight on the store the server used,
//! measured in the same run: what remains is the API server's own cost.
//!
//! The server runs as its own process (`ironclad server` from this binary)
//! so its idle memory is its own; the raw store runs in this process. The
//! client speaks HTTPS with the admin certificate of the server's
//! `admin.kubeconfig`.
//!
//! The security chain's cost is measured apart (`auth_*`): the same load
//! on two in-process servers, authentication and authorization off and on.

mod auth_chain;
mod credentials;
mod fanout;
mod http;
mod inprocess;
mod load;
mod process;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use clap::Args;
use futures::StreamExt;
use ironclad_store::Store;
use ironclad_store_embedded::{Config, EmbeddedStore};
use ironclad_store_etcd::{EtcdCluster, EtcdStore};

use self::auth_chain::AuthChain;
use self::fanout::Fanout;
use self::http::Api;
use self::load::{Pace, RawLoad, ServerLoad, Stats};
use self::process::{ServerProcess, settled_rss};
use super::store::etcd_version;
use super::{Better, Figure, Report, rss_mib};

/// Namespace of the objects the idle server holds.
const IDLE_NS: &str = "bench-idle";
/// Requests in flight while the idle objects are created (not measured).
const FILL_CLIENTS: usize = 16;
/// MiB to MB (RSS is read in KiB; the targets are in MB).
const MIB_TO_MB: f64 = 1.048_576;
/// The budget for the security chain: added p99 latency, in ms.
const AUTH_BUDGET_MS: f64 = 1.0;

/// Options of `ironclad bench api`.
#[derive(Args, Debug)]
pub struct ApiBenchArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// A smoke run (about 40 s): 1 s per phase, 100 watchers, 5 watched
    /// writes. The figure names stay those of the full run.
    #[arg(long)]
    quick: bool,
    /// Requests per second of every load phase.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Seconds each load phase lasts.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Concurrent watchers of the fan-out.
    #[arg(long, default_value_t = 1000)]
    watchers: usize,
    /// Writes whose fan-out is measured (10 per second).
    #[arg(long, default_value_t = 30)]
    watch_writes: usize,
    /// ConfigMaps stored while the idle memory is read.
    #[arg(long, default_value_t = 1000)]
    objects: usize,
    /// Let the two servers of the security-chain comparison (auth_*) fsync
    /// every write. Off by default: the chain's cost is CPU work, which the
    /// disk's latency spread would hide in the p99s.
    #[arg(long)]
    auth_fsync: bool,
}

/// The sizes of one run.
#[derive(Debug, Clone, Copy)]
struct Plan {
    pace: Pace,
    watchers: usize,
    writes: usize,
    objects: usize,
    /// Whether the security-chain servers fsync every write.
    auth_fsync: bool,
}

impl From<&ApiBenchArgs> for Plan {
    fn from(a: &ApiBenchArgs) -> Plan {
        let (seconds, watchers, writes) = if a.quick {
            (1, a.watchers.min(100), a.watch_writes.min(5))
        } else {
            (a.seconds, a.watchers, a.watch_writes)
        };
        Plan {
            pace: Pace {
                rate: a.rate.max(1),
                duration: Duration::from_secs(seconds.max(1)),
            },
            watchers: watchers.max(1),
            writes: writes.max(1),
            objects: a.objects,
            auth_fsync: a.auth_fsync,
        }
    }
}

/// What the server measured on one store.
struct ServerSide {
    load: ServerLoad,
    fanout: Fanout,
    /// The server's idle RSS in MB.
    rss: f64,
    /// The store process's RSS at the same moment (etcd; NaN when embedded).
    store_rss: f64,
    /// What the server stored for one ConfigMap, for the raw load.
    stored: Bytes,
}

/// What the same load measured on the store alone.
struct RawSide {
    load: RawLoad,
    fanout: Fanout,
}

/// Runs `ironclad bench api`.
pub async fn run(args: ApiBenchArgs) -> anyhow::Result<()> {
    let plan = Plan::from(&args);
    let say = |m: &str| {
        if !args.json {
            eprintln!("{m}");
        }
    };

    say("bench api: server on the embedded store (its own process, fsync on)");
    let ours = server_side(&[], None, plan, &say).await?;
    say("bench api: the same load on a raw embedded store (this process, fsync on)");
    let ours_raw = {
        let dir = tempfile::tempdir().context("temp dir")?;
        let store = Arc::new(
            EmbeddedStore::open(dir.path(), Config::default())
                .await
                .context("open the embedded store")?,
        );
        let raw = raw_side(store.clone(), ours.stored.clone(), plan, &say).await?;
        // Store watches end asynchronously; close the store once they have.
        if let Ok(s) = Arc::try_unwrap(store) {
            s.close().await.context("close the embedded store")?;
        }
        raw
    };

    say(
        "bench api: security chain: two in-process servers over TLS, auth off and on \
         (Node,RBAC, a non-admin client certificate), alternating every 0.5 s",
    );
    let auth = auth_chain::measure(plan.pace, plan.auth_fsync, &say).await?;

    say("bench api: starting a single-member etcd on loopback");
    let cluster = EtcdCluster::start(1)
        .await
        .context("start etcd (is etcd installed? scripts/setup.sh)")?;
    let etcd = etcd_version();
    say(&format!("bench api: server on {etcd} (its own process)"));
    let theirs = server_side(&cluster.client_urls(), cluster.pid(0), plan, &say).await?;
    say(&format!(
        "bench api: the same load on raw {etcd} (etcd-client in this process)"
    ));
    let store = EtcdStore::connect(&cluster.client_urls())
        .await
        .context("connect to etcd")?;
    let theirs_raw = raw_side(Arc::new(store), theirs.stored.clone(), plan, &say).await?;
    drop(cluster);

    let report = report(&ours, &ours_raw, &theirs, &theirs_raw, &auth);
    if !args.json {
        legend(plan, &etcd);
    }
    report.print(args.json)?;
    if !args.json {
        targets(&ours, &auth);
    }
    Ok(())
}

/// Starts a server, measures its idle memory, loads it, measures its
/// watch fan-out, stops it.
async fn server_side(
    etcd: &[String],
    store_pid: Option<u32>,
    plan: Plan,
    say: &impl Fn(&str),
) -> anyhow::Result<ServerSide> {
    let server = ServerProcess::start(etcd).await?;
    let api = server.api();
    for ns in [IDLE_NS, load::LOAD_NS, load::LIST_NS, fanout::WATCH_NS] {
        api.create_namespace(ns).await?;
    }

    say(&format!("  idle memory with {} ConfigMaps", plan.objects));
    fill(&api, plan.objects).await?;
    let rss = settled_rss(server.pid()).await? * MIB_TO_MB;
    let store_rss = store_pid
        .and_then(rss_mib)
        .map_or(f64::NAN, |r| r * MIB_TO_MB);
    say(&format!("    server RSS {rss:.1} MB"));

    say(&format!(
        "  create, get, list, update at {}/s for {:?} each",
        plan.pace.rate, plan.pace.duration
    ));
    let load = load::through_server(&api, plan.pace, say).await?;
    let stored = api.stored_bytes(load::LOAD_NS, "cm-000000").await?;

    say(&format!(
        "  watch fan-out: {} HTTP watchers, {} writes",
        plan.watchers, plan.writes
    ));
    let fanout = fanout::through_server(&api, plan.watchers, plan.writes).await?;
    say(&format!(
        "    p50 {:.2} ms, p99 {:.2} ms, {} missed",
        fanout.p50, fanout.p99, fanout.missed
    ));
    server.stop().await?;
    Ok(ServerSide {
        load,
        fanout,
        rss,
        store_rss,
        stored,
    })
}

/// Creates `n` ConfigMaps in [`IDLE_NS`], [`FILL_CLIENTS`] at a time.
async fn fill(api: &Api, n: usize) -> anyhow::Result<()> {
    let mut results = futures::stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                api.create_configmap(IDLE_NS, &format!("idle-{i:06}"), i)
                    .await
            }
        })
        .buffer_unordered(FILL_CLIENTS);
    while let Some(r) = results.next().await {
        r?;
    }
    Ok(())
}

/// The same load and fan-out on the store alone.
async fn raw_side(
    store: Arc<dyn Store>,
    stored: Bytes,
    plan: Plan,
    say: &impl Fn(&str),
) -> anyhow::Result<RawSide> {
    say(&format!(
        "  txn put, get, range, txn overwrite at {}/s for {:?} each ({} bytes per value)",
        plan.pace.rate,
        plan.pace.duration,
        stored.len()
    ));
    let load = load::on_store(store.clone(), stored, plan.pace, say).await?;
    say(&format!(
        "  watch fan-out: {} store watchers, {} writes",
        plan.watchers, plan.writes
    ));
    let fanout = fanout::on_store(store, plan.watchers, plan.writes).await?;
    say(&format!(
        "    p50 {:.2} ms, p99 {:.2} ms, {} missed",
        fanout.p50, fanout.p99, fanout.missed
    ));
    Ok(RawSide { load, fanout })
}

/// Names of the figures of one backend.
struct Names {
    /// create, get, list, update: throughput, p50, p99.
    verbs: [[&'static str; 3]; 4],
    mutating: &'static str,
    fanout_p50: &'static str,
    fanout_p99: &'static str,
    delivered: &'static str,
    rss: &'static str,
}

/// The server on the embedded store. `mutating_p99_at_200ps`,
/// `get_p99_at_200ps`, `watch_fanout_p99_1000` and `idle_rss_1000_objects`
/// are a contract (VISION.md); the rest follow their pattern.
const EMBEDDED: Names = Names {
    verbs: [
        [
            "create_ops_at_200ps",
            "create_p50_at_200ps",
            "create_p99_at_200ps",
        ],
        ["get_ops_at_200ps", "get_p50_at_200ps", "get_p99_at_200ps"],
        [
            "list_ops_at_200ps",
            "list_p50_at_200ps",
            "list_p99_at_200ps",
        ],
        [
            "update_ops_at_200ps",
            "update_p50_at_200ps",
            "update_p99_at_200ps",
        ],
    ],
    mutating: "mutating_p99_at_200ps",
    fanout_p50: "watch_fanout_p50_1000",
    fanout_p99: "watch_fanout_p99_1000",
    delivered: "watch_delivered_1000",
    rss: "idle_rss_1000_objects",
};

/// The server on etcd (names short enough for the table's column).
const ETCD: Names = Names {
    verbs: [
        ["create_ops_etcd", "create_p50_etcd", "create_p99_etcd"],
        ["get_ops_etcd", "get_p50_etcd", "get_p99_etcd"],
        ["list_ops_etcd", "list_p50_etcd", "list_p99_etcd"],
        ["update_ops_etcd", "update_p50_etcd", "update_p99_etcd"],
    ],
    mutating: "mutating_p99_etcd",
    fanout_p50: "watch_fanout_p50_etcd",
    fanout_p99: "watch_fanout_p99_etcd",
    delivered: "watch_delivered_etcd",
    rss: "idle_rss_etcd",
};

fn report(
    ours: &ServerSide,
    ours_raw: &RawSide,
    theirs: &ServerSide,
    theirs_raw: &RawSide,
    auth: &AuthChain,
) -> Report {
    let mut results = figures(&EMBEDDED, ours, ours_raw);
    results.extend(figures(&ETCD, theirs, theirs_raw));
    results.extend(auth_figures(auth));
    // Both memory figures compare with etcd alone holding the same objects:
    // the store the etcd-backed server needs beside it.
    for f in &mut results {
        if f.name == EMBEDDED.rss || f.name == ETCD.rss {
            f.baseline = theirs.store_rss;
        }
    }
    Report {
        bench: "api",
        baseline: "raw store".into(),
        results,
    }
}

fn figures(names: &Names, server: &ServerSide, raw: &RawSide) -> Vec<Figure> {
    let fig = |name, unit, ironclad, baseline, better| Figure {
        name,
        unit,
        ironclad,
        baseline,
        better,
    };
    let s = &server.load;
    let mut out = vec![fig(
        names.mutating,
        "ms",
        s.mutating().p99(),
        raw.load.mutating().p99(),
        Better::Lower,
    )];
    let pairs: [(&Stats, &Stats); 4] = [
        (&s.create, &raw.load.put),
        (&s.get, &raw.load.get),
        (&s.list, &raw.load.list),
        (&s.update, &raw.load.overwrite),
    ];
    for ([ops, p50, p99], (ours, base)) in names.verbs.iter().zip(pairs) {
        out.push(fig(ops, "ops/s", ours.ops, base.ops, Better::Higher));
        out.push(fig(p50, "ms", ours.p50(), base.p50(), Better::Lower));
        out.push(fig(p99, "ms", ours.p99(), base.p99(), Better::Lower));
    }
    let delivered = |f: &Fanout| 100.0 * (1.0 - f.missed as f64 / f.expected.max(1) as f64);
    out.push(fig(
        names.fanout_p50,
        "ms",
        server.fanout.p50,
        raw.fanout.p50,
        Better::Lower,
    ));
    out.push(fig(
        names.fanout_p99,
        "ms",
        server.fanout.p99,
        raw.fanout.p99,
        Better::Lower,
    ));
    out.push(fig(
        names.delivered,
        "%",
        delivered(&server.fanout),
        delivered(&raw.fanout),
        Better::Higher,
    ));
    out.push(fig(names.rss, "MB", server.rss, f64::NAN, Better::Lower));
    out
}

/// The security chain: latency with it (the `ironclad` column) and
/// without it (the baseline column), and the difference of the p99s
/// against the budget.
fn auth_figures(auth: &AuthChain) -> Vec<Figure> {
    let (on_mut, off_mut) = (auth.on.mutating(), auth.off.mutating());
    let side_by_side = |name, on: &Stats, off: &Stats, p: fn(&Stats) -> f64| Figure {
        name,
        unit: "ms",
        ironclad: p(on),
        baseline: p(off),
        better: Better::Lower,
    };
    let overhead = |name, on: &Stats, off: &Stats| Figure {
        name,
        unit: "ms",
        ironclad: on.p99() - off.p99(),
        baseline: AUTH_BUDGET_MS,
        better: Better::Lower,
    };
    vec![
        side_by_side("auth_mutating_p50", &on_mut, &off_mut, Stats::p50),
        side_by_side("auth_mutating_p99", &on_mut, &off_mut, Stats::p99),
        side_by_side("auth_get_p50", &auth.on.get, &auth.off.get, Stats::p50),
        side_by_side("auth_get_p99", &auth.on.get, &auth.off.get, Stats::p99),
        overhead("auth_mut_p99_overhead", &on_mut, &off_mut),
        overhead("auth_get_p99_overhead", &auth.on.get, &auth.off.get),
    ]
}

/// What the columns are, above the table.
fn legend(plan: Plan, etcd: &str) {
    println!(
        "\nConfigMaps over HTTP/1.1 at {}/s, open loop (latency counted from when each request was due), \
         {} requests per verb; list = {} objects.\n\
         watch_fanout: {} watchers of one ConfigMap, {} writes 100 ms apart, latency from the write's \
         acknowledgement to each watcher holding the event (0 when the event came first).",
        plan.pace.rate,
        (f64::from(plan.pace.rate) * plan.pace.duration.as_secs_f64()).round(),
        load::LIST_SIZE,
        plan.watchers,
        plan.writes
    );
    println!(
        "ironclad: `ironclad server` on the embedded store (plain names) or on {etcd} (*_etcd).\n\
         raw store: the same load straight on that store, no API server, with the bytes the server \
         stored — create: a txn putting an absent key; update: a txn overwriting an existing one; \
         mutating: both; get: a get; list: a {}-key range; watch: {} store watches; idle_rss*: etcd \
         alone holding the same objects.",
        load::LIST_SIZE,
        plan.watchers
    );
    println!(
        "auth_*: the same open loop ({}/s, {} creates, gets and updates per side, in 0.5 s blocks \
         alternating off, on, on, off, ...) on two in-process servers on the embedded store ({}), both over TLS with \
         the same client certificate: ironclad = authentication and authorization on (Node,RBAC; \
         the user `{}`, bound by a RoleBinding to an edit-like ClusterRole), baseline column = \
         Config.auth = None (served as system:masters). Admission runs on both. \
         auth_*_overhead = p99 on - p99 off; its baseline column is the budget ({AUTH_BUDGET_MS} ms): \
         \"ironclad is\" >= 1 means within it.",
        plan.pace.rate,
        auth_chain::per_side(plan.pace),
        if plan.auth_fsync {
            "fsync on"
        } else {
            "fsync off"
        },
        auth_chain::USER,
    );
}

/// The targets for the server on the embedded store (printed, not
/// asserted: a loaded machine should not fail a run).
fn targets(ours: &ServerSide, auth: &AuthChain) {
    let check = |ok: bool| if ok { "met" } else { "MISSED" };
    let mutating = ours.load.mutating().p99();
    println!(
        "targets (embedded store): mutating p99 <= 25 ms at 200/s: {mutating:.2} ms, {}; \
         every watcher sees every event with p99 <= 100 ms: {:.2} ms, {} missed, {}; \
         idle RSS <= 60 MB with 1000 objects: {:.1} MB, {}",
        check(mutating <= 25.0),
        ours.fanout.p99,
        ours.fanout.missed,
        check(ours.fanout.p99 <= 100.0 && ours.fanout.missed == 0),
        ours.rss,
        check(ours.rss <= 60.0)
    );
    let mutating = auth.on.mutating().p99() - auth.off.mutating().p99();
    let get = auth.on.get.p99() - auth.off.get.p99();
    println!(
        "target (security chain): authn+authz+admission adds <= {AUTH_BUDGET_MS} ms p99: \
         mutating {mutating:+.2} ms, get {get:+.2} ms, {}; per request in-process: \
         client certificate authentication p50 {:.1} µs (p99 {:.1} µs), authorization p50 {:.1} µs \
         (p99 {:.1} µs)",
        check(mutating <= AUTH_BUDGET_MS && get <= AUTH_BUDGET_MS),
        auth.steps.authn_p50,
        auth.steps.authn_p99,
        auth.steps.authz_p50,
        auth.steps.authz_p99,
    );
}

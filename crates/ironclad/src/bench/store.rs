//! `ironclad bench store`: the same workload on the embedded store and on a
//! single-member etcd started from the installed `etcd` binary on loopback
//! (fsync on, its default), or on `--etcd-servers`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use clap::Args;
use futures::StreamExt;
use ironclad_store::{KeyRange, Op, RangeRequest, Store, Txn, WatchRequest};
use ironclad_store_embedded::{Config, EmbeddedStore};
use ironclad_store_etcd::{EtcdCluster, EtcdStore};

use super::{Better, Figure, Report, percentile, rss_mib};

/// Options of `ironclad bench store`.
#[derive(Args, Debug)]
pub struct StoreBenchArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Compare against this etcd instead of starting one.
    #[arg(long, value_delimiter = ',')]
    etcd_servers: Vec<String>,
    /// Sequential single-client puts per backend.
    #[arg(long, default_value_t = 2000)]
    puts: usize,
    /// Puts per backend spread over 64 clients.
    #[arg(long, default_value_t = 20000)]
    concurrent_puts: usize,
    /// Gets per backend (16 clients).
    #[arg(long, default_value_t = 20000)]
    gets: usize,
    /// Watch events measured (written at a steady 500/s).
    #[arg(long, default_value_t = 1000)]
    watch_events: usize,
    /// Value size in bytes.
    #[arg(long, default_value_t = 256)]
    value_size: usize,
}

/// Figures for one backend.
struct Measured {
    put_1: f64,
    put_64: f64,
    get: f64,
    range_10k_ms: f64,
    watch_p50: f64,
    watch_p99: f64,
}

pub async fn run(args: StoreBenchArgs) -> anyhow::Result<()> {
    let say = |m: &str| {
        if !args.json {
            eprintln!("{m}");
        }
    };
    say("bench store: embedded store (fsync on every commit)");
    let dir = tempfile::tempdir().context("temp dir")?;
    let embedded = EmbeddedStore::open(
        dir.path(),
        Config {
            retain_revisions: None,
            durable: std::env::var("BENCH_NODURABLE").is_err(),
            ..Config::default()
        },
    )
    .await
    .context("open the embedded store")?;
    let embedded: Arc<dyn Store> = Arc::new(embedded);
    let ours = measure(embedded.clone(), &args, &say).await?;
    // This process's RSS: the embedded store plus the benchmark itself.
    let ours_rss = rss_mib(std::process::id()).unwrap_or(f64::NAN);
    drop(embedded);

    let (etcd_store, cluster, baseline_name) = if args.etcd_servers.is_empty() {
        say("bench store: starting a single-member etcd on loopback");
        let cluster = EtcdCluster::start(1)
            .await
            .context("start etcd (is etcd installed? scripts/setup.sh)")?;
        let store = EtcdStore::connect(&cluster.client_urls())
            .await
            .context("connect to etcd")?;
        (store, Some(cluster), etcd_version())
    } else {
        let store = EtcdStore::connect(&args.etcd_servers)
            .await
            .context("connect to etcd")?;
        (store, None, "etcd (given)".to_string())
    };
    say(&format!("bench store: {baseline_name}"));
    let theirs = measure(Arc::new(etcd_store), &args, &say).await?;
    let theirs_rss = cluster
        .as_ref()
        .and_then(|c| c.pid(0))
        .and_then(rss_mib)
        .unwrap_or(f64::NAN);
    drop(cluster);

    let fig = |name, unit, ironclad, baseline, better| Figure {
        name,
        unit,
        ironclad,
        baseline,
        better,
    };
    let report = Report {
        bench: "store",
        baseline: baseline_name,
        results: vec![
            fig(
                "put_1_client",
                "ops/s",
                ours.put_1,
                theirs.put_1,
                Better::Higher,
            ),
            fig(
                "put_64_clients",
                "ops/s",
                ours.put_64,
                theirs.put_64,
                Better::Higher,
            ),
            fig("get", "ops/s", ours.get, theirs.get, Better::Higher),
            fig(
                "range_10k",
                "ms",
                ours.range_10k_ms,
                theirs.range_10k_ms,
                Better::Lower,
            ),
            fig(
                "watch_p50",
                "ms",
                ours.watch_p50,
                theirs.watch_p50,
                Better::Lower,
            ),
            fig(
                "watch_p99",
                "ms",
                ours.watch_p99,
                theirs.watch_p99,
                Better::Lower,
            ),
            fig("memory_rss", "MiB", ours_rss, theirs_rss, Better::Lower),
        ],
    };
    report.print(args.json)
}

/// "etcd 3.4.23", from the binary `EtcdCluster` runs.
pub(crate) fn etcd_version() -> String {
    std::process::Command::new(ironclad_store_etcd::etcd_binary())
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| {
            s.lines()
                .next()
                .map(|l| l.replace("etcd Version: ", "etcd "))
        })
        .unwrap_or_else(|| "etcd".into())
}

async fn measure(
    s: Arc<dyn Store>,
    args: &StoreBenchArgs,
    say: &impl Fn(&str),
) -> anyhow::Result<Measured> {
    let value = Bytes::from(vec![b'v'; args.value_size]);

    say("  put, 1 client");
    let t = Instant::now();
    for i in 0..args.puts {
        s.put(format!("/bench/one/{i:08}").as_bytes(), &value)
            .await?;
    }
    let put_1 = args.puts as f64 / t.elapsed().as_secs_f64();
    say(&format!("    {put_1:.0} ops/s"));

    say("  put, 64 clients");
    let per = args.concurrent_puts / 64;
    let t = Instant::now();
    let tasks: Vec<_> = (0..64)
        .map(|c| {
            let (s, value) = (s.clone(), value.clone());
            tokio::spawn(async move {
                for i in 0..per {
                    s.put(format!("/bench/many/{c:02}/{i:08}").as_bytes(), &value)
                        .await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let put_64 = (per * 64) as f64 / t.elapsed().as_secs_f64();
    say(&format!("    {put_64:.0} ops/s"));

    say("  get, 16 clients");
    let per = args.gets / 16;
    let keys = args.puts.max(1);
    let t = Instant::now();
    let tasks: Vec<_> = (0..16)
        .map(|c| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..per {
                    let k = format!("/bench/one/{:08}", (i * 16 + c) % keys);
                    anyhow::ensure!(s.get(k.as_bytes()).await?.is_some(), "missing {k}");
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let get = (per * 16) as f64 / t.elapsed().as_secs_f64();

    say("  range of 10k keys");
    for chunk in 0..100 {
        let ops = (0..100).map(|i| {
            Op::put(
                format!("/bench/range/{:06}", chunk * 100 + i),
                value.clone(),
            )
        });
        s.txn(Txn::new().and_then(ops)).await?;
    }
    let mut samples = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let resp = s
            .range(RangeRequest::new(KeyRange::prefix("/bench/range/")))
            .await?;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            resp.kvs.len() == 10_000,
            "range returned {} keys",
            resp.kvs.len()
        );
    }
    samples.sort_by(f64::total_cmp);
    let range_10k_ms = percentile(&samples, 50.0);

    say("  watch delivery latency");
    let (watch_p50, watch_p99) = watch_latency(s.clone(), args.watch_events, &value).await?;
    Ok(Measured {
        put_1,
        put_64,
        get,
        range_10k_ms,
        watch_p50,
        watch_p99,
    })
}

/// Latency from just before a put is sent to its event arriving at a
/// watcher, at a steady 500 writes/s.
async fn watch_latency(s: Arc<dyn Store>, n: usize, value: &Bytes) -> anyhow::Result<(f64, f64)> {
    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("/bench/watch/")))
        .await?;
    let base = Instant::now();
    let writer = {
        let (s, value) = (s.clone(), value.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(2));
            for i in 0..n {
                tick.tick().await;
                let sent = base.elapsed().as_nanos() as u64;
                let mut v = sent.to_be_bytes().to_vec();
                v.extend_from_slice(&value);
                s.put(format!("/bench/watch/{i:08}").as_bytes(), &v).await?;
            }
            anyhow::Ok(())
        })
    };
    let mut lat = Vec::with_capacity(n);
    let deadline = Instant::now() + Duration::from_secs(120);
    while lat.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let resp = tokio::time::timeout(left, w.next())
            .await
            .context("watch stalled")?
            .context("watch ended")??;
        let now = base.elapsed().as_nanos() as u64;
        for ev in resp.events {
            let sent = u64::from_be_bytes(ev.kv.value[..8].try_into()?);
            lat.push(now.saturating_sub(sent) as f64 / 1e6);
        }
    }
    writer.await??;
    lat.sort_by(f64::total_cmp);
    Ok((percentile(&lat, 50.0), percentile(&lat, 99.0)))
}

//! Open-loop load at a fixed rate, and the request mixes it drives: create,
//! get, list and update of ConfigMaps through the API server, and the same
//! load straight on a store.
//!
//! Open loop: request `i` is due at `start + i / rate` and is sent then
//! whatever happened to earlier ones, and its latency counts from when it
//! was due. A closed loop (send the next when the last answered) slows down
//! with the server and so never sees the queue a stall builds up
//! ("coordinated omission").

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http::{Method, StatusCode};
use ironclad_store::{Compare, CompareOp, KeyRange, Op, RangeRequest, Store, Txn};
use tokio::task::JoinSet;

use super::http::{Api, collection};
use crate::bench::percentile;

/// Namespace of the created, read and updated ConfigMaps.
pub const LOAD_NS: &str = "bench";
/// Namespace of the listed ConfigMaps.
pub const LIST_NS: &str = "bench-list";
/// How many objects each list returns.
pub const LIST_SIZE: usize = 100;

/// The pace of a run.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Requests per second.
    pub rate: u32,
    /// How long each phase lasts.
    pub duration: Duration,
}

impl Pace {
    /// How many requests a phase sends.
    pub fn requests(&self) -> usize {
        ((self.rate as f64) * self.duration.as_secs_f64())
            .round()
            .max(1.0) as usize
    }
}

/// What one phase measured.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Requests completed per second (from the first one due to the last
    /// answer): the offered rate if the server kept up.
    pub ops: f64,
    /// Latencies in ms, sorted.
    pub latencies: Vec<f64>,
}

impl Stats {
    /// Median latency in ms.
    pub fn p50(&self) -> f64 {
        percentile(&self.latencies, 50.0)
    }

    /// 99th-percentile latency in ms.
    pub fn p99(&self) -> f64 {
        percentile(&self.latencies, 99.0)
    }

    /// One line for the progress output; the worst latency shows whether a
    /// high p99 is one stall or a slow tail.
    pub fn summary(&self) -> String {
        format!(
            "{:.0}/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.ops,
            self.p50(),
            self.p99(),
            self.latencies.last().copied().unwrap_or(f64::NAN)
        )
    }

    /// The latencies of several phases together.
    pub fn merged(all: &[&Stats]) -> Stats {
        let mut latencies: Vec<f64> = all
            .iter()
            .flat_map(|s| s.latencies.iter().copied())
            .collect();
        latencies.sort_by(f64::total_cmp);
        Stats {
            ops: f64::NAN,
            latencies,
        }
    }
}

/// Runs `op(i)` for every request of the phase, each when it is due.
pub async fn open_loop<F, Fut>(pace: Pace, what: &str, op: F) -> anyhow::Result<Stats>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let n = pace.requests();
    let period = Duration::from_secs(1) / pace.rate.max(1);
    let start = Instant::now() + Duration::from_millis(5);
    // The pacer is a thread of its own: tokio's timers round up to the next
    // millisecond, which at 200/s would add up to a millisecond to every
    // latency and bunch requests together; a thread's sleep is exact to
    // tens of microseconds.
    let (tx, mut due) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    std::thread::spawn(move || {
        for i in 0..n {
            let at = start + period * i as u32;
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            if tx.send((i, at)).is_err() {
                return;
            }
        }
    });
    let mut tasks = JoinSet::new();
    while let Some((i, at)) = due.recv().await {
        let request = op(i);
        tasks.spawn(async move { request.await.map(|()| at.elapsed()) });
    }
    let mut latencies = Vec::with_capacity(n);
    let (mut failed, mut first_error) = (0, None);
    while let Some(done) = tasks.join_next().await {
        match done? {
            Ok(lat) => latencies.push(lat.as_secs_f64() * 1000.0),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(e) = first_error {
        return Err(e.context(format!(
            "{what}: {failed} of {n} requests failed; the first"
        )));
    }
    latencies.sort_by(f64::total_cmp);
    Ok(Stats {
        ops: n as f64 / elapsed,
        latencies,
    })
}

/// The four verbs through the API server.
#[derive(Debug, Clone, Default)]
pub struct ServerLoad {
    /// POST of new ConfigMaps.
    pub create: Stats,
    /// GET of one of them.
    pub get: Stats,
    /// LIST of a namespace of [`LIST_SIZE`] ConfigMaps.
    pub list: Stats,
    /// PUT of one of them.
    pub update: Stats,
}

impl ServerLoad {
    /// Creates and updates together.
    pub fn mutating(&self) -> Stats {
        Stats::merged(&[&self.create, &self.update])
    }
}

/// Creates, gets, lists and updates ConfigMaps at `pace`, one verb after
/// the other. The namespaces must exist.
pub async fn through_server(
    api: &Api,
    pace: Pace,
    say: &impl Fn(&str),
) -> anyhow::Result<ServerLoad> {
    let name = |i: usize| format!("cm-{i:06}");
    let report = |verb: &str, s: &Stats| say(&format!("    {verb}: {}", s.summary()));

    let create = open_loop(pace, "create", |i| {
        let api = api.clone();
        let name = name(i);
        async move { api.create_configmap(LOAD_NS, &name, i).await.map(drop) }
    })
    .await?;
    report("create", &create);
    let created = create.latencies.len();

    let get = open_loop(pace, "get", |i| {
        let (api, path) = (
            api.clone(),
            format!("{}/{}", collection(LOAD_NS), name(i % created)),
        );
        async move {
            api.call(Method::GET, &path, None, StatusCode::OK)
                .await
                .map(drop)
        }
    })
    .await?;
    report("get", &get);

    for i in 0..LIST_SIZE {
        api.create_configmap(LIST_NS, &name(i), i).await?;
    }
    let list = open_loop(pace, "list", |_| {
        let (api, path) = (api.clone(), collection(LIST_NS));
        async move {
            let body = api.call(Method::GET, &path, None, StatusCode::OK).await?;
            // Cheaper than decoding: every item carries the bench's label.
            let items = body.windows(14).filter(|w| w == b"ironclad-bench").count();
            anyhow::ensure!(items >= LIST_SIZE, "the list returned {items} ConfigMaps");
            Ok(())
        }
    })
    .await?;
    report("list", &list);

    let update = open_loop(pace, "update", |i| {
        let api = api.clone();
        let name = name(i % created);
        async move { api.update_configmap(LOAD_NS, &name, created + i).await }
    })
    .await?;
    report("update", &update);

    Ok(ServerLoad {
        create,
        get,
        list,
        update,
    })
}

/// The same load straight on a store.
#[derive(Debug, Clone, Default)]
pub struct RawLoad {
    /// A transaction that puts a new key if it is absent (what a create
    /// commits).
    pub put: Stats,
    /// A read of one key.
    pub get: Stats,
    /// A read of a prefix of [`LIST_SIZE`] keys.
    pub list: Stats,
    /// A transaction that puts an existing key if it exists (what an
    /// update commits; the server also reads the object first).
    pub overwrite: Stats,
}

impl RawLoad {
    /// Puts and overwrites together.
    pub fn mutating(&self) -> Stats {
        Stats::merged(&[&self.put, &self.overwrite])
    }
}

/// Where the raw load writes: outside `/registry/`, so that on a store an
/// API server also uses, no watch of the server's sees it.
const RAW_PREFIX: &str = "/ironclad-bench/configmaps/";

/// Puts, gets, lists and overwrites `value` (the bytes the server stored
/// for a ConfigMap) at `pace`.
pub async fn on_store(
    store: Arc<dyn Store>,
    value: Bytes,
    pace: Pace,
    say: &impl Fn(&str),
) -> anyhow::Result<RawLoad> {
    let key = |i: usize| format!("{RAW_PREFIX}{LOAD_NS}/cm-{i:06}").into_bytes();
    let report = |verb: &str, s: &Stats| say(&format!("    {verb}: {}", s.summary()));

    let put = open_loop(pace, "raw put", |i| {
        let (store, key, value) = (store.clone(), key(i), value.clone());
        async move {
            let txn = Txn::new()
                .when([Compare::absent(key.clone())])
                .and_then([Op::put(key, value)]);
            anyhow::ensure!(store.txn(txn).await?.succeeded, "the key existed");
            Ok(())
        }
    })
    .await?;
    report("txn put", &put);
    let written = put.latencies.len();

    let get = open_loop(pace, "raw get", |i| {
        let (store, key) = (store.clone(), key(i % written));
        async move {
            anyhow::ensure!(store.get(&key).await?.is_some(), "a written key is missing");
            Ok(())
        }
    })
    .await?;
    report("get", &get);

    let list_prefix = format!("{RAW_PREFIX}{LIST_NS}/");
    let ops = (0..LIST_SIZE).map(|i| Op::put(format!("{list_prefix}cm-{i:06}"), value.clone()));
    store
        .txn(Txn::new().and_then(ops))
        .await
        .context("write the listed keys")?;
    let list = open_loop(pace, "raw list", |_| {
        let (store, prefix) = (store.clone(), list_prefix.clone());
        async move {
            let resp = store
                .range(RangeRequest::new(KeyRange::prefix(prefix)))
                .await?;
            anyhow::ensure!(
                resp.kvs.len() == LIST_SIZE,
                "the range returned {} keys",
                resp.kvs.len()
            );
            Ok(())
        }
    })
    .await?;
    report("range", &list);

    let overwrite = open_loop(pace, "raw overwrite", |i| {
        let (store, key, value) = (store.clone(), key(i % written), value.clone());
        async move {
            let txn = Txn::new()
                .when([Compare::mod_revision(key.clone(), CompareOp::Greater, 0)])
                .and_then([Op::put(key, value)]);
            anyhow::ensure!(store.txn(txn).await?.succeeded, "a written key is missing");
            Ok(())
        }
    })
    .await?;
    report("txn overwrite", &overwrite);

    Ok(RawLoad {
        put,
        get,
        list,
        overwrite,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_open_loop_keeps_its_pace_and_counts_from_the_due_time() {
        let pace = Pace {
            rate: 100,
            duration: Duration::from_millis(300),
        };
        let t = Instant::now();
        // Every request takes 20 ms: a closed loop would manage 50/s, an
        // open loop still sends 100/s and sees 20 ms each.
        let s = open_loop(pace, "sleep", |_| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(s.latencies.len(), 30);
        assert!(
            t.elapsed() < Duration::from_millis(600),
            "took {:?}",
            t.elapsed()
        );
        assert!(s.p50() >= 20.0 && s.p50() < 60.0, "p50 {}", s.p50());
        assert!(s.ops > 60.0, "ops {}", s.ops);
    }

    #[tokio::test]
    async fn a_failed_request_fails_the_phase() {
        let pace = Pace {
            rate: 100,
            duration: Duration::from_millis(50),
        };
        let r = open_loop(pace, "boom", |i| async move {
            anyhow::ensure!(i != 2, "request {i}");
            Ok(())
        })
        .await;
        let e = format!("{:#}", r.unwrap_err());
        assert!(
            e.contains("boom: 1 of 5 requests failed") && e.contains("request 2"),
            "{e}"
        );
    }
}

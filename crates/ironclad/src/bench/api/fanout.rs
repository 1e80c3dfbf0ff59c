//! Watch fan-out: many watchers of one object, a series of writes to it,
//! and for every watcher and write the time from the write's
//! acknowledgement to the watcher holding the event. Through the API server
//! (one HTTP watch stream per watcher), and on a store directly (one store
//! watch per watcher) as the baseline.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use http_body_util::BodyDataStream;
use ironclad_store::{KeyRange, Store, WatchRequest};
use tokio::sync::watch;

use super::http::{Api, collection, configmap, find_seq};
use crate::bench::percentile;

/// Namespace of the watched ConfigMap.
pub const WATCH_NS: &str = "bench-watch";
/// Its name.
const WATCHED: &str = "fanout";
/// Time between writes: long enough that a healthy server has delivered one
/// event everywhere before the next, so each write measures the fan-out.
const WRITE_EVERY: Duration = Duration::from_millis(100);
/// How long after the last write watchers may take to catch up.
const CATCH_UP: Duration = Duration::from_secs(15);
/// Watch requests in flight at once while the watchers connect (the
/// server's listen backlog is finite).
const CONNECT_BATCH: usize = 50;

/// What a fan-out measured.
#[derive(Debug, Clone, Copy)]
pub struct Fanout {
    /// Median delivery latency in ms.
    pub p50: f64,
    /// 99th-percentile delivery latency in ms.
    pub p99: f64,
    /// Events some watcher never received.
    pub missed: usize,
    /// Events there were to receive (watchers × writes).
    pub expected: usize,
}

/// The events one watcher received: (sequence number, when).
type Seen = Vec<(usize, Instant)>;

/// Fan-out through the API server: `watchers` HTTP watches of one
/// ConfigMap, `writes` PUTs of it. The namespace must exist.
pub async fn through_server(api: &Api, watchers: usize, writes: usize) -> anyhow::Result<Fanout> {
    let rv = api.create_configmap(WATCH_NS, WATCHED, usize::MAX).await?;
    let path = format!(
        "{}?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3D{WATCHED}",
        collection(WATCH_NS)
    );
    let mut bodies = Vec::with_capacity(watchers);
    while bodies.len() < watchers {
        let batch = CONNECT_BATCH.min(watchers - bodies.len());
        let opened = futures::future::join_all((0..batch).map(|_| api.open(&path))).await;
        for body in opened {
            bodies.push(BodyDataStream::new(body?));
        }
    }
    run(bodies, writes, |seq| async move {
        api.update_configmap(WATCH_NS, WATCHED, seq).await
    })
    .await
}

/// Fan-out on a store: `watchers` store watches of one key, `writes` puts
/// of it (the bytes of the ConfigMap the server would store).
pub async fn on_store(
    store: Arc<dyn Store>,
    watchers: usize,
    writes: usize,
) -> anyhow::Result<Fanout> {
    let key = b"/ironclad-bench/watch/fanout".to_vec();
    let mut streams = Vec::with_capacity(watchers);
    for _ in 0..watchers {
        let w = store
            .watch(WatchRequest::new(KeyRange::key(key.clone())))
            .await
            .context("start a store watch")?;
        // One record per event, in the shape the HTTP watchers get them.
        streams.push(w.flat_map(|resp| {
            let values: Vec<Result<Bytes, ironclad_store::Error>> = match resp {
                Ok(r) => r
                    .events
                    .into_iter()
                    .map(|ev| {
                        let mut line = BytesMut::from(&ev.kv.value[..]);
                        line.extend_from_slice(b"\n");
                        Ok(line.freeze())
                    })
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(values)
        }));
    }
    run(streams, writes, |seq| {
        let (store, key) = (store.clone(), key.clone());
        async move {
            store.put(&key, &configmap(WATCH_NS, WATCHED, seq)).await?;
            Ok(())
        }
    })
    .await
}

/// Starts a task per watcher, makes the writes (`write(seq)` returns once
/// acknowledged), waits for the watchers to catch up, and matches what they
/// received against when each write was acknowledged.
async fn run<S, E, W, Fut>(streams: Vec<S>, writes: usize, write: W) -> anyhow::Result<Fanout>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin + Send + 'static,
    E: Send + 'static,
    W: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let watchers = streams.len();
    let last = writes.saturating_sub(1);
    let caught_up = Arc::new(AtomicUsize::new(0));
    let (stop, stopped) = watch::channel(false);
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|s| tokio::spawn(watcher(s, last, caught_up.clone(), stopped.clone())))
        .collect();

    let mut acks = Vec::with_capacity(writes);
    let start = Instant::now();
    for seq in 0..writes {
        let due = start + WRITE_EVERY * seq as u32;
        tokio::time::sleep_until(due.into()).await;
        write(seq).await.with_context(|| format!("write {seq}"))?;
        acks.push(Instant::now());
    }
    let deadline = Instant::now() + CATCH_UP;
    while caught_up.load(Ordering::Acquire) < watchers && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);

    let mut latencies = Vec::with_capacity(watchers * writes);
    for task in tasks {
        for (seq, at) in task.await? {
            // A watcher may hold the event before the writer has read the
            // acknowledgement: that counts as no delay, not a negative one.
            let ack = acks[seq];
            latencies.push(at.saturating_duration_since(ack).as_secs_f64() * 1000.0);
        }
    }
    latencies.sort_by(f64::total_cmp);
    Ok(Fanout {
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        missed: (watchers * writes).saturating_sub(latencies.len()),
        expected: watchers * writes,
    })
}

/// One watcher: reads newline-delimited events until told to stop or the
/// stream ends, noting when each write's event arrived.
async fn watcher<S, E>(
    mut stream: S,
    last: usize,
    caught_up: Arc<AtomicUsize>,
    mut stop: watch::Receiver<bool>,
) -> Seen
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut seen = Seen::new();
    let mut buf = Vec::new();
    let mut next = 0;
    loop {
        let chunk = tokio::select! {
            c = stream.next() => c,
            _ = stop.changed() => return seen,
        };
        let Some(Ok(chunk)) = chunk else { return seen };
        let at = Instant::now();
        buf.extend_from_slice(&chunk);
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            // Writes come in order; anything else (a repeat, the object's
            // creation) is not one of the measured events.
            match find_seq(&line) {
                Some(seq) if seq >= next && seq <= last => {
                    seen.push((seq, at));
                    next = seq + 1;
                    if seq == last {
                        caught_up.fetch_add(1, Ordering::AcqRel);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_watcher_sees_every_write_on_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = ironclad_store_embedded::EmbeddedStore::open(
            dir.path(),
            ironclad_store_embedded::Config {
                durable: false,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let f = on_store(Arc::new(store), 20, 5).await.unwrap();
        assert_eq!(f.missed, 0);
        assert!(f.p50 >= 0.0 && f.p99 >= f.p50 && f.p99 < 1000.0, "{f:?}");
    }
}

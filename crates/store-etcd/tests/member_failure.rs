//! A three-member cluster loses a member (SIGKILL, as a crash): the store
//! keeps writing, and its watches carry on from where they were, on the
//! surviving members, without a gap or a duplicate.

mod common;

use std::time::Duration;

use futures::StreamExt;
use ironclad_store::{
    Error, Event, KeyRange, Op, RangeRequest, Revision, Store, Txn, WatchRequest, WatchStream,
};
use ironclad_store_etcd::{EtcdCluster, EtcdStore};
use tokio::time::Instant;

const DEADLINE: Duration = Duration::from_secs(30);

/// Which member is the raft leader.
async fn leader_index(cluster: &EtcdCluster) -> usize {
    for (i, url) in cluster.client_urls().iter().enumerate() {
        let mut client = etcd_client::Client::connect([url.as_str()], None)
            .await
            .expect("etcd client");
        let status = client.status().await.expect("member status");
        if status.header().map(|h| h.member_id()) == Some(status.leader()) {
            return i;
        }
    }
    panic!("no member says it is the leader");
}

/// Puts `key`, retrying while the outcome is unknown (the store does not
/// resend writes that might have been applied; this caller knows a second
/// put is harmless here). Returns the revision of the acknowledged put.
async fn put_until_acknowledged(store: &EtcdStore, key: &str) -> Revision {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match store.put(key.as_bytes(), b"v").await {
            Ok(r) => return r.revision,
            Err(Error::Unavailable(e)) if Instant::now() < deadline => {
                eprintln!("put {key}: {e}; again");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("put {key} failed: {e}"),
        }
    }
}

/// Reads events until `want` of them arrived.
async fn collect(w: &mut WatchStream, want: usize) -> Vec<Event> {
    let mut out = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while out.len() < want {
        let resp = tokio::time::timeout_at(deadline, w.next())
            .await
            .unwrap_or_else(|_| panic!("{} of {want} events in time", out.len()))
            .expect("watch open")
            .expect("watch ok");
        out.extend(resp.events);
    }
    out
}

/// The number of writes under `prefix` so far: with no deletes, each write
/// of a key bumped its version by one.
async fn writes_under(store: &EtcdStore, prefix: &str) -> usize {
    let all = store
        .range(RangeRequest::new(KeyRange::prefix(prefix.to_string())))
        .await
        .expect("range");
    all.kvs.iter().map(|kv| kv.version as usize).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_and_watches_survive_a_member_kill() {
    let (store, mut cluster) = common::cluster(3).await;
    let start = store.put(b"/ha/start", b"0").await.unwrap().revision;
    let mut watches = Vec::new();
    for _ in 0..6 {
        let req = WatchRequest::new(KeyRange::prefix("/ha/")).from_revision(start);
        watches.push(store.watch(req).await.unwrap());
    }

    // Kill the member serving the most watches, while writes are under way.
    let urls = cluster.client_urls();
    let mut counts = Vec::new();
    for url in &urls {
        counts.push(common::watchers_on(url).await);
    }
    let victim = (0..urls.len()).max_by_key(|&i| counts[i]).unwrap();
    assert!(counts[victim] > 0, "no member serves a watch: {counts:?}");
    eprintln!("watchers per member {counts:?}; killing member {victim}");

    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut slowest = Duration::ZERO;
            for i in 0..200 {
                let began = Instant::now();
                acked.push(put_until_acknowledged(&store, &format!("/ha/{i:03}")).await);
                slowest = slowest.max(began.elapsed());
            }
            (acked, slowest)
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    cluster.kill(victim).await.unwrap();
    let (acked, slowest) = writer.await.unwrap();
    eprintln!("slowest put across the kill: {slowest:?}");
    assert!(acked.windows(2).all(|p| p[0] < p[1]), "{acked:?}");

    // Every watch sees every write since `start`, once, in order.
    let writes = writes_under(&store, "/ha/").await;
    assert!(writes > 200);
    for w in &mut watches {
        let events = collect(w, writes).await;
        let revs: Vec<_> = events.iter().map(|e| e.kv.mod_revision).collect();
        assert_eq!(revs[0], start);
        assert!(
            revs.windows(2).all(|p| p[0] < p[1]),
            "gap-free order: {revs:?}"
        );
        assert!(
            acked.iter().all(|r| revs.contains(r)),
            "an acknowledged write is missing"
        );
    }
    assert_eq!(cluster.pid(victim), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cluster_serves_everything_after_losing_its_leader() {
    let (store, mut cluster) = common::cluster(3).await;
    let lease = store.lease_grant(30).await.unwrap();
    let first = store.put(b"/l/first", b"0").await.unwrap().revision;
    store
        .txn(Txn::new().and_then([Op::put_with_lease("/l/leased", "x", lease.id)]))
        .await
        .unwrap();

    let leader = leader_index(&cluster).await;
    cluster.kill(leader).await.unwrap();

    let after = put_until_acknowledged(&store, "/l/after").await;
    assert!(after > first);
    let status = store.status().await.unwrap();
    assert!(status.revision >= after);
    assert!(store.lease_keep_alive(lease.id).await.unwrap() >= 1);
    assert_eq!(
        store
            .get(b"/l/leased")
            .await
            .unwrap()
            .expect("present")
            .lease,
        lease.id
    );

    // A new watch replays history written before the leader died.
    let mut w = store
        .watch(WatchRequest::new(KeyRange::prefix("/l/")).from_revision(first))
        .await
        .unwrap();
    let events = collect(&mut w, 3).await;
    let keys: Vec<_> = events.iter().map(|e| e.kv.key.clone()).collect();
    assert_eq!(keys, vec!["/l/first", "/l/leased", "/l/after"]);

    // Compaction and its reporting work with the new leader.
    store.compact(after).await.unwrap();
    let err = store
        .range(RangeRequest::new(KeyRange::key("/l/first")).at_revision(first))
        .await;
    assert!(
        matches!(err, Err(Error::Compacted { compact_revision, .. }) if compact_revision == after)
    );
    store.lease_revoke(lease.id).await.unwrap();
    assert_eq!(store.get(b"/l/leased").await.unwrap(), None);
}

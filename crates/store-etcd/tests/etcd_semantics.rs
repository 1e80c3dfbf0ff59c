//! What the conformance suite does not pin down but this backend promises:
//! precise error mapping, the compaction point seen by other clients,
//! cancellation of dropped watches, and etcd's own rules where they differ
//! from intuition.

mod common;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use ironclad_store::{
    Compare, CompareOp, Error, KeyRange, Op, OpResponse, RangeRequest, Store, Txn, WatchRequest,
};
use ironclad_store_etcd::EtcdStore;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// Every compare of the conformance case `txn_compare_targets`, with etcd's
/// rule for a value compare on a missing key: it never holds, whatever the
/// operator (etcd: "Always fail if comparing a value on a key/keys that
/// doesn't exist").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn compares_follow_etcd() {
    let (s, _cluster) = common::cluster(1).await;
    let p = s.put(b"/t/k", b"val").await.unwrap().revision;
    let lease = s.lease_grant(60).await.unwrap().id;
    s.txn(Txn::new().and_then([Op::put_with_lease("/t/l", "x", lease)]))
        .await
        .unwrap();
    let k = || b("/t/k");
    let cases = [
        (Compare::mod_revision(k(), CompareOp::Equal, p), true),
        (Compare::mod_revision(k(), CompareOp::Equal, p + 1), false),
        (Compare::mod_revision(k(), CompareOp::Less, p + 1), true),
        (Compare::mod_revision(k(), CompareOp::Greater, p), false),
        (Compare::create_revision(k(), CompareOp::Equal, p), true),
        (Compare::create_revision(k(), CompareOp::NotEqual, p), false),
        (Compare::version(k(), CompareOp::Equal, 1), true),
        (Compare::version(k(), CompareOp::Greater, 1), false),
        (Compare::value(k(), CompareOp::Equal, "val"), true),
        (Compare::value(k(), CompareOp::Equal, "other"), false),
        (Compare::value(k(), CompareOp::Greater, "va"), true),
        (Compare::value(k(), CompareOp::Less, "va"), false),
        (
            Compare::value("/t/missing", CompareOp::NotEqual, "x"),
            false,
        ),
        (Compare::value("/t/missing", CompareOp::Equal, ""), false),
        (Compare::version("/t/missing", CompareOp::Equal, 0), true),
        (Compare::absent("/t/missing"), true),
        (Compare::absent(k()), false),
        (Compare::lease("/t/l", CompareOp::Equal, lease), true),
        (Compare::lease(k(), CompareOp::Equal, 0), true),
    ];
    for (cmp, want) in cases {
        let resp = s
            .txn(Txn::new().when([cmp.clone()]).and_then([Op::get(k())]))
            .await
            .unwrap();
        assert_eq!(resp.succeeded, want, "{cmp:?}");
        assert_eq!(resp.responses.len(), usize::from(want), "{cmp:?}");
    }
}

/// Another client's compaction is reported exactly, by `status` and by
/// compacted reads, although etcd reports its compaction point nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn compaction_point_seen_by_other_clients() {
    let (a, cluster) = common::cluster(1).await;
    let first = a.put(b"/k", b"0").await.unwrap().revision;
    let mut cut = first;
    for i in 0..40 {
        cut = a
            .put(b"/k", format!("{i}").as_bytes())
            .await
            .unwrap()
            .revision;
    }
    a.put(b"/k", b"after").await.unwrap();
    let b_store = EtcdStore::connect(&cluster.client_urls()).await.unwrap();
    assert_eq!(b_store.status().await.unwrap().compact_revision, 0);
    a.compact(cut).await.unwrap();
    assert_eq!(b_store.status().await.unwrap().compact_revision, cut);
    let c_store = EtcdStore::connect(&cluster.client_urls()).await.unwrap();
    let err = c_store
        .range(RangeRequest::new(KeyRange::key("/k")).at_revision(first))
        .await;
    match err {
        Err(Error::Compacted {
            requested,
            compact_revision,
        }) => {
            assert_eq!((requested, compact_revision), (first, cut));
        }
        other => panic!("expected Compacted, got {other:?}"),
    }
    // Compacting again at or below the point, or ahead of the store, fails
    // as in etcd.
    let again = b_store.compact(cut).await;
    assert!(
        matches!(again, Err(Error::Compacted { compact_revision, .. }) if compact_revision == cut)
    );
    let ahead = a.compact(cut + 1000).await;
    assert!(
        matches!(ahead, Err(Error::FutureRevision { .. })),
        "{ahead:?}"
    );
    let future = a
        .range(RangeRequest::new(KeyRange::key("/k")).at_revision(cut + 1000))
        .await;
    assert!(
        matches!(future, Err(Error::FutureRevision { requested, current }) if requested == cut + 1000 && current == cut + 1),
        "{future:?}"
    );
}

/// Dropping a watch stream cancels the watch in etcd.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dropped_watch_is_cancelled_in_etcd() {
    let (s, cluster) = common::cluster(1).await;
    let url = &cluster.client_urls()[0];
    let w = s
        .watch(WatchRequest::new(KeyRange::prefix("/w/")))
        .await
        .unwrap();
    let w2 = s
        .watch(WatchRequest::new(KeyRange::key("/w/x")))
        .await
        .unwrap();
    assert_eq!(common::watchers_on(url).await, 2);
    drop(w);
    drop(w2);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while common::watchers_on(url).await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "watchers left in etcd"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Errors keep their meaning: the missing lease is named, malformed
/// requests are invalid, size limits apply before sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn errors_are_mapped_precisely() {
    let (s, _cluster) = common::cluster(1).await;
    let good = s.lease_grant(60).await.unwrap().id;
    let missing = good + 12345;
    let two_leases = Txn::new().and_then([
        Op::put_with_lease("/a", "1", good),
        Op::put_with_lease("/b", "1", missing),
    ]);
    let err = s.txn(two_leases).await;
    assert!(
        matches!(err, Err(Error::LeaseNotFound(id)) if id == missing),
        "{err:?}"
    );
    assert!(
        matches!(s.lease_revoke(missing).await, Err(Error::LeaseNotFound(id)) if id == missing)
    );
    assert!(matches!(
        s.lease_grant(0).await,
        Err(Error::InvalidRequest(_))
    ));
    let dup = s
        .txn(Txn::new().and_then([Op::put("/d", "1"), Op::put("/d", "2")]))
        .await;
    assert!(matches!(dup, Err(Error::InvalidRequest(_))), "{dup:?}");
    let empty = s.delete(KeyRange::key("")).await;
    assert!(matches!(empty, Err(Error::InvalidRequest(_))), "{empty:?}");
    let in_txn = s.txn(Txn::new().and_then([Op::put("", "v")])).await;
    assert!(
        matches!(in_txn, Err(Error::InvalidRequest(_))),
        "{in_txn:?}"
    );
    let big = vec![1u8; ironclad_store::MAX_VALUE_SIZE + 1];
    let big_txn = s.txn(Txn::new().or_else([Op::put("/big", big)])).await;
    assert!(
        matches!(big_txn, Err(Error::ValueTooLarge { .. })),
        "{big_txn:?}"
    );
    // A value at the limit fits: the launcher gives etcd room for framing.
    let at_limit = vec![2u8; ironclad_store::MAX_VALUE_SIZE];
    s.put(b"/at-limit", &at_limit).await.unwrap();
    // Several values each under the limit may still make a request etcd
    // refuses as a whole.
    let mb = vec![3u8; 1024 * 1024];
    let too_big = s
        .txn(Txn::new().and_then([Op::put("/x", mb.clone()), Op::put("/y", mb)]))
        .await;
    assert!(
        matches!(too_big, Err(Error::InvalidRequest(_))),
        "{too_big:?}"
    );
    let backwards = KeyRange::Interval {
        start: b("/z"),
        end: b("/a"),
    };
    let w = s.watch(WatchRequest::new(backwards)).await;
    assert!(matches!(w, Err(Error::InvalidRequest(_))), "{w:?}");
}

/// Ranges etcd would misread given `KeyRange::to_etcd` verbatim.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn edge_ranges() {
    let (s, _cluster) = common::cluster(1).await;
    for k in [&b"\xff"[..], b"\xff\x01", b"\xfe", b"a", b"m"] {
        s.put(k, b"v").await.unwrap();
    }
    let ff = s
        .range(RangeRequest::new(KeyRange::prefix(&b"\xff"[..])))
        .await
        .unwrap();
    assert_eq!(ff.count, 2);
    let from_start = KeyRange::Interval {
        start: Bytes::new(),
        end: b("m"),
    };
    let r = s.range(RangeRequest::new(from_start)).await.unwrap();
    assert_eq!(
        r.kvs.iter().map(|kv| kv.key.clone()).collect::<Vec<_>>(),
        vec![b("a")]
    );
    let everything = s
        .range(RangeRequest::new(KeyRange::prefix("")).count_only())
        .await
        .unwrap();
    assert_eq!(everything.count, 5);

    // Ops inside a transaction read at the transaction's revision.
    let resp = s
        .txn(Txn::new().and_then([
            Op::Range(RangeRequest::new(KeyRange::prefix(&b"\xff"[..])).with_limit(1)),
            Op::Delete {
                range: KeyRange::prefix(&b"\xff"[..]),
                prev_kv: true,
            },
        ]))
        .await
        .unwrap();
    let [OpResponse::Range(r), OpResponse::Delete(d)] = &resp.responses[..] else {
        panic!("{resp:?}")
    };
    assert_eq!(
        (r.kvs.len(), r.count, r.more, r.revision),
        (1, 2, true, resp.revision)
    );
    assert_eq!(
        (d.deleted, d.prev_kvs.len(), d.revision),
        (2, 2, resp.revision)
    );

    // A watch of the whole keyspace sees every key.
    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("")).with_prev_kv())
        .await
        .unwrap();
    s.put(b"\x00", b"first").await.unwrap();
    s.put(b"zz", b"last").await.unwrap();
    let mut keys = Vec::new();
    while keys.len() < 2 {
        let resp = tokio::time::timeout(Duration::from_secs(10), w.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        keys.extend(resp.events.into_iter().map(|e| e.kv.key));
    }
    assert_eq!(keys, vec![Bytes::from_static(b"\x00"), b("zz")]);
}

/// A member that cannot start is reported with the end of its log, at once
/// rather than at the start-up deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn launcher_reports_etcd_failures() {
    let options = ironclad_store_etcd::EtcdOptions {
        extra_args: vec!["--no-such-flag".into()],
        ..Default::default()
    };
    let began = tokio::time::Instant::now();
    let err = ironclad_store_etcd::EtcdCluster::start_with(1, options)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("exited during start-up") && msg.contains("no-such-flag"),
        "{msg}"
    );
    assert!(began.elapsed() < Duration::from_secs(10));
    assert!(matches!(
        ironclad_store_etcd::EtcdCluster::start(0).await,
        Err(Error::InvalidRequest(_))
    ));
}

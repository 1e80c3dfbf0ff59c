//! Transactions: compares, branches, atomicity.

use std::sync::Arc;

use super::b;
use crate::{Compare, CompareOp, KeyRange, Op, OpResponse, RangeRequest, Store, Txn, WatchRequest};

/// Each compare target and operator decides the branch as etcd does.
pub async fn txn_compare_targets(s: Arc<dyn Store>) {
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
        // As in etcd, a value compare on a missing key never holds.
        (
            Compare::value("/t/missing", CompareOp::NotEqual, "x"),
            false,
        ),
        (Compare::version("/t/missing", CompareOp::Equal, 0), true),
        (Compare::absent("/t/missing"), true),
        (Compare::absent(k()), false),
        (Compare::lease("/t/l", CompareOp::Equal, lease), true),
        (Compare::lease(k(), CompareOp::Equal, 0), true),
    ];
    for (cmp, want) in cases {
        let resp = s
            .txn(
                Txn::new()
                    .when([cmp.clone()])
                    .and_then([Op::get(k())])
                    .or_else([]),
            )
            .await
            .unwrap();
        assert_eq!(resp.succeeded, want, "{cmp:?}");
        assert_eq!(resp.responses.len(), usize::from(want), "{cmp:?}");
        if want {
            let OpResponse::Range(r) = &resp.responses[0] else {
                panic!("{resp:?}")
            };
            assert_eq!(r.kvs[0].value, b("val"));
        }
    }
}

/// Every write in one transaction gets the same revision, and a watcher
/// sees them at that revision.
pub async fn txn_multi_op_single_revision(s: Arc<dyn Store>) {
    s.put(b"/m/gone", b"x").await.unwrap();
    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("/m/")))
        .await
        .unwrap();
    let resp = s
        .txn(Txn::new().and_then([
            Op::put("/m/a", "1"),
            Op::put("/m/b", "2"),
            Op::delete("/m/gone"),
            Op::Range(RangeRequest::new(KeyRange::prefix("/m/"))),
        ]))
        .await
        .unwrap();
    assert!(resp.succeeded);
    let rev = resp.revision;
    for k in ["/m/a", "/m/b"] {
        assert_eq!(
            s.get(k.as_bytes())
                .await
                .unwrap()
                .expect("present")
                .mod_revision,
            rev
        );
    }
    // The read inside the transaction sees the transaction's own writes.
    let OpResponse::Range(r) = &resp.responses[3] else {
        panic!("{resp:?}")
    };
    let keys: Vec<_> = r.kvs.iter().map(|kv| kv.key.clone()).collect();
    assert_eq!(keys, vec![b("/m/a"), b("/m/b")]);
    let evs = super::next_events(&mut w, 3).await;
    assert!(evs.iter().all(|e| e.kv.mod_revision == rev), "{evs:?}");
}

/// The create-if-absent pattern: the first wins, the second sees the owner.
pub async fn txn_create_if_absent(s: Arc<dyn Store>) {
    let take = |who: &'static str| {
        Txn::new()
            .when([Compare::absent("/lock")])
            .and_then([Op::put("/lock", who)])
            .or_else([Op::get("/lock")])
    };
    let first = s.txn(take("a")).await.unwrap();
    assert!(first.succeeded);
    let second = s.txn(take("b")).await.unwrap();
    assert!(!second.succeeded);
    let OpResponse::Range(r) = &second.responses[0] else {
        panic!("{second:?}")
    };
    assert_eq!(r.kvs[0].value, b("a"));
    assert_eq!(second.revision, first.revision);
}

/// A transaction that writes nothing leaves the revision alone.
pub async fn txn_failed_without_writes_keeps_revision(s: Arc<dyn Store>) {
    let rev = s.put(b"/n", b"1").await.unwrap().revision;
    let resp = s
        .txn(
            Txn::new()
                .when([Compare::value("/n", CompareOp::Equal, "2")])
                .and_then([Op::put("/n", "3")]),
        )
        .await
        .unwrap();
    assert!(!resp.succeeded);
    assert_eq!(resp.revision, rev);
    assert_eq!(s.status().await.unwrap().revision, rev);
    assert_eq!(s.get(b"/n").await.unwrap().expect("present").value, b("1"));
}

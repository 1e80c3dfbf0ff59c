//! Concurrent writers: compare-and-swap races and revision order.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::Barrier;

use super::next_events;
use crate::{Compare, CompareOp, KeyRange, Op, Store, Txn, WatchRequest};

/// Many writers race a compare-and-swap on one key, round after round:
/// exactly one wins each round.
pub async fn cas_race_one_winner_per_round(s: Arc<dyn Store>) {
    const WRITERS: usize = 16;
    const ROUNDS: usize = 20;
    s.put(b"/cas", b"round-0").await.unwrap();
    let barrier = Arc::new(Barrier::new(WRITERS));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|id| {
            let (s, barrier) = (s.clone(), barrier.clone());
            tokio::spawn(async move {
                let mut wins = Vec::new();
                for round in 0..ROUNDS {
                    barrier.wait().await;
                    let txn = Txn::new()
                        .when([Compare::value(
                            "/cas",
                            CompareOp::Equal,
                            format!("round-{round}"),
                        )])
                        .and_then([Op::put("/cas", format!("round-{}", round + 1))]);
                    if s.txn(txn).await.unwrap().succeeded {
                        wins.push((round, id));
                    }
                    barrier.wait().await;
                }
                wins
            })
        })
        .collect();
    let mut wins = Vec::new();
    for t in tasks {
        wins.extend(t.await.unwrap());
    }
    wins.sort();
    let rounds: Vec<_> = wins.iter().map(|(r, _)| *r).collect();
    assert_eq!(
        rounds,
        (0..ROUNDS).collect::<Vec<_>>(),
        "one winner per round: {wins:?}"
    );
    let kv = s.get(b"/cas").await.unwrap().expect("present");
    assert_eq!(kv.value.as_ref(), format!("round-{ROUNDS}").as_bytes());
    assert_eq!(kv.version as usize, ROUNDS + 1);
}

/// Concurrent writers each get distinct revisions, and a watch from before
/// them sees exactly those revisions in increasing order.
pub async fn concurrent_writers_unique_revisions_and_gapless_watch(s: Arc<dyn Store>) {
    let start = s.status().await.unwrap().revision + 1;
    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("/cw/")).from_revision(start))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut revs = Vec::new();
                for i in 0..50 {
                    revs.push(
                        s.put(format!("/cw/{t}/{i}").as_bytes(), b"v")
                            .await
                            .unwrap()
                            .revision,
                    );
                }
                revs
            })
        })
        .collect();
    let mut all = BTreeSet::new();
    for t in tasks {
        for r in t.await.unwrap() {
            assert!(all.insert(r), "revision {r} given twice");
        }
    }
    let seen: Vec<_> = next_events(&mut w, all.len())
        .await
        .iter()
        .map(|e| e.kv.mod_revision)
        .collect();
    assert_eq!(seen, all.into_iter().collect::<Vec<_>>());
}

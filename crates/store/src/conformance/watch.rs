//! Watches: order, history, filtering, slow consumers, progress.

use std::sync::Arc;

use futures::StreamExt;

use super::{assert_quiet, b, next_events};
use crate::{EventKind, KeyRange, Store, WatchRequest};

/// A watch from now sees later changes only.
pub async fn watch_from_now(s: Arc<dyn Store>) {
    s.put(b"/w/old", b"0").await.unwrap();
    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("/w/")))
        .await
        .unwrap();
    let r1 = s.put(b"/w/a", b"1").await.unwrap().revision;
    let r2 = s.delete(KeyRange::key("/w/a")).await.unwrap().revision;
    let evs = next_events(&mut w, 2).await;
    assert_eq!(evs[0].kind, EventKind::Put);
    assert_eq!(
        (evs[0].kv.key.clone(), evs[0].kv.value.clone()),
        (b("/w/a"), b("1"))
    );
    assert_eq!(evs[0].kv.mod_revision, r1);
    assert_eq!(evs[1].kind, EventKind::Delete);
    assert_eq!(
        (evs[1].kv.key.clone(), evs[1].kv.mod_revision),
        (b("/w/a"), r2)
    );
    assert_quiet(&mut w).await;
}

/// A watch from a past revision replays every event from it, then goes on
/// live with no gap and no duplicate.
pub async fn watch_replays_history_then_live(s: Arc<dyn Store>) {
    let start = s.put(b"/h/0", b"0").await.unwrap().revision;
    let mut revs = vec![start];
    for i in 1..20 {
        revs.push(
            s.put(format!("/h/{}", i % 4).as_bytes(), b"x")
                .await
                .unwrap()
                .revision,
        );
    }
    revs.push(s.delete(KeyRange::key("/h/1")).await.unwrap().revision);
    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("/h/")).from_revision(revs[5]))
        .await
        .unwrap();
    for i in 0..10 {
        revs.push(
            s.put(format!("/h/live{i}").as_bytes(), b"y")
                .await
                .unwrap()
                .revision,
        );
    }
    let want = &revs[5..];
    let got: Vec<_> = next_events(&mut w, want.len())
        .await
        .iter()
        .map(|e| e.kv.mod_revision)
        .collect();
    assert_eq!(got, want);
    assert_quiet(&mut w).await;
}

/// With `prev_kv`, each event carries the value it replaced.
pub async fn watch_prev_kv(s: Arc<dyn Store>) {
    s.put(b"/pk", b"first").await.unwrap();
    let mut w = s
        .watch(WatchRequest::new(KeyRange::key("/pk")).with_prev_kv())
        .await
        .unwrap();
    s.put(b"/pk", b"second").await.unwrap();
    s.delete(KeyRange::key("/pk")).await.unwrap();
    let evs = next_events(&mut w, 2).await;
    assert_eq!(evs[0].prev_kv.as_ref().expect("prev").value, b("first"));
    assert_eq!(evs[1].prev_kv.as_ref().expect("prev").value, b("second"));
    assert_eq!(evs[1].kind, EventKind::Delete);
}

/// A watch sees only keys in its range.
pub async fn watch_filters_by_range(s: Arc<dyn Store>) {
    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("/in/")))
        .await
        .unwrap();
    let mut one = s
        .watch(WatchRequest::new(KeyRange::key("/in/a")))
        .await
        .unwrap();
    for k in ["/out/a", "/in/a", "/in", "/in/b", "/inx"] {
        s.put(k.as_bytes(), b"v").await.unwrap();
    }
    let keys: Vec<_> = next_events(&mut w, 2)
        .await
        .into_iter()
        .map(|e| e.kv.key)
        .collect();
    assert_eq!(keys, vec![b("/in/a"), b("/in/b")]);
    assert_quiet(&mut w).await;
    assert_eq!(next_events(&mut one, 1).await[0].kv.key, b("/in/a"));
    assert_quiet(&mut one).await;
}

/// A watcher that reads nothing while thousands of events pass still gets
/// every one of them, in order, once it reads.
pub async fn watch_slow_consumer_loses_nothing(s: Arc<dyn Store>) {
    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("/slow/")))
        .await
        .unwrap();
    let n = 3000;
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..n / 8 {
                    s.put(format!("/slow/{t}/{i}").as_bytes(), &[0u8; 100])
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for h in writers {
        h.await.unwrap();
    }
    let evs = next_events(&mut w, n).await;
    assert!(
        evs.windows(2)
            .all(|p| p[0].kv.mod_revision < p[1].kv.mod_revision)
    );
    assert_quiet(&mut w).await;
}

/// An on-demand progress request is answered with an empty response whose
/// revision covers every write so far.
pub async fn watch_progress_on_request(s: Arc<dyn Store>) {
    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("/prog/")))
        .await
        .unwrap();
    let rev = s.put(b"/elsewhere", b"1").await.unwrap().revision;
    w.request_progress().await.unwrap();
    let deadline = tokio::time::Instant::now() + super::DEADLINE;
    loop {
        let resp = tokio::time::timeout_at(deadline, w.next())
            .await
            .expect("progress notification in time")
            .expect("watch open")
            .expect("watch ok");
        assert!(resp.events.is_empty(), "no events expected: {resp:?}");
        if resp.header_revision >= rev {
            break;
        }
    }
}

/// Many watchers of one range see the same events in the same order.
pub async fn many_watchers_same_order(s: Arc<dyn Store>) {
    let mut ws = Vec::new();
    for _ in 0..50 {
        ws.push(
            s.watch(WatchRequest::new(KeyRange::prefix("/fan/")))
                .await
                .unwrap(),
        );
    }
    for i in 0..40 {
        s.put(
            format!("/fan/{}", i % 7).as_bytes(),
            format!("{i}").as_bytes(),
        )
        .await
        .unwrap();
    }
    let first: Vec<_> = next_events(&mut ws[0], 40).await;
    for w in &mut ws[1..] {
        assert_eq!(next_events(w, 40).await, first);
    }
}

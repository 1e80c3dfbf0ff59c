//! Compaction: old history goes, current state stays.

use std::sync::Arc;

use futures::StreamExt;

use super::b;
use crate::{Error, KeyRange, RangeRequest, Store, WatchRequest};

/// Below the compaction point, ranges and watches fail with
/// [`Error::Compacted`], naming the oldest available revision.
pub async fn compacted_range_and_watch_fail(s: Arc<dyn Store>) {
    let r1 = s.put(b"/c/k", b"1").await.unwrap().revision;
    s.put(b"/c/k", b"2").await.unwrap();
    let r3 = s.put(b"/c/k", b"3").await.unwrap().revision;
    s.compact(r3).await.unwrap();
    assert!(s.status().await.unwrap().compact_revision >= r3);

    let err = s
        .range(RangeRequest::new(KeyRange::key("/c/k")).at_revision(r1))
        .await;
    match err {
        Err(Error::Compacted {
            compact_revision, ..
        }) => assert!(compact_revision >= r3),
        other => panic!("expected Compacted, got {other:?}"),
    }

    let watch = s
        .watch(WatchRequest::new(KeyRange::prefix("/c/")).from_revision(r1))
        .await;
    let err = match watch {
        Err(e) => e,
        Ok(mut w) => {
            let item = tokio::time::timeout(super::DEADLINE, w.next())
                .await
                .expect("in time");
            item.expect("an error item")
                .expect_err("compacted watch must fail")
        }
    };
    assert!(
        matches!(err, Error::Compacted { compact_revision, .. } if compact_revision >= r3),
        "{err:?}"
    );

    // At and after the compaction point everything still reads.
    let at = s
        .range(RangeRequest::new(KeyRange::key("/c/k")).at_revision(r3))
        .await
        .unwrap();
    assert_eq!(at.kvs[0].value, b("3"));
}

/// Compaction keeps the latest value (and metadata) of every live key,
/// however old, and a watch from the compaction point works.
pub async fn compaction_keeps_latest_values(s: Arc<dyn Store>) {
    let old = s.put(b"/keep/old", b"ancient").await.unwrap().revision;
    s.put(b"/keep/gone", b"x").await.unwrap();
    for i in 0..10 {
        s.put(b"/keep/hot", format!("{i}").as_bytes())
            .await
            .unwrap();
    }
    s.delete(KeyRange::key("/keep/gone")).await.unwrap();
    let cut = s.put(b"/keep/hot", b"last").await.unwrap().revision;
    s.compact(cut).await.unwrap();

    let all = s
        .range(RangeRequest::new(KeyRange::prefix("/keep/")))
        .await
        .unwrap();
    let got: Vec<_> = all
        .kvs
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.clone()))
        .collect();
    assert_eq!(
        got,
        vec![(b("/keep/hot"), b("last")), (b("/keep/old"), b("ancient"))]
    );
    let oldkv = &all.kvs[1];
    assert_eq!(
        (oldkv.create_revision, oldkv.mod_revision, oldkv.version),
        (old, old, 1)
    );
    assert_eq!(all.kvs[0].version, 11);

    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("/keep/")).from_revision(cut))
        .await
        .unwrap();
    let r = s.put(b"/keep/new", b"n").await.unwrap().revision;
    let evs = super::next_events(&mut w, 2).await;
    assert_eq!((evs[0].kv.mod_revision, evs[1].kv.mod_revision), (cut, r));
}

//! Puts, gets, ranges and deletes.

use std::sync::Arc;

use super::b;
use crate::{Error, KeyRange, MAX_VALUE_SIZE, RangeRequest, Store};

/// A put creates a key at a new revision; a second put bumps its version
/// and mod revision and keeps its create revision.
pub async fn put_get_and_versions(s: Arc<dyn Store>) {
    let before = s.status().await.unwrap().revision;
    let r1 = s.put(b"/a", b"one").await.unwrap();
    assert!(r1.revision > before);
    assert_eq!(r1.prev_kv, None);
    let kv = s.get(b"/a").await.unwrap().expect("key present");
    assert_eq!((kv.value.as_ref(), kv.version), (&b"one"[..], 1));
    assert_eq!(
        (kv.create_revision, kv.mod_revision),
        (r1.revision, r1.revision)
    );

    let r2 = s.put(b"/a", b"two").await.unwrap();
    assert!(r2.revision > r1.revision);
    assert_eq!(r2.prev_kv.expect("prev kv").value, b("one"));
    let kv = s.get(b"/a").await.unwrap().expect("key present");
    assert_eq!((kv.value.as_ref(), kv.version), (&b"two"[..], 2));
    assert_eq!(
        (kv.create_revision, kv.mod_revision),
        (r1.revision, r2.revision)
    );
    assert_eq!(s.status().await.unwrap().revision, r2.revision);
}

/// A missing key reads as absent, with the current revision.
pub async fn get_missing_key(s: Arc<dyn Store>) {
    assert_eq!(s.get(b"/nope").await.unwrap(), None);
    let w = s.put(b"/x", b"1").await.unwrap();
    let resp = s
        .range(RangeRequest::new(KeyRange::key("/nope")))
        .await
        .unwrap();
    assert!(resp.kvs.is_empty());
    assert_eq!((resp.count, resp.more), (0, false));
    assert_eq!(resp.revision, w.revision);
}

/// Prefix ranges come in key order; a limit gives `more` and the full
/// count; paging visits every key once.
pub async fn range_prefix_order_limit_and_pages(s: Arc<dyn Store>) {
    let names: Vec<String> = (0..25).map(|i| format!("/p/{:02}", (i * 7) % 25)).collect();
    for n in &names {
        s.put(n.as_bytes(), n.as_bytes()).await.unwrap();
    }
    s.put(b"/p", b"not under the prefix").await.unwrap();
    s.put(b"/q/00", b"neither").await.unwrap();

    let all = s
        .range(RangeRequest::new(KeyRange::prefix("/p/")))
        .await
        .unwrap();
    let keys: Vec<_> = all.kvs.iter().map(|kv| kv.key.clone()).collect();
    let want: Vec<_> = (0..25).map(|i| b(format!("/p/{i:02}"))).collect();
    assert_eq!(keys, want);
    assert_eq!((all.count, all.more), (25, false));

    let req = RangeRequest::new(KeyRange::prefix("/p/")).with_limit(10);
    let first = s.range(req.clone()).await.unwrap();
    assert_eq!((first.kvs.len(), first.count, first.more), (10, 25, true));

    let (mut seen, mut page, mut req) = (Vec::new(), first, req);
    loop {
        seen.extend(page.kvs.iter().map(|kv| kv.key.clone()));
        match page.next_page(&req) {
            Some(next) => {
                page = s.range(next.clone()).await.unwrap();
                req = next;
            }
            None => break,
        }
    }
    assert_eq!(seen, want);
}

/// Interval ranges, keys-only and count-only reads.
pub async fn range_interval_keys_only_count_only(s: Arc<dyn Store>) {
    for k in ["/i/a", "/i/b", "/i/c", "/i/d"] {
        s.put(k.as_bytes(), b"value").await.unwrap();
    }
    let iv = KeyRange::Interval {
        start: b("/i/b"),
        end: b("/i/d"),
    };
    let resp = s.range(RangeRequest::new(iv.clone())).await.unwrap();
    let keys: Vec<_> = resp.kvs.iter().map(|kv| kv.key.clone()).collect();
    assert_eq!(keys, vec![b("/i/b"), b("/i/c")]);

    let open = KeyRange::Interval {
        start: b("/i/c"),
        end: b(""),
    };
    assert_eq!(s.range(RangeRequest::new(open)).await.unwrap().count, 2);

    let ko = s
        .range(RangeRequest::new(iv.clone()).keys_only())
        .await
        .unwrap();
    assert_eq!(ko.kvs.len(), 2);
    assert!(
        ko.kvs
            .iter()
            .all(|kv| kv.value.is_empty() && kv.version == 1)
    );

    let co = s
        .range(RangeRequest::new(KeyRange::prefix("/i/")).count_only())
        .await
        .unwrap();
    assert_eq!((co.count, co.kvs.len()), (4, 0));
}

/// A range at a past revision sees the store as it was then.
pub async fn range_at_past_revisions(s: Arc<dyn Store>) {
    let r1 = s.put(b"/h/k", b"v1").await.unwrap().revision;
    let r2 = s.put(b"/h/k", b"v2").await.unwrap().revision;
    let r3 = s.put(b"/h/other", b"o").await.unwrap().revision;
    let r4 = s.delete(KeyRange::key("/h/k")).await.unwrap().revision;
    assert!(r1 < r2 && r2 < r3 && r3 < r4);

    let at = |rev| RangeRequest::new(KeyRange::prefix("/h/")).at_revision(rev);
    let v = |resp: crate::RangeResponse| {
        resp.kvs
            .iter()
            .map(|kv| (kv.key.clone(), kv.value.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        v(s.range(at(r1)).await.unwrap()),
        vec![(b("/h/k"), b("v1"))]
    );
    assert_eq!(
        v(s.range(at(r2)).await.unwrap()),
        vec![(b("/h/k"), b("v2"))]
    );
    assert_eq!(
        v(s.range(at(r3)).await.unwrap()),
        vec![(b("/h/k"), b("v2")), (b("/h/other"), b("o"))]
    );
    assert_eq!(
        v(s.range(at(r4)).await.unwrap()),
        vec![(b("/h/other"), b("o"))]
    );
    let old = s.range(at(r1)).await.unwrap();
    assert_eq!(old.kvs[0].mod_revision, r1);
    assert_eq!(old.kvs[0].version, 1);
}

/// Reading ahead of the store fails clearly.
pub async fn range_future_revision_fails(s: Arc<dyn Store>) {
    let rev = s.put(b"/f", b"1").await.unwrap().revision;
    let err = s
        .range(RangeRequest::new(KeyRange::key("/f")).at_revision(rev + 100))
        .await;
    assert!(matches!(err, Err(Error::FutureRevision { .. })), "{err:?}");
}

/// Deleting a prefix removes every key under it at one revision; deleting
/// nothing does not bump the revision.
pub async fn delete_prefix_one_revision(s: Arc<dyn Store>) {
    for i in 0..5 {
        s.put(format!("/d/{i}").as_bytes(), b"x").await.unwrap();
    }
    s.put(b"/dz", b"stays").await.unwrap();
    let del = s.delete(KeyRange::prefix("/d/")).await.unwrap();
    assert_eq!(del.deleted, 5);
    assert_eq!(s.status().await.unwrap().revision, del.revision);
    assert_eq!(
        s.range(RangeRequest::new(KeyRange::prefix("/d/")))
            .await
            .unwrap()
            .count,
        0
    );
    assert!(s.get(b"/dz").await.unwrap().is_some());

    let again = s.delete(KeyRange::prefix("/d/")).await.unwrap();
    assert_eq!(again.deleted, 0);
    assert_eq!(again.revision, del.revision);
    assert_eq!(s.status().await.unwrap().revision, del.revision);
}

/// A deleted then re-created key starts a new life: version 1, new create
/// revision.
pub async fn delete_then_recreate_resets_version(s: Arc<dyn Store>) {
    let c1 = s.put(b"/r", b"a").await.unwrap().revision;
    s.put(b"/r", b"b").await.unwrap();
    s.delete(KeyRange::key("/r")).await.unwrap();
    let c2 = s.put(b"/r", b"c").await.unwrap().revision;
    let kv = s.get(b"/r").await.unwrap().expect("present");
    assert_eq!(kv.version, 1);
    assert_eq!(kv.create_revision, c2);
    assert!(c2 > c1);
}

/// An empty key is refused.
pub async fn empty_key_refused(s: Arc<dyn Store>) {
    assert!(s.put(b"", b"v").await.is_err());
    assert!(s.get(b"").await.is_err());
}

/// Values over 1.5 MiB are refused with [`Error::ValueTooLarge`] and
/// nothing is written; large values under it round-trip.
pub async fn value_size_limit(s: Arc<dyn Store>) {
    let before = s.status().await.unwrap().revision;
    let big = vec![7u8; MAX_VALUE_SIZE + 1];
    let err = s.put(b"/big", &big).await;
    assert!(matches!(err, Err(Error::ValueTooLarge { .. })), "{err:?}");
    assert_eq!(s.get(b"/big").await.unwrap(), None);
    assert_eq!(s.status().await.unwrap().revision, before);

    let ok = vec![9u8; 1024 * 1024];
    s.put(b"/big", &ok).await.unwrap();
    assert_eq!(
        s.get(b"/big").await.unwrap().expect("present").value.len(),
        ok.len()
    );
}

//! Closing and reopening a data directory: data, revisions, compaction and
//! leases come back; a directory from a newer format is refused.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

use std::time::Duration;

use ironclad_store::{Error, KeyRange, Op, RangeRequest, Store, Txn};
use ironclad_store_embedded::{Config, DB_FILE, EmbeddedStore};

#[tokio::test]
async fn reopen_keeps_data_revisions_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(dir.path(), Config::default())
        .await
        .unwrap();
    let r1 = s.put(b"/a", b"1").await.unwrap().revision;
    s.put(b"/a", b"2").await.unwrap();
    let r3 = s.put(b"/b", b"3").await.unwrap().revision;
    s.compact(r3).await.unwrap();
    s.close().await.unwrap();

    let s = EmbeddedStore::open(dir.path(), Config::default())
        .await
        .unwrap();
    let st = s.status().await.unwrap();
    assert_eq!((st.revision, st.compact_revision), (r3, r3));
    let kv = s.get(b"/a").await.unwrap().unwrap();
    assert_eq!(
        (kv.value.as_ref(), kv.version, kv.create_revision),
        (&b"2"[..], 2, r1)
    );
    let err = s
        .range(RangeRequest::new(KeyRange::key("/a")).at_revision(r1))
        .await;
    assert!(matches!(err, Err(Error::Compacted { .. })), "{err:?}");
    assert!(s.put(b"/c", b"4").await.unwrap().revision > r3);
}

#[tokio::test]
async fn leases_survive_restart_with_a_fresh_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(dir.path(), Config::default())
        .await
        .unwrap();
    let lease = s.lease_grant(1).await.unwrap();
    s.txn(Txn::new().and_then([Op::put_with_lease("/l", "v", lease.id)]))
        .await
        .unwrap();
    s.close().await.unwrap();

    let s = EmbeddedStore::open(dir.path(), Config::default())
        .await
        .unwrap();
    // The lease is back and renewable; left alone it expires and takes its key.
    assert_eq!(s.lease_keep_alive(lease.id).await.unwrap(), 1);
    assert!(s.get(b"/l").await.unwrap().is_some());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s.get(b"/l").await.unwrap().is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "lease never expired after restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _s = EmbeddedStore::open(dir.path(), Config::default())
        .await
        .unwrap();
    let err = EmbeddedStore::open(dir.path(), Config::default())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("already open"), "{err}");
}

#[tokio::test]
async fn newer_format_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let s = EmbeddedStore::open(dir.path(), Config::default())
        .await
        .unwrap();
    s.put(b"/k", b"v").await.unwrap();
    s.close().await.unwrap();
    {
        // Stamp the file as written by a future ironclad.
        let db = redb::Database::create(dir.path().join(DB_FILE)).unwrap();
        let w = db.begin_write().unwrap();
        w.open_table(redb::TableDefinition::<&str, u64>::new("meta"))
            .unwrap()
            .insert("format", 99)
            .unwrap();
        w.commit().unwrap();
    }
    let err = EmbeddedStore::open(dir.path(), Config::default())
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(err, Error::UnsupportedFormat { found: 99, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer"), "{err}");
}

#[tokio::test]
async fn garbage_file_is_refused_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    std::fs::write(&path, b"this is not a redb file at all, not even close").unwrap();
    assert!(
        EmbeddedStore::open(dir.path(), Config::default())
            .await
            .is_err()
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"this is not a redb file at all, not even close"
    );
}

#[tokio::test]
async fn automatic_compaction_keeps_the_configured_history() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        retain_revisions: Some(10),
        compaction_interval: Duration::from_millis(50),
        ..Config::default()
    };
    let s = EmbeddedStore::open(dir.path(), config).await.unwrap();
    let mut last = 0;
    for i in 0..40 {
        last = s
            .put(b"/hot", format!("{i}").as_bytes())
            .await
            .unwrap()
            .revision;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let st = s.status().await.unwrap();
        if st.compact_revision >= last - 10 {
            assert!(st.compact_revision <= last - 10);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no automatic compaction: {st:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(s.get(b"/hot").await.unwrap().unwrap().value.as_ref(), b"39");
}

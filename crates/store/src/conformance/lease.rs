//! Leases: keys that live only while their lease is renewed.

use std::sync::Arc;
use std::time::Duration;

use super::{b, next_events};
use crate::{Error, EventKind, KeyRange, Op, Store, Txn, WatchRequest};

/// Revoking a lease deletes its keys (with delete events) and the lease.
pub async fn lease_attach_and_revoke(s: Arc<dyn Store>) {
    let lease = s.lease_grant(60).await.unwrap();
    assert!(lease.ttl >= 60);
    s.txn(Txn::new().and_then([
        Op::put_with_lease("/l/a", "1", lease.id),
        Op::put_with_lease("/l/b", "2", lease.id),
    ]))
    .await
    .unwrap();
    s.put(b"/l/free", b"stays").await.unwrap();
    assert_eq!(
        s.get(b"/l/a").await.unwrap().expect("present").lease,
        lease.id
    );
    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("/l/")))
        .await
        .unwrap();
    s.lease_revoke(lease.id).await.unwrap();
    let evs = next_events(&mut w, 2).await;
    assert!(evs.iter().all(|e| e.kind == EventKind::Delete), "{evs:?}");
    assert_eq!(s.get(b"/l/a").await.unwrap(), None);
    assert!(s.get(b"/l/free").await.unwrap().is_some());
    let err = s.lease_keep_alive(lease.id).await;
    assert!(matches!(err, Err(Error::LeaseNotFound(_))), "{err:?}");
}

/// A lease that is not renewed expires and takes its keys with it.
pub async fn lease_expiry_deletes_keys(s: Arc<dyn Store>) {
    let lease = s.lease_grant(1).await.unwrap();
    let mut w = s
        .watch(WatchRequest::new(KeyRange::prefix("/exp/")))
        .await
        .unwrap();
    s.txn(Txn::new().and_then([Op::put_with_lease("/exp/k", "v", lease.id)]))
        .await
        .unwrap();
    let evs = next_events(&mut w, 2).await;
    assert_eq!(
        (evs[0].kind, evs[1].kind),
        (EventKind::Put, EventKind::Delete)
    );
    assert_eq!(evs[1].kv.key, b("/exp/k"));
    assert_eq!(s.get(b"/exp/k").await.unwrap(), None);
}

/// Renewing a lease keeps its keys alive past its TTL.
pub async fn lease_keep_alive_keeps_keys(s: Arc<dyn Store>) {
    let lease = s.lease_grant(2).await.unwrap();
    s.txn(Txn::new().and_then([Op::put_with_lease("/ka", "v", lease.id)]))
        .await
        .unwrap();
    let until = tokio::time::Instant::now() + Duration::from_secs(lease.ttl as u64 * 2 + 1);
    while tokio::time::Instant::now() < until {
        assert!(s.lease_keep_alive(lease.id).await.unwrap() >= 1);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(s.get(b"/ka").await.unwrap().is_some());
}

/// Writing with an unknown lease fails and writes nothing.
pub async fn lease_unknown_refused(s: Arc<dyn Store>) {
    let err = s
        .txn(Txn::new().and_then([Op::put_with_lease("/u", "v", 0x7777_0000)]))
        .await;
    assert!(matches!(err, Err(Error::LeaseNotFound(_))), "{err:?}");
    assert_eq!(s.get(b"/u").await.unwrap(), None);
    let err = s.lease_keep_alive(0x7777_0000).await;
    assert!(matches!(err, Err(Error::LeaseNotFound(_))), "{err:?}");
}

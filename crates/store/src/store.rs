//! The [`Store`] trait.

use async_trait::async_trait;
use bytes::Bytes;

use crate::{
    DeleteResponse, Error, KeyRange, KeyValue, Op, OpResponse, PutResponse, RangeRequest,
    RangeResponse, Result, Txn, TxnResponse, WatchRequest, WatchStream,
};

/// A store revision: the number of the write that produced a state. Every
/// write (a put, a delete that deleted something, a transaction that wrote)
/// takes the next revision, cluster-wide; revisions never go back.
pub type Revision = i64;

/// The largest value a store accepts: 1.5 MiB, etcd's default request limit.
pub const MAX_VALUE_SIZE: usize = 1536 * 1024;

/// Refuses a value over [`MAX_VALUE_SIZE`] with a clear error.
pub fn check_value_size(key: &[u8], value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_SIZE {
        return Err(Error::ValueTooLarge {
            key: String::from_utf8_lossy(key).into_owned(),
            size: value.len(),
            limit: MAX_VALUE_SIZE,
        });
    }
    Ok(())
}

/// A granted lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseGrant {
    /// The lease ID to attach keys to.
    pub id: i64,
    /// Its time to live in seconds.
    pub ttl: i64,
}

/// The store's state at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// The current revision.
    pub revision: Revision,
    /// The oldest revision still readable (the compaction point).
    pub compact_revision: Revision,
    /// Size of the backing database in bytes, where known.
    pub db_size: u64,
}

/// A key-value store with etcd v3 semantics. See the crate docs.
///
/// Every method may fail with [`Error::Unavailable`] or [`Error::Backend`];
/// the others are listed where they apply.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads a range, at the current or a past revision. Fails with
    /// [`Error::Compacted`] for a compacted revision and
    /// [`Error::FutureRevision`] for one not reached yet.
    async fn range(&self, req: RangeRequest) -> Result<RangeResponse>;

    /// Runs a transaction atomically at one revision. Fails with
    /// [`Error::ValueTooLarge`] or [`Error::LeaseNotFound`] before writing
    /// anything.
    async fn txn(&self, txn: Txn) -> Result<TxnResponse>;

    /// Streams every change to a range from a revision on.
    async fn watch(&self, req: WatchRequest) -> Result<WatchStream>;

    /// Grants a lease of `ttl` seconds (at least 1).
    async fn lease_grant(&self, ttl: i64) -> Result<LeaseGrant>;

    /// Renews a lease to its full TTL; returns the TTL. Fails with
    /// [`Error::LeaseNotFound`] once it has expired or been revoked.
    async fn lease_keep_alive(&self, id: i64) -> Result<i64>;

    /// Revokes a lease, deleting every key attached to it (one revision).
    async fn lease_revoke(&self, id: i64) -> Result<()>;

    /// Drops history before `revision`: reads and watches below it fail with
    /// [`Error::Compacted`]. The latest value of every key is kept.
    async fn compact(&self, revision: Revision) -> Result<()>;

    /// The current revision and compaction point.
    async fn status(&self) -> Result<Status>;

    /// Reads one key at the current revision.
    async fn get(&self, key: &[u8]) -> Result<Option<KeyValue>> {
        let resp = self
            .range(RangeRequest::new(KeyRange::key(Bytes::copy_from_slice(
                key,
            ))))
            .await?;
        Ok(resp.kvs.into_iter().next())
    }

    /// Writes one key (no lease); returns the write's revision.
    async fn put(&self, key: &[u8], value: &[u8]) -> Result<PutResponse> {
        let op = Op::Put {
            key: Bytes::copy_from_slice(key),
            value: Bytes::copy_from_slice(value),
            lease: 0,
            prev_kv: true,
        };
        let resp = self.txn(Txn::new().and_then([op])).await?;
        match resp.responses.into_iter().next() {
            Some(OpResponse::Put(p)) => Ok(p),
            other => Err(Error::Unavailable(format!("put answered {other:?}"))),
        }
    }

    /// Deletes a range; returns how many keys went.
    async fn delete(&self, range: KeyRange) -> Result<DeleteResponse> {
        let resp = self
            .txn(Txn::new().and_then([Op::Delete {
                range,
                prev_kv: false,
            }]))
            .await?;
        match resp.responses.into_iter().next() {
            Some(OpResponse::Delete(d)) => Ok(d),
            other => Err(Error::Unavailable(format!("delete answered {other:?}"))),
        }
    }
}

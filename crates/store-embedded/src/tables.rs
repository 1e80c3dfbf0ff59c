//! The on-disk layout: redb tables and the format version.
//!
//! - `meta`: `format`, `revision` (head), `compact_revision`, `lease_seq`,
//!   `wal_seq` (the last write-ahead log record this file contains).
//! - `log`: `(revision, sub)` → the change (key, create revision, version,
//!   lease, value, deleted) — the whole MVCC history, as etcd keeps it.
//! - `history`: `(key, revision, sub)` → `()`, to find a key's state at a
//!   past revision and the previous value of an event.
//! - `current`: `key` → `(mod, create, version, lease, value)`, the live state.
//! - `leases`: `id` → TTL seconds; `lease_keys`: `(lease, key)` → `()`.

use bytes::Bytes;
use ironclad_store::{Error, Event, EventKind, KeyValue, Result, Revision};
use redb::TableDefinition;

/// The layout version this build writes and reads. 2 added the
/// write-ahead log: a version-1 build would ignore it and lose the writes
/// redb has not checkpointed yet, so opening stamps older files as 2.
pub(crate) const FORMAT_VERSION: u64 = 2;

/// A `log` row: key, create revision, version, lease, value, deleted.
pub(crate) type LogRow = (&'static [u8], i64, i64, i64, &'static [u8], bool);
/// A `current` row: mod revision, create revision, version, lease, value.
pub(crate) type CurrentRow = (i64, i64, i64, i64, &'static [u8]);

pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
pub(crate) const LOG: TableDefinition<(i64, u32), LogRow> = TableDefinition::new("log");
pub(crate) const HISTORY: TableDefinition<(&[u8], i64, u32), ()> = TableDefinition::new("history");
pub(crate) const CURRENT: TableDefinition<&[u8], CurrentRow> = TableDefinition::new("current");
pub(crate) const LEASES: TableDefinition<i64, i64> = TableDefinition::new("leases");
pub(crate) const LEASE_KEYS: TableDefinition<(i64, &[u8]), ()> = TableDefinition::new("lease_keys");

pub(crate) const META_FORMAT: &str = "format";
pub(crate) const META_REVISION: &str = "revision";
pub(crate) const META_COMPACT: &str = "compact_revision";
pub(crate) const META_LEASE_SEQ: &str = "lease_seq";
pub(crate) const META_WAL_SEQ: &str = "wal_seq";

/// The head and compaction revisions recorded in `meta` (1 and 0 for a new store).
pub(crate) fn meta_revisions(
    meta: &impl redb::ReadableTable<&'static str, u64>,
) -> Result<(Revision, Revision)> {
    let get = |k: &str, default: u64| -> Result<i64> {
        Ok(meta
            .get(k)
            .or_backend("read meta")?
            .map_or(default, |v| v.value()) as i64)
    };
    Ok((get(META_REVISION, 1)?, get(META_COMPACT, 0)?))
}

/// A row of `current` as a [`KeyValue`].
pub(crate) fn current_kv(
    key: &[u8],
    row: (i64, i64, i64, i64, &[u8]),
    keys_only: bool,
) -> KeyValue {
    let (mod_revision, create_revision, version, lease, value) = row;
    KeyValue {
        key: Bytes::copy_from_slice(key),
        value: if keys_only {
            Bytes::new()
        } else {
            Bytes::copy_from_slice(value)
        },
        create_revision,
        mod_revision,
        version,
        lease,
    }
}

/// A row of `log` as an [`Event`] (without its previous value).
pub(crate) fn log_event(rev: Revision, row: (&[u8], i64, i64, i64, &[u8], bool)) -> Event {
    let (key, create_revision, version, lease, value, deleted) = row;
    Event {
        kind: if deleted {
            EventKind::Delete
        } else {
            EventKind::Put
        },
        kv: KeyValue {
            key: Bytes::copy_from_slice(key),
            value: Bytes::copy_from_slice(value),
            create_revision,
            mod_revision: rev,
            version,
            lease,
        },
        prev_kv: None,
    }
}

/// Maps any redb error into the store's backend error, saying what failed.
pub(crate) trait OrBackend<T> {
    /// Wraps the error with `what` was being done.
    fn or_backend(self, what: &str) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> OrBackend<T> for std::result::Result<T, E> {
    fn or_backend(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::backend(format!("embedded store: {what}: {e}"), e))
    }
}

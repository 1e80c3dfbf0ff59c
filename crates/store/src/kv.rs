//! Stored key-values and the events a watch delivers.

use bytes::Bytes;

use crate::Revision;

/// A key with its value and MVCC metadata, as etcd's `mvccpb.KeyValue`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyValue {
    /// The key.
    pub key: Bytes,
    /// The value (empty in delete events).
    pub value: Bytes,
    /// Revision of the write that created this key's current incarnation.
    pub create_revision: Revision,
    /// Revision of the last write to this key.
    pub mod_revision: Revision,
    /// Number of writes since creation (1 on create, reset by delete).
    pub version: i64,
    /// Lease the key is attached to; 0 for none.
    pub lease: i64,
}

/// The kind of change an [`Event`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The key was created or updated.
    Put,
    /// The key was deleted (explicitly or by lease expiry).
    Delete,
}

/// One change to one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Put or delete.
    pub kind: EventKind,
    /// The key after the change; for a delete, the key with
    /// `mod_revision` set to the deleting revision and an empty value.
    pub kv: KeyValue,
    /// The key before the change, when the watch asked for it.
    pub prev_kv: Option<KeyValue>,
}

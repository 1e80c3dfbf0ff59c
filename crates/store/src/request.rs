//! Reads, writes and transactions: the requests a [`crate::Store`] serves.

use bytes::Bytes;

use crate::{KeyRange, KeyValue, Revision};

/// A range read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeRequest {
    /// The keys to read.
    pub range: KeyRange,
    /// Read as of this revision; `None` (or 0) for the current one.
    pub revision: Option<Revision>,
    /// At most this many keys; `None` (or 0) for all. Keys come in key order.
    pub limit: Option<usize>,
    /// Return only the count, no key-values.
    pub count_only: bool,
    /// Return keys and metadata without values.
    pub keys_only: bool,
}

impl RangeRequest {
    /// A read of `range` at the current revision.
    pub fn new(range: KeyRange) -> Self {
        RangeRequest {
            range,
            revision: None,
            limit: None,
            count_only: false,
            keys_only: false,
        }
    }

    /// Read as of a past revision.
    pub fn at_revision(mut self, rev: Revision) -> Self {
        self.revision = Some(rev);
        self
    }

    /// Return at most `n` keys.
    pub fn with_limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Return only the count.
    pub fn count_only(mut self) -> Self {
        self.count_only = true;
        self
    }

    /// Return no values.
    pub fn keys_only(mut self) -> Self {
        self.keys_only = true;
        self
    }

    /// The effective limit (0 = unlimited).
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(0)
    }

    /// The revision asked for, 0 meaning current.
    pub fn effective_revision(&self) -> Revision {
        self.revision.unwrap_or(0)
    }
}

/// The result of a range read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeResponse {
    /// The store revision the read was served at (the header revision).
    pub revision: Revision,
    /// The matching key-values, in key order, at most `limit` of them.
    pub kvs: Vec<KeyValue>,
    /// Whether more keys matched than were returned.
    pub more: bool,
    /// How many keys matched in all.
    pub count: i64,
}

impl RangeResponse {
    /// The range request that fetches the next page after this one, if any.
    pub fn next_page(&self, req: &RangeRequest) -> Option<RangeRequest> {
        let last = self.kvs.last()?;
        self.more.then(|| RangeRequest {
            range: req.range.continue_after(&last.key),
            revision: Some(self.revision),
            ..req.clone()
        })
    }
}

/// What a [`Compare`] looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompareTarget {
    /// The key's version (0 when absent).
    Version(i64),
    /// The key's create revision (0 when absent).
    CreateRevision(Revision),
    /// The key's mod revision (0 when absent).
    ModRevision(Revision),
    /// The key's value. A missing key never matches a value compare,
    /// whatever the operator (etcd's rule).
    Value(Bytes),
    /// The key's lease (0 when absent or none).
    Lease(i64),
}

/// How a [`Compare`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
    /// `<`
    Less,
    /// `>`
    Greater,
}

/// A guard in a [`Txn`]: one key's field compared with a constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compare {
    /// The key compared.
    pub key: Bytes,
    /// The comparison.
    pub op: CompareOp,
    /// The field and the constant.
    pub target: CompareTarget,
}

impl Compare {
    /// `key`'s mod revision `op` `rev`.
    pub fn mod_revision(key: impl Into<Bytes>, op: CompareOp, rev: Revision) -> Self {
        Compare {
            key: key.into(),
            op,
            target: CompareTarget::ModRevision(rev),
        }
    }
    /// `key`'s create revision `op` `rev`.
    pub fn create_revision(key: impl Into<Bytes>, op: CompareOp, rev: Revision) -> Self {
        Compare {
            key: key.into(),
            op,
            target: CompareTarget::CreateRevision(rev),
        }
    }
    /// `key`'s version `op` `v`.
    pub fn version(key: impl Into<Bytes>, op: CompareOp, v: i64) -> Self {
        Compare {
            key: key.into(),
            op,
            target: CompareTarget::Version(v),
        }
    }
    /// `key`'s value `op` `value`.
    pub fn value(key: impl Into<Bytes>, op: CompareOp, value: impl Into<Bytes>) -> Self {
        Compare {
            key: key.into(),
            op,
            target: CompareTarget::Value(value.into()),
        }
    }
    /// `key`'s lease `op` `lease`.
    pub fn lease(key: impl Into<Bytes>, op: CompareOp, lease: i64) -> Self {
        Compare {
            key: key.into(),
            op,
            target: CompareTarget::Lease(lease),
        }
    }
    /// The key does not exist.
    pub fn absent(key: impl Into<Bytes>) -> Self {
        Self::create_revision(key, CompareOp::Equal, 0)
    }

    /// Evaluates the guard against the key's current state (`None` = absent),
    /// with etcd's rules. Backends that evaluate compares themselves use this.
    pub fn holds(&self, current: Option<&KeyValue>) -> bool {
        use std::cmp::Ordering;
        let ord = match (&self.target, current) {
            (CompareTarget::Value(_), None) => return false,
            (CompareTarget::Value(v), Some(kv)) => kv.value.as_ref().cmp(v.as_ref()),
            (CompareTarget::Version(v), kv) => kv.map_or(0, |kv| kv.version).cmp(v),
            (CompareTarget::CreateRevision(r), kv) => kv.map_or(0, |kv| kv.create_revision).cmp(r),
            (CompareTarget::ModRevision(r), kv) => kv.map_or(0, |kv| kv.mod_revision).cmp(r),
            (CompareTarget::Lease(l), kv) => kv.map_or(0, |kv| kv.lease).cmp(l),
        };
        match self.op {
            CompareOp::Equal => ord == Ordering::Equal,
            CompareOp::NotEqual => ord != Ordering::Equal,
            CompareOp::Less => ord == Ordering::Less,
            CompareOp::Greater => ord == Ordering::Greater,
        }
    }
}

/// One operation in a [`Txn`] branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Write a key.
    Put {
        /// The key.
        key: Bytes,
        /// The value.
        value: Bytes,
        /// Lease to attach (0 for none).
        lease: i64,
        /// Return the previous key-value.
        prev_kv: bool,
    },
    /// Delete the keys in a range.
    Delete {
        /// The keys.
        range: KeyRange,
        /// Return the deleted key-values.
        prev_kv: bool,
    },
    /// Read a range (at the transaction's revision).
    Range(RangeRequest),
}

impl Op {
    /// A put with no lease.
    pub fn put(key: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        Op::Put {
            key: key.into(),
            value: value.into(),
            lease: 0,
            prev_kv: false,
        }
    }
    /// A put attached to a lease.
    pub fn put_with_lease(key: impl Into<Bytes>, value: impl Into<Bytes>, lease: i64) -> Self {
        Op::Put {
            key: key.into(),
            value: value.into(),
            lease,
            prev_kv: false,
        }
    }
    /// A delete of one key.
    pub fn delete(key: impl Into<Bytes>) -> Self {
        Op::Delete {
            range: KeyRange::Key(key.into()),
            prev_kv: false,
        }
    }
    /// A read of one key.
    pub fn get(key: impl Into<Bytes>) -> Self {
        Op::Range(RangeRequest::new(KeyRange::Key(key.into())))
    }
}

/// An atomic compare-then-write: if every compare holds, the `success` ops
/// run, otherwise the `failure` ops, all at one new revision (if anything is
/// written).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Txn {
    /// Guards, all of which must hold.
    pub compare: Vec<Compare>,
    /// Ops when every guard holds.
    pub success: Vec<Op>,
    /// Ops otherwise.
    pub failure: Vec<Op>,
}

impl Txn {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds guards.
    pub fn when(mut self, compares: impl IntoIterator<Item = Compare>) -> Self {
        self.compare.extend(compares);
        self
    }
    /// Adds ops for success.
    pub fn and_then(mut self, ops: impl IntoIterator<Item = Op>) -> Self {
        self.success.extend(ops);
        self
    }
    /// Adds ops for failure.
    pub fn or_else(mut self, ops: impl IntoIterator<Item = Op>) -> Self {
        self.failure.extend(ops);
        self
    }
}

/// What a put returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutResponse {
    /// The revision of the write.
    pub revision: Revision,
    /// The previous key-value, when asked for and present.
    pub prev_kv: Option<KeyValue>,
}

/// What a delete returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteResponse {
    /// The store revision after the delete (unchanged when nothing was deleted).
    pub revision: Revision,
    /// How many keys were deleted.
    pub deleted: i64,
    /// The deleted key-values, when asked for.
    pub prev_kvs: Vec<KeyValue>,
}

/// The result of one [`Op`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResponse {
    /// Of a put.
    Put(PutResponse),
    /// Of a delete.
    Delete(DeleteResponse),
    /// Of a range.
    Range(RangeResponse),
}

/// The result of a [`Txn`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnResponse {
    /// Whether every compare held (and so `success` ran).
    pub succeeded: bool,
    /// The store revision after the transaction.
    pub revision: Revision,
    /// One response per op of the branch that ran.
    pub responses: Vec<OpResponse>,
}

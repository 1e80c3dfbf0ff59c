//! The store every piece of ironclad keeps its state in, with etcd v3
//! semantics: a cluster-wide revision bumped by every write, per-key
//! create/mod revisions and versions, compare-and-swap transactions, ranges at
//! past revisions, ordered watches from a revision, leases and compaction.
//!
//! This crate holds only the [`Store`] trait and its types; backends live in
//! their own crates (`ironclad-store-embedded`, `ironclad-store-etcd`) and
//! all run the same [`conformance`] suite (feature `conformance`).
//!
//! Start reading at [`Store`], then [`Txn`] and [`WatchRequest`].

mod error;
mod key;
mod kv;
mod request;
mod store;
mod watch;

#[cfg(feature = "conformance")]
#[allow(clippy::unwrap_used)] // test code: a failing case panics with its error
pub mod conformance;

pub use error::{Error, Result};
pub use key::{KeyRange, prefix_end};
pub use kv::{Event, EventKind, KeyValue};
pub use request::{
    Compare, CompareOp, CompareTarget, DeleteResponse, Op, OpResponse, PutResponse, RangeRequest,
    RangeResponse, Txn, TxnResponse,
};
pub use store::{LeaseGrant, MAX_VALUE_SIZE, Revision, Status, Store, check_value_size};
pub use watch::{WatchRequest, WatchResponse, WatchStream};

//! ironclad's store on a real etcd v3 cluster, and a launcher for local etcd
//! members.
//!
//! [`EtcdStore`] implements [`ironclad_store::Store`] with `etcd-client`, so
//! ironclad can keep its state in an existing etcd, and so the embedded
//! store can be checked against (and benchmarked against) the real thing:
//! both run the same conformance suite. [`EtcdCluster`] starts throw-away
//! etcd members on loopback for those tests, for benchmarks and for
//! `ironclad bench store`.
//!
//! Start reading at [`EtcdStore::connect`] and the `Store` impl in
//! `store.rs`; `convert.rs` maps requests and answers, `error.rs` maps
//! etcd's errors and decides what may be sent again, `watch.rs` keeps
//! watches alive across member failures, and `process.rs` runs etcd.
//!
//! Where etcd needs help to meet the `Store` contract:
//!
//! - etcd does not report its compaction point (not in `Status`, not in a
//!   compacted read's error). The store remembers the highest point it has
//!   seen and, when a read proves it stale, finds the exact point by
//!   reading at candidate revisions (see `EtcdStore::status`).
//! - A progress notification carries the revision of the member serving the
//!   watch, which can lag the cluster; `request_progress` re-asks until the
//!   answer covers the revision current when it was called.
//! - A broken watch is re-created from the revision after the last event it
//!   delivered, on whichever member answers.
//!
//! And one etcd rule the store keeps as is: a transaction's value compare
//! on a missing key never holds, whatever the operator.

mod convert;
mod error;
mod process;
mod store;
mod watch;

pub use process::{ETCD_BIN_ENV, EtcdCluster, EtcdOptions, etcd_binary};
pub use store::EtcdStore;

//! The conformance suite every [`Store`] backend runs: the same cases, by
//! name, against a fresh store each.
//!
//! A backend's test file says
//!
//! ```ignore
//! async fn fresh() -> ironclad_store::conformance::Fixture { /* open a new empty store */ }
//! ironclad_store::conformance_tests!(fresh);
//! ```
//!
//! and gets one `#[tokio::test]` per case. Cases never assume absolute
//! revision numbers, only their order, so they hold for etcd too.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use crate::{Event, Store, WatchStream};

mod compaction;
mod concurrency;
mod kv;
mod lease;
mod txn;
mod watch;

pub use compaction::*;
pub use concurrency::*;
pub use kv::*;
pub use lease::*;
pub use txn::*;
pub use watch::*;

/// A store under test, with whatever keeps it alive (a temp dir, a process).
pub struct Fixture {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Dropped after the case.
    pub guard: Box<dyn Any + Send>,
}

impl Fixture {
    /// A fixture from a store and its guard.
    pub fn new(store: Arc<dyn Store>, guard: impl Any + Send) -> Self {
        Fixture {
            store,
            guard: Box::new(guard),
        }
    }
}

/// Generates one `#[tokio::test]` per conformance case, each calling
/// `$factory().await` for a fresh [`Fixture`].
#[macro_export]
macro_rules! conformance_tests {
    ($factory:path) => {
        $crate::conformance_tests!(@cases $factory;
            put_get_and_versions,
            get_missing_key,
            range_prefix_order_limit_and_pages,
            range_interval_keys_only_count_only,
            range_at_past_revisions,
            range_future_revision_fails,
            delete_prefix_one_revision,
            delete_then_recreate_resets_version,
            empty_key_refused,
            value_size_limit,
            txn_compare_targets,
            txn_multi_op_single_revision,
            txn_create_if_absent,
            txn_failed_without_writes_keeps_revision,
            watch_from_now,
            watch_replays_history_then_live,
            watch_prev_kv,
            watch_filters_by_range,
            watch_slow_consumer_loses_nothing,
            watch_progress_on_request,
            many_watchers_same_order,
            compacted_range_and_watch_fail,
            compaction_keeps_latest_values,
            lease_attach_and_revoke,
            lease_expiry_deletes_keys,
            lease_keep_alive_keeps_keys,
            lease_unknown_refused,
            cas_race_one_winner_per_round,
            concurrent_writers_unique_revisions_and_gapless_watch
        );
    };
    (@cases $factory:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture = $factory().await;
                $crate::conformance::$case(fixture.store.clone()).await;
                drop(fixture);
            }
        )*
    };
}

/// How long a case waits for something that should happen promptly.
pub const DEADLINE: Duration = Duration::from_secs(10);

fn b(s: impl AsRef<[u8]>) -> Bytes {
    Bytes::copy_from_slice(s.as_ref())
}

/// Collects exactly `n` events from a watch, failing the case at
/// [`DEADLINE`] or on an error.
pub async fn next_events(w: &mut WatchStream, n: usize) -> Vec<Event> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while out.len() < n {
        let item = tokio::time::timeout_at(deadline, w.next())
            .await
            .unwrap_or_else(|_| panic!("timed out with {} of {n} events: {out:?}", out.len()));
        let resp = item.expect("watch ended").expect("watch failed");
        out.extend(resp.events);
    }
    assert_eq!(out.len(), n, "more events than expected: {out:?}");
    out
}

/// Asserts no event arrives within a short quiet period.
pub async fn assert_quiet(w: &mut WatchStream) {
    let quiet = Duration::from_millis(300);
    loop {
        match tokio::time::timeout(quiet, w.next()).await {
            Err(_) => return,
            Ok(Some(Ok(resp))) if resp.events.is_empty() => continue,
            Ok(other) => panic!("expected no event, got {other:?}"),
        }
    }
}

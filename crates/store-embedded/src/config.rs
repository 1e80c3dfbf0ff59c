//! Tunables of the embedded store.

use std::time::Duration;

/// How the embedded store runs. `Default` is what `ironclad server` uses.
#[derive(Debug, Clone)]
pub struct Config {
    /// fsync the write-ahead log before acknowledging each batch. Off only
    /// for throwaway stores (tests that do not measure durability);
    /// checkpoints and close are durable either way.
    pub durable: bool,
    /// Keep at least this many revisions of history; older ones are
    /// compacted automatically every `compaction_interval`. `None` leaves
    /// compaction to explicit calls (as the API server does with etcd).
    pub retain_revisions: Option<i64>,
    /// How often automatic compaction runs.
    pub compaction_interval: Duration,
    /// How often watches that asked for progress notifications get one.
    pub progress_interval: Duration,
    /// How often expired leases are looked for.
    pub lease_check_interval: Duration,
    /// The most requests committed together in one fsync (group commit).
    pub max_batch: usize,
    /// How often, while writes keep coming, a batch is committed to redb
    /// durably (a checkpoint) so the write-ahead log can start over. Longer
    /// means fewer slow commits but more to replay after a crash.
    pub checkpoint_interval: Duration,
    /// Events a watcher may have queued before it is moved off the live
    /// path and caught up from the log.
    pub watch_buffer: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            durable: true,
            retain_revisions: Some(10_000),
            compaction_interval: Duration::from_secs(60),
            progress_interval: Duration::from_secs(10),
            lease_check_interval: Duration::from_millis(100),
            max_batch: 512,
            checkpoint_interval: Duration::from_millis(100),
            watch_buffer: 1024,
        }
    }
}

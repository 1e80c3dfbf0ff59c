//! The writer thread: the only place that writes. It drains every request
//! waiting in its queue, applies them in order in one redb transaction,
//! appends what changed to the write-ahead log and syncs it (one fsync for
//! the whole batch — group commit), commits the transaction without a sync,
//! publishes the events to the watch hub, and only then acknowledges. An
//! acknowledged write is therefore always durable, and visible to every
//! read and watch that starts after the acknowledgement; a write becomes
//! visible only once it is durable, because the log sync comes before the
//! commit.
//!
//! Every `checkpoint_interval`, when a batch does not fit the log, and when
//! the writer stops, the batch is committed to redb durably instead and the
//! log starts over (see `wal.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use ironclad_store::{Error, Op, Result, Revision, Txn, TxnResponse};
use redb::{Database, Durability};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error};

use crate::apply::Batch;
use crate::lease::Leases;
use crate::tables::OrBackend;
use crate::wal::{self, HEADER, Mutation, Wal};
use crate::watch::Hub;

/// A request to the writer.
pub(crate) enum Request {
    /// Run a transaction.
    Txn(Txn, oneshot::Sender<Result<TxnResponse>>),
    /// Grant a lease.
    LeaseGrant(i64, oneshot::Sender<Result<i64>>),
    /// Revoke a lease; `expired_only` revokes only if it is still expired
    /// (a keep-alive may have raced the expiry check).
    LeaseRevoke {
        id: i64,
        expired_only: bool,
        reply: Option<oneshot::Sender<Result<()>>>,
    },
    /// Compact history before a revision.
    Compact(Revision, oneshot::Sender<Result<()>>),
}

/// An answer waiting for the commit.
enum Reply {
    Txn(oneshot::Sender<Result<TxnResponse>>, TxnResponse),
    Lease(oneshot::Sender<Result<i64>>, i64),
    Unit(Option<oneshot::Sender<Result<()>>>),
}

impl Request {
    /// Answers a request that will not run.
    fn fail(self, e: &Error) {
        let unavailable = || Error::Unavailable(e.to_string());
        match self {
            Request::Txn(_, tx) => drop(tx.send(Err(unavailable()))),
            Request::LeaseGrant(_, tx) => drop(tx.send(Err(unavailable()))),
            Request::LeaseRevoke { reply, .. } => {
                if let Some(tx) = reply {
                    drop(tx.send(Err(unavailable())));
                }
            }
            Request::Compact(_, tx) => drop(tx.send(Err(unavailable()))),
        }
    }
}

impl Reply {
    fn send_ok(self) {
        match self {
            Reply::Txn(tx, r) => drop(tx.send(Ok(r))),
            Reply::Lease(tx, id) => drop(tx.send(Ok(id))),
            Reply::Unit(Some(tx)) => drop(tx.send(Ok(()))),
            Reply::Unit(None) => {}
        }
    }

    fn send_err(self, e: &Error) {
        let unavailable = || Error::Unavailable(format!("commit failed: {e}"));
        match self {
            Reply::Txn(tx, _) => drop(tx.send(Err(unavailable()))),
            Reply::Lease(tx, _) => drop(tx.send(Err(unavailable()))),
            Reply::Unit(Some(tx)) => drop(tx.send(Err(unavailable()))),
            Reply::Unit(None) => {}
        }
    }
}

/// What the writer shares with the rest of the store, and its log.
pub(crate) struct Writer {
    db: Arc<Database>,
    hub: Arc<Hub>,
    leases: Arc<Leases>,
    compact: Arc<AtomicI64>,
    max_batch: usize,
    wal: Wal,
    checkpoint_interval: Duration,
    last_checkpoint: Instant,
    /// The next batch is a checkpoint whatever the time: set when a log
    /// append failed, since what the failed write left on disk is unknown.
    force_checkpoint: bool,
    /// Set when a record could not be taken back after its commit failed:
    /// the log and redb may now disagree, so nothing more is written.
    poisoned: Option<String>,
}

/// What a committed batch changed, for the in-memory state.
struct Applied {
    events: Vec<ironclad_store::Event>,
    granted: Vec<(i64, i64)>,
    revoked: Vec<i64>,
    head: Revision,
    compact: Revision,
}

/// The puts and deletes of a branch: all a replay needs of it.
fn writes(ops: &[Op]) -> Vec<Op> {
    ops.iter()
        .filter(|o| !matches!(o, Op::Range(_)))
        .cloned()
        .collect()
}

impl Writer {
    /// A writer over an open database and a log already replayed and reset.
    pub fn new(
        db: Arc<Database>,
        hub: Arc<Hub>,
        leases: Arc<Leases>,
        compact: Arc<AtomicI64>,
        max_batch: usize,
        wal: Wal,
        checkpoint_interval: Duration,
    ) -> Writer {
        Writer {
            db,
            hub,
            leases,
            compact,
            max_batch,
            wal,
            checkpoint_interval,
            last_checkpoint: Instant::now(),
            force_checkpoint: false,
            poisoned: None,
        }
    }

    /// Serves requests until every sender is gone, then checkpoints so the
    /// next open has nothing to replay.
    pub fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            self.commit_batch(batch);
        }
        if self.wal.dirty()
            && self.poisoned.is_none()
            && let Err(e) = self.final_checkpoint()
        {
            // Not fatal: the log still holds everything and is replayed.
            error!(error = %e, "embedded store: checkpoint at close failed");
        }
        debug!("embedded store writer stopped");
    }

    /// A durable commit of nothing but the log position: makes every
    /// earlier non-durable commit durable too.
    fn final_checkpoint(&mut self) -> Result<()> {
        let wtx = self.db.begin_write().or_backend("begin write")?;
        let mut b = Batch::open(&wtx)?;
        b.set_wal_seq(self.wal.last_seq())?;
        b.finish()?;
        wtx.commit().or_backend("checkpoint")?;
        self.wal.reset(self.wal.last_seq());
        Ok(())
    }

    fn commit_batch(&mut self, batch: Vec<Request>) {
        if let Some(why) = &self.poisoned {
            let e = Error::Unavailable(format!("the embedded store stopped writing: {why}"));
            for r in batch {
                r.fail(&e);
            }
            return;
        }
        let mut replies = Vec::with_capacity(batch.len());
        match self.apply_batch(batch, &mut replies) {
            Ok(a) => {
                for (id, ttl) in a.granted {
                    self.leases.insert(id, ttl);
                }
                for id in a.revoked {
                    self.leases.remove(id);
                }
                self.compact.store(a.compact, Ordering::SeqCst);
                self.hub.publish(&a.events, a.head);
                for r in replies {
                    r.send_ok();
                }
            }
            Err(e) => {
                error!(error = %e, "embedded store commit failed; the batch is not applied");
                for r in replies {
                    r.send_err(&e);
                }
            }
        }
    }

    /// Applies a batch in one transaction and makes it durable, through
    /// the log or a checkpoint. Requests that fail validation are answered
    /// at once; the others wait in `replies`.
    fn apply_batch(&mut self, batch: Vec<Request>, replies: &mut Vec<Reply>) -> Result<Applied> {
        let mut wtx = self.db.begin_write().or_backend("begin write")?;
        let mut b = Batch::open(&wtx)?;
        // What the log records: only what was applied, so replay needs no
        // validation and takes the same branches.
        let mut muts = Vec::new();
        for req in batch {
            match req {
                Request::Txn(txn, tx) => match b.validate(&txn, |id| self.leases.exists(id)) {
                    Err(e) => drop(tx.send(Err(e))),
                    Ok(()) => {
                        let (success, failure) = (writes(&txn.success), writes(&txn.failure));
                        let resp = b.txn(txn)?;
                        let ops = if resp.succeeded { success } else { failure };
                        if !ops.is_empty() {
                            muts.push(Mutation::Txn(ops));
                        }
                        replies.push(Reply::Txn(tx, resp));
                    }
                },
                Request::LeaseGrant(ttl, tx) => match b.lease_grant(ttl) {
                    Ok(id) => {
                        muts.push(Mutation::LeaseGrant(ttl));
                        replies.push(Reply::Lease(tx, id));
                    }
                    Err(e @ Error::InvalidRequest(_)) => drop(tx.send(Err(e))),
                    Err(e) => return Err(e),
                },
                Request::LeaseRevoke {
                    id,
                    expired_only,
                    reply,
                } => {
                    if expired_only && !self.leases.still_expired(id) {
                        continue;
                    }
                    match b.lease_revoke(id) {
                        Ok(()) => {
                            muts.push(Mutation::LeaseRevoke(id));
                            replies.push(Reply::Unit(reply));
                        }
                        Err(e @ Error::LeaseNotFound(_)) => {
                            if let Some(tx) = reply {
                                drop(tx.send(Err(e)));
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
                Request::Compact(rev, tx) => match b.compact(rev) {
                    Ok(()) => {
                        muts.push(Mutation::Compact(rev));
                        replies.push(Reply::Unit(Some(tx)));
                    }
                    Err(e @ (Error::Compacted { .. } | Error::FutureRevision { .. })) => {
                        drop(tx.send(Err(e)))
                    }
                    Err(e) => return Err(e),
                },
            }
        }

        let due =
            self.force_checkpoint || self.last_checkpoint.elapsed() >= self.checkpoint_interval;
        let mut record = None;
        if !muts.is_empty() && !due {
            let mut r = vec![0u8; HEADER];
            wal::encode(&muts, &mut r);
            // A batch too big for what is left of the log is checkpointed
            // instead; one too big for the whole log too.
            if self.wal.fits(&r) {
                record = Some(r);
            }
        }
        let checkpoint = record.is_none() && (due || !muts.is_empty());
        let seq = self.wal.last_seq() + u64::from(record.is_some());
        b.set_wal_seq(seq)?;

        let applied = Applied {
            head: b.head,
            compact: b.compact,
            events: std::mem::take(&mut b.events),
            granted: std::mem::take(&mut b.granted),
            revoked: b.revoked.drain().collect(),
        };
        b.finish()?;

        if checkpoint {
            // Durable by itself (the default durability), so no record.
            wtx.commit().or_backend("checkpoint")?;
            self.wal.reset(seq);
            self.last_checkpoint = Instant::now();
            self.force_checkpoint = false;
            return Ok(applied);
        }
        wtx.set_durability(Durability::None)
            .or_backend("set durability")?;
        let Some(mut record) = record else {
            // Nothing applied: there is nothing to make durable.
            wtx.commit().or_backend("commit")?;
            return Ok(applied);
        };
        // The log first: redb must not show readers a write the log does
        // not hold durably. Dropping `wtx` on error aborts it.
        if let Err(e) = self.wal.append(&mut record) {
            self.force_checkpoint = true;
            return Err(Error::backend("append to the write-ahead log", e));
        }
        if let Err(e) = wtx.commit() {
            // The record is durable but redb has not got it: take it back,
            // or a replay would apply a batch whose callers saw it fail.
            if let Err(re) = self.wal.retract(seq, record.len()) {
                error!(error = %re, "embedded store: cannot take back a log record; stopping writes");
                self.poisoned = Some(format!("write-ahead log: {re}"));
            }
            return Err(Error::backend("commit", e));
        }
        Ok(applied)
    }
}

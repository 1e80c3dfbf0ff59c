//! The writer thread: the only place that writes. It drains every request
//! waiting in its queue, applies them in order in one redb transaction,
//! commits once (one fsync for the whole batch — group commit), publishes
//! the events to the watch hub, and only then acknowledges. An
//! acknowledged write is therefore always durable, and visible to every
//! read and watch that starts after the acknowledgement.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use ironclad_store::{Error, Result, Revision, Txn, TxnResponse};
use redb::{Database, Durability};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error};

use crate::apply::Batch;
use crate::lease::Leases;
use crate::tables::OrBackend;
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

/// What the writer shares with the rest of the store.
pub(crate) struct Writer {
    pub db: Arc<Database>,
    pub hub: Arc<Hub>,
    pub leases: Arc<Leases>,
    pub compact: Arc<AtomicI64>,
    pub durable: bool,
    pub max_batch: usize,
}

impl Writer {
    /// Serves requests until every sender is gone.
    pub fn run(self, mut rx: mpsc::UnboundedReceiver<Request>) {
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
        debug!("embedded store writer stopped");
    }

    fn commit_batch(&self, batch: Vec<Request>) {
        let mut replies = Vec::with_capacity(batch.len());
        let outcome = self.apply_batch(batch, &mut replies);
        match outcome {
            Ok((events, granted, revoked, head, compact)) => {
                for (id, ttl) in granted {
                    self.leases.insert(id, ttl);
                }
                for id in revoked {
                    self.leases.remove(id);
                }
                self.compact.store(compact, Ordering::SeqCst);
                self.hub.publish(&events, head);
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

    /// Applies a batch in one transaction and commits it. Requests that
    /// fail validation are answered at once; the others wait in `replies`.
    #[allow(clippy::type_complexity)]
    fn apply_batch(
        &self,
        batch: Vec<Request>,
        replies: &mut Vec<Reply>,
    ) -> Result<(
        Vec<ironclad_store::Event>,
        Vec<(i64, i64)>,
        Vec<i64>,
        Revision,
        Revision,
    )> {
        let mut wtx = self.db.begin_write().or_backend("begin write")?;
        if !self.durable {
            wtx.set_durability(Durability::None)
                .or_backend("set durability")?;
        }
        let mut b = Batch::open(&wtx)?;
        for req in batch {
            match req {
                Request::Txn(txn, tx) => match b.validate(&txn, |id| self.leases.exists(id)) {
                    Err(e) => drop(tx.send(Err(e))),
                    Ok(()) => {
                        let resp = b.txn(txn)?;
                        replies.push(Reply::Txn(tx, resp));
                    }
                },
                Request::LeaseGrant(ttl, tx) => match b.lease_grant(ttl) {
                    Ok(id) => replies.push(Reply::Lease(tx, id)),
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
                        Ok(()) => replies.push(Reply::Unit(reply)),
                        Err(e @ Error::LeaseNotFound(_)) => {
                            if let Some(tx) = reply {
                                drop(tx.send(Err(e)));
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
                Request::Compact(rev, tx) => match b.compact(rev) {
                    Ok(()) => replies.push(Reply::Unit(Some(tx))),
                    Err(e @ (Error::Compacted { .. } | Error::FutureRevision { .. })) => {
                        drop(tx.send(Err(e)))
                    }
                    Err(e) => return Err(e),
                },
            }
        }
        let (head, compact) = (b.head, b.compact);
        let events = std::mem::take(&mut b.events);
        let granted = std::mem::take(&mut b.granted);
        let revoked: Vec<i64> = b.revoked.drain().collect();
        b.finish()?;
        wtx.commit().or_backend("commit")?;
        Ok((events, granted, revoked, head, compact))
    }
}

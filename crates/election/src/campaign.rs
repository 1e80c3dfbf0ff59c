//! The candidate side: take the key if it is free, otherwise follow
//! whoever holds it until the key goes, then race for it again.

use std::time::Duration;

use futures::StreamExt;
use futures::future::FusedFuture;
use ironclad_store::{
    Compare, EventKind, KeyRange, KeyValue, Op, OpResponse, RangeRequest, Revision, Txn,
    WatchRequest,
};
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, warn};

use crate::error::call;
use crate::{Elector, Error, LeaderState, Result};

/// A won campaign: the lease holding the key, the term's token and its
/// first local deadline.
#[derive(Debug)]
pub(crate) struct Won {
    pub(crate) lease: i64,
    pub(crate) token: Revision,
    pub(crate) until: Instant,
}

/// What the candidate knows of the key: its holder (if any) as of `revision`.
#[derive(Debug)]
struct Seen {
    holder: Option<KeyValue>,
    revision: Revision,
}

/// Where one campaign step leaves the candidate.
enum Flow {
    Won(Won),
    Seen(Seen),
    /// Knowledge of the key is stale (a watch ended): read it again.
    Reread,
    Shutdown,
}

/// Retry delays for transient store errors: doubling, capped, reset by
/// success, so a store outage costs few requests and recovery is prompt.
struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(1);

    fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        d
    }
}

impl Elector {
    /// Campaigns until this candidate wins (`Some`) or `shutdown` completes
    /// (`None`). Transient store errors are retried with backoff.
    pub(crate) async fn campaign<S>(&self, shutdown: &mut S) -> Result<Option<Won>>
    where
        S: FusedFuture<Output = ()> + Unpin,
    {
        let mut backoff = Backoff(Backoff::FIRST);
        let mut seen = None;
        loop {
            let delay = match self.step(seen.take(), shutdown).await {
                Ok(Flow::Won(won)) => return Ok(Some(won)),
                Ok(Flow::Shutdown) => return Ok(None),
                Ok(Flow::Seen(s)) => {
                    backoff = Backoff(Backoff::FIRST);
                    seen = Some(s);
                    continue;
                }
                // A watch that ended by itself: unusual, so not retried at
                // full speed either.
                Ok(Flow::Reread) => backoff.next(),
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => {
                    let delay = backoff.next();
                    warn!(error = %e, ?delay, "election store request failed; retrying");
                    delay
                }
            };
            tokio::select! {
                biased;
                _ = &mut *shutdown => return Ok(None),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// One step: read the key if its state is unknown; take it if it is
    /// free; otherwise wait for it to go.
    async fn step<S>(&self, seen: Option<Seen>, shutdown: &mut S) -> Result<Flow>
    where
        S: FusedFuture<Output = ()> + Unpin,
    {
        let seen = match seen {
            Some(seen) => seen,
            None => tokio::select! {
                biased;
                _ = &mut *shutdown => return Ok(Flow::Shutdown),
                seen = self.read() => seen?,
            },
        };
        match seen.holder {
            // Not cancelled by shutdown: if the transaction lands, this
            // candidate must know it won so that it can resign (`lead` sees
            // the shutdown at once). Each request is bounded by a timeout.
            None => self.try_acquire().await,
            Some(holder) => {
                self.publish_follower(&holder);
                tokio::select! {
                    biased;
                    _ = &mut *shutdown => Ok(Flow::Shutdown),
                    flow = self.wait_for_vacancy(holder, seen.revision) => flow,
                }
            }
        }
    }

    /// Reads the key and the revision it was read at.
    async fn read(&self) -> Result<Seen> {
        let req = RangeRequest::new(KeyRange::key(self.config.key.clone()));
        let resp = call(
            "reading the election key",
            self.config.request_timeout(),
            self.store.range(req),
        )
        .await?;
        Ok(Seen {
            holder: resp.kvs.into_iter().next(),
            revision: resp.revision,
        })
    }

    /// Grants a lease and writes this candidate's ID to the key with it,
    /// only if the key is absent. On losing, returns the holder as of the
    /// transaction's revision, read in the same transaction.
    async fn try_acquire(&self) -> Result<Flow> {
        let timeout = self.config.request_timeout();
        let key = self.config.key.clone();
        // The lease cannot expire before `sent + TTL`: the store starts its
        // clock when it grants, which is after this instant.
        let sent = Instant::now();
        let grant = call(
            "granting a lease",
            timeout,
            self.store.lease_grant(self.config.ttl_secs),
        )
        .await?;
        let txn = Txn::new()
            .when([Compare::absent(key.clone())])
            .and_then([Op::put_with_lease(
                key.clone(),
                self.config.id.clone(),
                grant.id,
            )])
            .or_else([Op::get(key)]);
        let resp = match call("taking the election key", timeout, self.store.txn(txn)).await {
            Ok(resp) => resp,
            Err(e) => {
                // The transaction may have landed unseen: revoking deletes
                // the key again rather than leave it held by a candidate that
                // does not know it won.
                self.revoke(grant.id).await;
                return Err(e);
            }
        };
        if resp.succeeded {
            let until = sent + self.config.validity(grant.ttl);
            return Ok(Flow::Won(Won {
                lease: grant.id,
                token: resp.revision,
                until,
            }));
        }
        self.revoke(grant.id).await;
        let holder = match resp.responses.into_iter().next() {
            Some(OpResponse::Range(r)) => r.kvs.into_iter().next(),
            _ => None,
        };
        debug!(
            revision = resp.revision,
            "lost the race for the election key"
        );
        Ok(Flow::Seen(Seen {
            holder,
            revision: resp.revision,
        }))
    }

    /// Follows `holder` (the key as of `revision`) until the key is
    /// deleted. Watching from `revision + 1` means a deletion after the read
    /// cannot be missed.
    async fn wait_for_vacancy(&self, mut holder: KeyValue, revision: Revision) -> Result<Flow> {
        let during = "watching the election key";
        let req =
            WatchRequest::new(KeyRange::key(self.config.key.clone())).from_revision(revision + 1);
        let mut watch = call(during, self.config.request_timeout(), self.store.watch(req)).await?;
        // A watch can go quiet without ending (etcd keeps a stream to a
        // partitioned member open), so a read every TTL bounds how long a
        // vacancy can go unnoticed.
        let period = self.config.ttl();
        let mut recheck = tokio::time::interval_at(Instant::now() + period, period);
        recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                item = watch.next() => match item {
                    Some(Ok(resp)) => {
                        for ev in resp.events {
                            if ev.kind == EventKind::Delete {
                                let revision = ev.kv.mod_revision;
                                return Ok(Flow::Seen(Seen { holder: None, revision }));
                            }
                            if ev.kv.value != holder.value {
                                self.publish_follower(&ev.kv);
                            }
                            holder = ev.kv;
                        }
                    }
                    Some(Err(e)) => return Err(Error::store(during)(e)),
                    None => return Ok(Flow::Reread),
                },
                _ = recheck.tick() => {
                    let seen = self.read().await?;
                    match &seen.holder {
                        Some(kv) if kv.create_revision == holder.create_revision => {}
                        // Gone, or replaced behind the watch's back.
                        _ => return Ok(Flow::Seen(seen)),
                    }
                }
            }
        }
    }

    fn publish_follower(&self, holder: &KeyValue) {
        let leader = String::from_utf8_lossy(&holder.value).into_owned();
        self.publish(LeaderState::Follower {
            leader: Some(leader),
        });
    }
}

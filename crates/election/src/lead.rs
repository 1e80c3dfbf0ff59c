//! The leader side: renew the lease, watch the key, and step down the
//! moment leadership can no longer be vouched for.

use std::fmt;

use futures::StreamExt;
use futures::future::FusedFuture;
use ironclad_store::{
    Error as StoreError, EventKind, KeyRange, RangeRequest, Revision, WatchRequest, WatchStream,
};
use tokio::time::{Instant, MissedTickBehavior, timeout_at};
use tracing::{info, warn};

use crate::campaign::Won;
use crate::{Elector, LeaderState, Term};

/// Why a term ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepDown {
    /// Shutdown: resigned.
    Shutdown,
    /// The local deadline passed: renewals failed or were too slow, or the
    /// process was stopped past it.
    Expired,
    /// The store no longer knows the lease (expired or revoked).
    LeaseLost,
    /// The key was deleted or taken over.
    KeyLost,
}

impl fmt::Display for StepDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepDown::Shutdown => "resigned on shutdown",
            StepDown::Expired => "local deadline passed without a successful renewal",
            StepDown::LeaseLost => "the store no longer has the lease",
            StepDown::KeyLost => "the election key was deleted or taken over",
        })
    }
}

impl Elector {
    /// Leads for one term: until shutdown, or until leadership is lost.
    /// Either way the term ends locally first (no more acting), then the
    /// state is published, then the lease is revoked so that the next
    /// candidate does not wait for the TTL.
    pub(crate) async fn lead<S>(&self, won: Won, shutdown: &mut S) -> StepDown
    where
        S: FusedFuture<Output = ()> + Unpin,
    {
        let Won {
            lease,
            token,
            until,
        } = won;
        let key = String::from_utf8_lossy(&self.config.key).into_owned();
        if Instant::now() >= until {
            // Winning took longer than the term lasts (a stalled store, or
            // the process was stopped): never announce a term already over.
            info!(key, id = %self.config.id, token, "won the key too late to lead; releasing it");
            self.revoke(lease).await;
            return StepDown::Expired;
        }
        self.shared.begin(Term { token, until });
        self.publish(LeaderState::Leader { token });
        info!(key, id = %self.config.id, token, "became leader");
        let reason = self.hold(lease, token, shutdown).await;
        self.shared.end(token);
        self.publish(LeaderState::Follower { leader: None });
        info!(key, id = %self.config.id, token, %reason, "stepped down");
        self.revoke(lease).await;
        reason
    }

    /// The leader's loop; returns why the term must end.
    async fn hold<S>(&self, lease: i64, token: Revision, shutdown: &mut S) -> StepDown
    where
        S: FusedFuture<Output = ()> + Unpin,
    {
        let period = self.config.renew_interval;
        let mut renew = tokio::time::interval_at(Instant::now() + period, period);
        // After a stall, renew once, not in a burst.
        renew.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // Events from the term's creation on: nothing after it can be missed.
        let mut watch_from = token + 1;
        let mut watch = None;
        // (Re)create the watch now, then at most once per renewal, so a
        // failing watch cannot turn this loop into a busy one.
        let mut watch_due = true;
        loop {
            let Some(term) = self
                .shared
                .last()
                .filter(|t| t.token == token && t.is_valid())
            else {
                return StepDown::Expired;
            };
            if watch.is_none() && watch_due {
                watch_due = false;
                match self.rewatch(token, &mut watch_from, term.until).await {
                    Ok(w) => watch = w,
                    Err(reason) => return reason,
                }
            }
            tokio::select! {
                biased;
                _ = &mut *shutdown => return StepDown::Shutdown,
                // Fires on time even if the store hangs, and first thing
                // after the process resumes from a stop past the deadline.
                _ = tokio::time::sleep_until(term.until) => return StepDown::Expired,
                item = next(&mut watch) => match item {
                    Some(Ok(resp)) => {
                        for ev in &resp.events {
                            watch_from = watch_from.max(ev.kv.mod_revision + 1);
                            if ev.kind == EventKind::Delete || ev.kv.create_revision != token {
                                return StepDown::KeyLost;
                            }
                        }
                        if resp.is_progress() {
                            watch_from = watch_from.max(resp.header_revision + 1);
                        }
                    }
                    // Re-established on the next renewal, from where it was.
                    Some(Err(e)) => {
                        warn!(error = %e, "leader's watch on the election key failed");
                        watch = None;
                    }
                    None => watch = None,
                },
                _ = renew.tick() => {
                    watch_due = true;
                    if let Err(reason) = self.renew(lease, token, term.until).await {
                        return reason;
                    }
                }
            }
        }
    }

    /// Renews the lease once. On success the deadline moves to the instant
    /// the renewal was *sent* plus the TTL minus the margin: the store
    /// renews after that instant, so it cannot expire the lease earlier.
    async fn renew(&self, lease: i64, token: Revision, until: Instant) -> Result<(), StepDown> {
        let sent = Instant::now();
        if sent >= until {
            return Err(StepDown::Expired);
        }
        match timeout_at(until, self.store.lease_keep_alive(lease)).await {
            Err(_) => Err(StepDown::Expired),
            Ok(Ok(ttl)) if ttl > 0 => {
                // `extend` refuses if the deadline passed while the reply was
                // on its way (or the process was stopped): a lapsed term
                // stays over, so its holder may have acted for the last time.
                if self.shared.extend(token, sent + self.config.validity(ttl)) {
                    Ok(())
                } else {
                    Err(StepDown::Expired)
                }
            }
            Ok(Ok(_)) | Ok(Err(StoreError::LeaseNotFound(_))) => Err(StepDown::LeaseLost),
            // Transient: keep trying until the deadline decides.
            Ok(Err(e)) => {
                warn!(lease, error = %e, "lease renewal failed");
                Ok(())
            }
        }
    }

    /// (Re)starts the leader's watch on the key from `from`. Returns `None`
    /// to retry at the next renewal; when history from `from` is compacted,
    /// checks the key directly and moves `from` on.
    ///
    /// Each request gets at most one renew interval: the watch only speeds
    /// up noticing a lost key, while renewals keep the term, so a slow
    /// watch must not hold them up.
    async fn rewatch(
        &self,
        token: Revision,
        from: &mut Revision,
        until: Instant,
    ) -> Result<Option<WatchStream>, StepDown> {
        let give_up = until.min(Instant::now() + self.config.renew_interval);
        let timed_out = || {
            if Instant::now() >= until {
                Err(StepDown::Expired)
            } else {
                Ok(None)
            }
        };
        let range = KeyRange::key(self.config.key.clone());
        let req = WatchRequest::new(range.clone()).from_revision(*from);
        match timeout_at(give_up, self.store.watch(req)).await {
            Err(_) => timed_out(),
            Ok(Ok(w)) => Ok(Some(w)),
            Ok(Err(StoreError::Compacted { .. })) => {
                match timeout_at(give_up, self.store.range(RangeRequest::new(range))).await {
                    Err(_) => timed_out(),
                    Ok(Ok(resp)) => match resp.kvs.first() {
                        Some(kv) if kv.create_revision == token => {
                            *from = resp.revision + 1;
                            Ok(None)
                        }
                        _ => Err(StepDown::KeyLost),
                    },
                    Ok(Err(e)) => {
                        warn!(error = %e, "could not read the election key");
                        Ok(None)
                    }
                }
            }
            Ok(Err(e)) => {
                warn!(error = %e, "could not watch the election key");
                Ok(None)
            }
        }
    }
}

/// The next item of an optional watch; pending forever without one.
async fn next(
    watch: &mut Option<WatchStream>,
) -> Option<ironclad_store::Result<ironclad_store::WatchResponse>> {
    match watch {
        Some(w) => w.next().await,
        None => std::future::pending().await,
    }
}

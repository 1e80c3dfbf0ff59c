//! The [`Elector`]: one candidate, campaigning and leading in turn until
//! shut down.

use std::sync::Arc;

use futures::FutureExt;
use ironclad_store::Store;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::error::call;
use crate::lead::StepDown;
use crate::leadership::Shared;
use crate::{ElectionConfig, LeaderState, Leadership, Result};

/// One candidate in one election. Create it with [`Elector::new`], hand out
/// [`Elector::leadership`] handles, then drive it with [`Elector::run`]
/// (usually on its own task).
pub struct Elector {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) config: ElectionConfig,
    pub(crate) shared: Arc<Shared>,
    state: watch::Sender<LeaderState>,
}

impl std::fmt::Debug for Elector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Elector {
    /// A candidate for `config.key` on `store`. Fails with
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) when the
    /// timings cannot work (see [`ElectionConfig::validate`]).
    pub fn new(store: Arc<dyn Store>, config: ElectionConfig) -> Result<Self> {
        config.validate()?;
        let (state, _) = watch::channel(LeaderState::Follower { leader: None });
        Ok(Elector {
            store,
            config,
            shared: Arc::default(),
            state,
        })
    }

    /// A handle on this candidate's leadership; clone it freely. It keeps
    /// answering after [`Elector::run`] returns (never leader again).
    pub fn leadership(&self) -> Leadership {
        Leadership::new(
            self.config.key.clone(),
            self.config.id.clone(),
            self.shared.clone(),
            self.state.subscribe(),
        )
    }

    /// The config this candidate runs with.
    pub fn config(&self) -> &ElectionConfig {
        &self.config
    }

    /// Campaigns, leads, and campaigns again after losing leadership, until
    /// `shutdown` completes; then resigns (revokes the lease, so another
    /// candidate takes over at once) and returns `Ok(())`.
    ///
    /// An unreachable or slow store is ridden out: requests are retried
    /// with backoff, and a leader that cannot renew steps down at its local
    /// deadline. Only errors retrying cannot fix (the store refusing the
    /// key or the request, see [`Error::is_fatal`](crate::Error::is_fatal))
    /// end the run early, with that error.
    ///
    /// Dropping the future without completing `shutdown` (aborting its task)
    /// does not resign: the lease then expires after its TTL, and handles
    /// stop reporting leadership at the local deadline.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let shutdown = shutdown.fuse();
        let mut shutdown = std::pin::pin!(shutdown);
        let key = String::from_utf8_lossy(&self.config.key).into_owned();
        info!(key, id = %self.config.id, ttl_secs = self.config.ttl_secs, "joining election");
        let result = loop {
            let won = match self.campaign(&mut shutdown).await {
                Ok(Some(won)) => won,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            };
            match self.lead(won, &mut shutdown).await {
                StepDown::Shutdown => break Ok(()),
                reason => {
                    // This candidate just failed to hold the key: give the
                    // others (reacting within milliseconds to the revoke) the
                    // first go at it before campaigning again.
                    debug!(key, %reason, "campaigning again after a pause");
                    tokio::select! {
                        biased;
                        _ = &mut shutdown => break Ok(()),
                        _ = tokio::time::sleep(self.config.renew_interval) => {}
                    }
                }
            }
        };
        self.publish(LeaderState::Follower { leader: None });
        match &result {
            Ok(()) => info!(key, id = %self.config.id, "left election"),
            Err(e) => warn!(key, id = %self.config.id, error = %e, "election stopped"),
        }
        result
    }

    /// Publishes a state, waking subscribers only on a real change.
    pub(crate) fn publish(&self, new: LeaderState) {
        self.state.send_if_modified(|s| {
            let changed = *s != new;
            *s = new;
            changed
        });
    }

    /// Revokes a lease, best effort: a lease that cannot be revoked expires
    /// by itself within its TTL, and the callers have already stopped acting.
    pub(crate) async fn revoke(&self, lease: i64) {
        let timeout = self.config.request_timeout();
        match call(
            "revoking the lease",
            timeout,
            self.store.lease_revoke(lease),
        )
        .await
        {
            Ok(()) => {}
            Err(crate::Error::Store {
                source: ironclad_store::Error::LeaseNotFound(_),
                ..
            }) => {}
            Err(e) => warn!(lease, error = %e, "could not revoke lease; it will expire"),
        }
    }
}

//! Runs every controller while elected.

use std::time::Duration;

use futures::future::BoxFuture;
use ironclad_leader::{LeaseConfig, LeaseElector, while_leading};
use tokio::task::JoinSet;

use crate::{Context, Result};

/// A controller's entry point.
pub type Run = fn(Context) -> BoxFuture<'static, Result<()>>;

/// Every controller, by the name upstream gives it.
pub const CONTROLLERS: &[(&str, Run)] = &[
    ("replicationcontroller", |c| {
        Box::pin(crate::replication::run_replication_controllers(c))
    }),
    ("replicaset", |c| {
        Box::pin(crate::replication::run_replica_sets(c))
    }),
    ("deployment", |c| Box::pin(crate::deployment::run(c))),
    ("job", |c| Box::pin(crate::job::run(c))),
    ("cronjob", |c| Box::pin(crate::cronjob::run(c))),
    ("endpoints", |c| Box::pin(crate::endpoints::run(c))),
    ("endpointslice", |c| Box::pin(crate::endpointslice::run(c))),
    ("namespace", |c| Box::pin(crate::namespace::run(c))),
    ("serviceaccount", |c| {
        Box::pin(crate::serviceaccount::run(c))
    }),
    ("nodelifecycle", |c| Box::pin(crate::nodelifecycle::run(c))),
    ("nodeipam", |c| Box::pin(crate::nodeipam::run(c))),
    ("garbagecollector", |c| Box::pin(crate::gc::run(c))),
    ("resourcequota", |c| Box::pin(crate::resourcequota::run(c))),
    ("clusterrole-aggregation", |c| {
        Box::pin(crate::clusterroleaggregation::run(c))
    }),
    ("root-ca-cert-publisher", |c| {
        Box::pin(crate::rootcacert::run(c))
    }),
    ("csrapproving", |c| {
        Box::pin(crate::certificates::approver::run(c))
    }),
    ("csrsigning", |c| {
        Box::pin(crate::certificates::signer::run(c))
    }),
];

/// The name of the Lease the controller-manager elects with.
pub const LEASE_NAME: &str = "kube-controller-manager";

/// The controller-manager: every controller, restarted with backoff when
/// one fails, run only while this process leads.
pub struct ControllerManager {
    ctx: Context,
}

impl ControllerManager {
    /// A manager for `ctx`.
    pub fn new(ctx: Context) -> ControllerManager {
        ControllerManager { ctx }
    }

    /// Runs every controller now, without election (tests, and the inside
    /// of [`ControllerManager::run_elected`]). Never returns on its own.
    pub async fn run_all(ctx: Context) {
        let mut set = JoinSet::new();
        for (name, run) in CONTROLLERS {
            set.spawn(supervise(name, *run, ctx.clone()));
        }
        while set.join_next().await.is_some() {}
    }

    /// Campaigns for [`LEASE_NAME`] as `identity` and runs the controllers
    /// while leading, until `shutdown` resolves.
    pub async fn run_elected(
        self,
        identity: &str,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<()> {
        let elector = LeaseElector::new(
            self.ctx.client.clone(),
            LeaseConfig::new(LEASE_NAME, identity),
        )
        .map_err(|e| crate::Error::Config(e.to_string()))?;
        let leading = elector.subscribe();
        let ctx = self.ctx.clone();
        let work = tokio::spawn(while_leading(leading, move || Self::run_all(ctx.clone())));
        elector.run(shutdown).await;
        let _ = work.await;
        Ok(())
    }
}

/// Runs one controller, restarting it (1 s, doubling to 30 s) when it fails.
pub async fn supervise(name: &'static str, run: Run, ctx: Context) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match run(ctx.clone()).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(controller = name, error = %e, ?backoff, "controller failed; restarting");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

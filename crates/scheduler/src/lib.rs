//! The scheduler (being written): places pending pods on nodes through
//! the `pods/binding` subresource, only while it holds the
//! `kube-scheduler` Lease.

use std::future::Future;

use ironclad_leader::{LeaseConfig, LeaseElector, while_leading};
use kube::Client;

/// The name of the Lease the scheduler elects with.
pub const LEASE_NAME: &str = "kube-scheduler";

/// Errors of the scheduler.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API request failed.
    #[error("{0}")]
    Api(#[from] kube::Error),
    /// The configuration cannot work.
    #[error("config: {0}")]
    Config(String),
}

/// Settings of the scheduler.
#[derive(Debug, Clone)]
pub struct Config {
    /// Pods with this `spec.schedulerName` are ours.
    pub scheduler_name: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scheduler_name: "default-scheduler".into(),
        }
    }
}

/// The scheduler.
pub struct Scheduler {
    client: Client,
    config: Config,
}

impl Scheduler {
    /// A scheduler using `client`.
    pub fn new(client: Client, config: Config) -> Scheduler {
        Scheduler { client, config }
    }

    /// Schedules until aborted, without election (tests, benchmarks, and
    /// the inside of [`Scheduler::run_elected`]).
    pub async fn run(client: Client, config: Config) {
        let _ = (client, config);
        std::future::pending::<()>().await
    }

    /// Campaigns for [`LEASE_NAME`] as `identity` and schedules while
    /// leading, until `shutdown` resolves.
    pub async fn run_elected(
        self,
        identity: &str,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let elector =
            LeaseElector::new(self.client.clone(), LeaseConfig::new(LEASE_NAME, identity))
                .map_err(|e| Error::Config(e.to_string()))?;
        let leading = elector.subscribe();
        let (client, config) = (self.client, self.config);
        let work = tokio::spawn(while_leading(leading, move || {
            Self::run(client.clone(), config.clone())
        }));
        elector.run(shutdown).await;
        let _ = work.await;
        Ok(())
    }
}

//! The scheduler: places pending pods on nodes through the
//! `pods/binding` subresource, only while it holds the `kube-scheduler`
//! Lease (or unelected, for tests and benchmarks).
//!
//! Where to start reading: [`Scheduler::run`] wires the parts, each one
//! module, as upstream's kube-scheduler is laid out:
//!
//! - `watch`: node and pod watches feeding the cache and the queue;
//! - [`cache`]: nodes and the pods assigned (or assumed) to them;
//! - [`queue`]: active / backoff / unschedulable pods;
//! - [`framework`]: the Filter and Score plugin traits, the registry of
//!   [`plugins`] by upstream's names, the default [`framework::Profile`];
//! - [`scheduler`]: the loop — pop, filter, score, assume, bind;
//! - [`events`]: FailedScheduling / Scheduled events and the
//!   PodScheduled condition.

pub mod cache;
pub mod events;
pub mod framework;
pub mod nodeinfo;
pub mod plugins;
pub mod podinfo;
pub mod queue;
pub mod resources;
pub mod scheduler;
mod watch;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ironclad_leader::{LeaseConfig, LeaseElector, while_leading};
use kube::Client;
use tokio::task::JoinSet;

use crate::cache::Cache;
use crate::framework::{Framework, Profile};
use crate::queue::Queue;
use crate::scheduler::{Decider, Shared};

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
    /// Which plugins run (upstream's default profile by default).
    pub profile: Profile,
    /// Percentage of nodes to find feasible before scoring; 0 = upstream's
    /// adaptive default (50% minus 1% per 125 nodes, at least 5%, at least
    /// 100 nodes).
    pub percentage_of_nodes_to_score: u32,
    /// Bindings (and unschedulable reports) under way at once; the loop
    /// waits for a free slot before deciding the next pod.
    pub max_in_flight_bindings: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scheduler_name: "default-scheduler".into(),
            profile: Profile::default(),
            percentage_of_nodes_to_score: 0,
            max_in_flight_bindings: 64,
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
    /// the inside of [`Scheduler::run_elected`]). Every task it starts
    /// lives in a set this future owns, so aborting it stops them all.
    /// Should a part end (it should not), everything starts over from a
    /// fresh list after a second.
    pub async fn run(client: Client, config: Config) {
        loop {
            match Self::run_once(client.clone(), &config).await {
                Ok(()) => tracing::warn!("scheduler: a part stopped; starting over"),
                Err(e) => tracing::error!("scheduler: {e}"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn run_once(client: Client, config: &Config) -> Result<(), Error> {
        let framework = Framework::new(&config.profile)?;
        let (events, writer) = events::channel(client.clone(), &config.scheduler_name, None);
        let shared = Arc::new(Shared {
            client,
            cache: Mutex::new(Cache::new()),
            queue: Queue::new(),
            events,
        });
        let (nodes_synced, mut nodes_ready) = tokio::sync::watch::channel(false);
        let (pods_synced, mut pods_ready) = tokio::sync::watch::channel(false);
        let mut tasks = JoinSet::new();
        tasks.spawn(writer.run());
        tasks.spawn(watch::nodes(shared.clone(), nodes_synced));
        tasks.spawn(watch::pods(
            shared.clone(),
            config.scheduler_name.clone(),
            pods_synced,
        ));
        let decider = Decider::new(framework, config.percentage_of_nodes_to_score);
        let max_binding = config.max_in_flight_bindings;
        tasks.spawn(async move {
            // Decide nothing on a partial picture of the cluster.
            let _ = nodes_ready.wait_for(|s| *s).await;
            let _ = pods_ready.wait_for(|s| *s).await;
            scheduler::run_loop(shared, decider, max_binding).await;
        });
        if let Some(Err(e)) = tasks.join_next().await {
            tracing::error!("scheduler: a part failed: {e}");
        }
        Ok(())
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

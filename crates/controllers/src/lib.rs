//! The controller-manager's control loops. Each controller is a module
//! with a `run(Context)` future: a reconcile loop over `kube::runtime`
//! watchers and reflector caches, talking to the API server as a client.
//! [`manager::ControllerManager`] runs them all while this process holds
//! the `kube-controller-manager` Lease and aborts them the moment it does
//! not.

pub mod context;
pub mod manager;

pub mod certificates;
pub mod clusterroleaggregation;
pub mod cronjob;
pub mod deployment;
pub mod endpoints;
pub mod endpointslice;
pub mod gc;
pub mod job;
pub mod namespace;
pub mod nodeipam;
pub mod nodelifecycle;
pub mod podcontrol;
pub mod pods;
pub mod replication;
pub mod resourcequota;
pub mod rootcacert;
pub mod serviceaccount;

pub use certificates::CsrSigner;
pub use context::{Config, Context};
pub use manager::{CONTROLLERS, ControllerManager};

/// Errors of a controller.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API request failed.
    #[error("{0}")]
    Api(#[from] kube::Error),
    /// A watch stream failed.
    #[error("watch: {0}")]
    Watch(#[from] kube::runtime::watcher::Error),
    /// An object was not as the controller needs it.
    #[error("{0}")]
    Invalid(String),
    /// The configuration cannot work.
    #[error("config: {0}")]
    Config(String),
}

/// Results of controllers.
pub type Result<T, E = Error> = std::result::Result<T, E>;

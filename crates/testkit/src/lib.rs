//! Test and benchmark support for API clients (controllers, scheduler,
//! the bench harness): a real ironclad API server on a fresh embedded
//! store, served over loopback HTTPS in this process with authentication and
//! authorization on, with a `kube::Client`
//! for it, and helpers that stand in for nodes and kubelets.

mod cluster;
mod kubelet;
mod wait;

pub use cluster::{ISSUER, Options, TestCluster, client_for, client_from};
pub use kubelet::{PodState, fake_node, mark_pod, node_object, pod_ip};
pub use wait::eventually;

/// Errors of the test kit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Setting up the store, the server or the client failed.
    #[error("test cluster: {0}")]
    Setup(String),
    /// An API request failed.
    #[error(transparent)]
    Api(#[from] kube::Error),
}

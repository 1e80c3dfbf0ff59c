//! Leader election through a `coordination.k8s.io/v1` Lease on the API
//! server, the way upstream's controller-manager and scheduler elect.
//!
//! Every candidate runs [`LeaseElector::run`]. The holder renews the Lease
//! every `retry_period`; the others read it as often and take it over once
//! it has not changed for `lease_duration` *by their own clock* (so clock
//! skew between machines does not matter). A holder that has not renewed
//! successfully for `renew_deadline` (shorter than `lease_duration`) stops
//! leading before anyone else may start. A holder that stops cleanly
//! releases the Lease so a standby takes over at its next try.
//!
//! kube-rs has no leader election of its own; this is the small state
//! machine upstream's client-go `leaderelection` package implements.

mod lease;
mod run;

pub use lease::{LeaseConfig, LeaseElector};
pub use run::while_leading;

/// Errors of the elector.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration cannot work.
    #[error("invalid leader election config: {0}")]
    Config(String),
    /// The API server refused or failed a request.
    #[error("lease {0}: {1}")]
    Api(String, #[source] kube::Error),
}

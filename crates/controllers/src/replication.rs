//! The ReplicationController and ReplicaSet controllers (being written).

use crate::{Context, Result};

/// Runs the ReplicationController controller until aborted.
pub async fn run_replication_controllers(_ctx: Context) -> Result<()> {
    std::future::pending().await
}

/// Runs the ReplicaSet controller until aborted.
pub async fn run_replica_sets(_ctx: Context) -> Result<()> {
    std::future::pending().await
}

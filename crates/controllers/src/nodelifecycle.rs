//! The nodelifecycle controller (being written).

use crate::{Context, Result};

/// Runs the controller until aborted.
pub async fn run(_ctx: Context) -> Result<()> {
    std::future::pending().await
}

//! The objects every cluster has, created at start if missing: the system
//! namespaces and the `kubernetes` Service in `default` (its endpoints are
//! the live API servers: `peers`).

use std::sync::Arc;

use ironclad_api::registry::lookup;
use serde_json::{Value, json};

use crate::error::{ApiError, Result};
use crate::handlers::{WriteOpts, create_object};
use crate::server::AppState;

/// Namespaces that always exist.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

const MANAGER: &str = "ironclad-apiserver";

async fn ensure(
    state: &Arc<AppState>,
    plural: &str,
    group: &str,
    ns: Option<&str>,
    obj: Value,
) -> Result<()> {
    let info = lookup(group, "v1", plural)
        .ok_or_else(|| ApiError::internal(format!("{plural} not registered")))?;
    match create_object(
        state,
        info,
        ns,
        obj,
        &WriteOpts::system(MANAGER),
        Vec::new(),
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates what is missing.
pub async fn run(state: &Arc<AppState>) -> Result<()> {
    for ns in SYSTEM_NAMESPACES {
        ensure(
            state,
            "namespaces",
            "",
            None,
            json!({"metadata": {"name": ns}}),
        )
        .await?;
    }
    let ip = state.services.kubernetes_ip().to_string();
    let port = state.config.port;
    ensure(
        state,
        "services",
        "",
        Some("default"),
        json!({
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": ip, "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}], "sessionAffinity": "None", "type": "ClusterIP"},
        }),
    )
    .await?;
    Ok(())
}

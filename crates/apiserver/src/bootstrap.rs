//! The objects every cluster has, created at start if missing: the system
//! namespaces and the `kubernetes` Service in `default` with this server's
//! address among its endpoints.

use std::sync::Arc;

use ironclad_api::registry::lookup;
use serde_json::{Value, json};

use crate::error::{ApiError, Result};
use crate::handlers::{WriteOpts, create_object};
use crate::request::Target;
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
    let address = state.config.advertise_address.to_string();
    let endpoints = json!({
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": address}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    });
    ensure(state, "endpoints", "", Some("default"), endpoints).await?;
    add_own_address(state, &address, port).await
}

/// With several servers, each adds its own address to the `kubernetes`
/// endpoints (addresses of servers that went away are not removed yet).
async fn add_own_address(state: &Arc<AppState>, address: &str, port: u16) -> Result<()> {
    let info = lookup("", "v1", "endpoints")
        .ok_or_else(|| ApiError::internal("endpoints not registered"))?;
    let t = Target {
        info,
        namespace: Some("default".into()),
        name: Some("kubernetes".into()),
        subresource: None,
    };
    crate::handlers::update_object(state, &t, &WriteOpts::system(MANAGER), |old| {
        let mut new = old.clone();
        let addrs = new.pointer_mut("/subsets/0/addresses").and_then(Value::as_array_mut);
        match addrs {
            Some(a) => {
                if !a.iter().any(|x| x["ip"] == address) {
                    a.push(json!({"ip": address}));
                }
            }
            None => {
                new["subsets"] = json!([{"addresses": [{"ip": address}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]);
            }
        }
        Ok(new)
    })
    .await
    .map(|_| ())
}

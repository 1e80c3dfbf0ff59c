//! The objects every cluster has, created at start if missing: the system
//! namespaces, the `kubernetes` Service in `default` (its endpoints are
//! the live API servers: `peers`) and a local APIService for every built-in
//! group/version, as upstream's aggregator registers them.

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

pub(crate) async fn ensure(
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
    for (group, versions) in ironclad_api::registry::groups() {
        for version in versions {
            let name = format!("{version}.{group}");
            let (group_priority, version_priority) = priority(&name);
            ensure(
                state,
                "apiservices",
                "apiregistration.k8s.io",
                None,
                json!({
                    "metadata": {"name": name, "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"}},
                    "spec": {"group": group, "version": version, "groupPriorityMinimum": group_priority, "versionPriority": version_priority},
                }),
            )
            .await?;
        }
    }
    if state.auth.is_some() {
        rbac(state).await?;
    }
    Ok(())
}

/// The default roles and bindings (upstream's bootstrap policy), created
/// when missing. Existing ones are left as they are: an administrator's
/// change to a default role survives restarts.
async fn rbac(state: &Arc<AppState>) -> Result<()> {
    use ironclad_auth::authz::bootstrap_policy as policy;
    const GROUP: &str = "rbac.authorization.k8s.io";
    let to_value = |v: serde_json::Result<Value>| {
        v.map_err(|e| ApiError::internal(format!("bootstrap policy: {e}")))
    };
    for r in policy::cluster_roles() {
        ensure(
            state,
            "clusterroles",
            GROUP,
            None,
            to_value(serde_json::to_value(r))?,
        )
        .await?;
    }
    for b in policy::cluster_role_bindings() {
        let v = to_value(serde_json::to_value(b))?;
        ensure(state, "clusterrolebindings", GROUP, None, v).await?;
    }
    for r in policy::roles() {
        let ns = r.metadata.namespace.clone().unwrap_or_default();
        let v = to_value(serde_json::to_value(r))?;
        ensure(state, "roles", GROUP, Some(&ns), v).await?;
    }
    for b in policy::role_bindings() {
        let ns = b.metadata.namespace.clone().unwrap_or_default();
        let v = to_value(serde_json::to_value(b))?;
        ensure(state, "rolebindings", GROUP, Some(&ns), v).await?;
    }
    Ok(())
}

/// Upstream's priorities of the built-in group/versions (the aggregator's
/// table); groups it does not list come after them.
fn priority(name: &str) -> (i32, i32) {
    match name {
        "v1." => (18000, 1),
        "v1.apiregistration.k8s.io" => (18000, 1),
        "v1.apps" => (17800, 15),
        "v1.events.k8s.io" => (17750, 15),
        "v1.authentication.k8s.io" => (17700, 15),
        "v1.authorization.k8s.io" => (17600, 15),
        "v1.autoscaling" | "v2.autoscaling" => (17500, 15),
        "v1.batch" => (17400, 15),
        "v1.certificates.k8s.io" => (17300, 15),
        "v1.networking.k8s.io" => (17200, 15),
        "v1.policy" => (17100, 15),
        "v1.rbac.authorization.k8s.io" => (17000, 15),
        "v1.storage.k8s.io" => (16800, 15),
        "v1.admissionregistration.k8s.io" | "v1.apiextensions.k8s.io" => (16700, 15),
        "v1.scheduling.k8s.io" => (16600, 15),
        "v1.coordination.k8s.io" => (16500, 15),
        "v1.node.k8s.io" => (16300, 15),
        "v1.discovery.k8s.io" => (16200, 15),
        _ => (16000, 15),
    }
}

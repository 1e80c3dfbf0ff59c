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
    ensure_missing(state, "clusterroles", policy::cluster_roles()).await?;
    ensure_missing(
        state,
        "clusterrolebindings",
        policy::cluster_role_bindings(),
    )
    .await?;
    ensure_missing(state, "roles", policy::roles()).await?;
    ensure_missing(state, "rolebindings", policy::role_bindings()).await
}

/// Creates those of `objects` (RBAC `plural`) whose keys are not in the
/// store yet: one keys-only read, so a restart does not push every default
/// object through the write pipeline only to be told it exists.
async fn ensure_missing<T>(state: &Arc<AppState>, plural: &str, objects: Vec<T>) -> Result<()>
where
    T: serde::Serialize
        + k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
{
    const GROUP: &str = "rbac.authorization.k8s.io";
    let info = lookup(GROUP, "v1", plural)
        .ok_or_else(|| ApiError::internal(format!("{plural} not registered")))?;
    let prefix = crate::objects::prefix(info, None);
    let present: std::collections::HashSet<bytes::Bytes> = state
        .store
        .range(
            ironclad_store::RangeRequest::new(ironclad_store::KeyRange::prefix(
                prefix.into_bytes(),
            ))
            .keys_only(),
        )
        .await?
        .kvs
        .into_iter()
        .map(|kv| kv.key)
        .collect();
    for object in objects {
        let meta = object.metadata();
        let ns = meta.namespace.clone();
        let key = crate::objects::key(
            info,
            ns.as_deref(),
            meta.name.as_deref().unwrap_or_default(),
        );
        if present.contains(key.as_bytes()) {
            continue;
        }
        let value = serde_json::to_value(object)
            .map_err(|e| ApiError::internal(format!("bootstrap policy: {e}")))?;
        ensure(state, plural, GROUP, ns.as_deref(), value).await?;
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

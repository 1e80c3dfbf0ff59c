//! The admission chain, run by the write pipeline on requests from
//! clients (the server's own writes skip it): ServiceAccount and
//! LimitRanger mutate a new object before validation, NodeRestriction
//! checks what a kubelet writes and deletes, and ResourceQuota charges a
//! create to the namespace's quotas *in the same store transaction* as the
//! object, so concurrent creates can never take a quota over its limit.
//! NamespaceLifecycle is `write::check_namespace_open` and the immortal
//! namespace check in `delete`. The plugins themselves are pure functions
//! in `ironclad_admission`; this module fetches what they need.

use std::sync::Arc;

use ironclad_admission::noderestriction::{self, NodeLookups};
use ironclad_admission::{AdmissionError, Operation, Request};
use ironclad_api::ResourceInfo;
use ironclad_auth::UserInfo;
use ironclad_store::{Compare, CompareOp, KeyRange, Op, RangeRequest};
use k8s_openapi::api::core::v1::{LimitRange, ResourceQuota, ServiceAccount};
use serde_json::Value;

use crate::error::{ApiError, Result};
use crate::objects::{self, meta_str};
use crate::server::AppState;

/// An admission refusal as the API answers it.
pub(crate) fn refusal(e: AdmissionError) -> ApiError {
    let status = e.to_status();
    let mut err = ApiError::new(e.code, e.reason, e.message);
    if let Some(d) = status.get("details") {
        err = err.with_details(d.clone());
    }
    err
}

/// The plugins' view of a request.
pub(crate) fn request(
    op: Operation,
    info: &ResourceInfo,
    subresource: Option<&str>,
    namespace: Option<&str>,
    name: &str,
    user: &UserInfo,
    dry_run: bool,
) -> Request {
    Request {
        operation: op,
        group: info.group.to_string(),
        version: info.version.to_string(),
        resource: info.plural.to_string(),
        subresource: subresource.unwrap_or_default().to_string(),
        namespace: namespace
            .filter(|_| info.namespaced)
            .unwrap_or_default()
            .to_string(),
        name: name.to_string(),
        user: user.clone(),
        dry_run,
    }
}

fn core(plural: &str) -> Result<&'static ResourceInfo> {
    ironclad_api::registry::lookup("", "v1", plural)
        .ok_or_else(|| ApiError::internal(format!("{plural} are not registered")))
}

/// Every object of a core resource in a namespace, typed.
async fn list_typed<T: serde::de::DeserializeOwned>(
    state: &AppState,
    plural: &str,
    ns: &str,
) -> Result<Vec<T>> {
    let prefix = objects::prefix(core(plural)?, Some(ns));
    let resp = state
        .store
        .range(RangeRequest::new(KeyRange::prefix(prefix.into_bytes())))
        .await?;
    Ok(resp
        .kvs
        .iter()
        .filter_map(|kv| objects::decode(kv).ok())
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

/// Five characters from upstream's alphabet for generated names.
fn random_suffix() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Mutating and validating admission of a new object (before the
/// object's own validation, as upstream orders them).
pub(crate) async fn admit_create(
    state: &Arc<AppState>,
    req: &Request,
    obj: &mut Value,
) -> Result<()> {
    if !state.config.admission {
        return Ok(());
    }
    let ns = req.namespace.clone();
    if req.is("", "pods") && req.subresource.is_empty() {
        let sa = match ironclad_admission::serviceaccount::account_to_look_up(req, obj) {
            Some(name) => {
                objects::read_core(state.store.as_ref(), "serviceaccounts", Some(&ns), &name)
                    .await?
                    .and_then(|v| serde_json::from_value::<ServiceAccount>(v).ok())
            }
            None => None,
        };
        // The ServiceAccount controller creates `default` a moment after
        // its namespace; upstream retries the lookup for that moment. A
        // pod created in it gets its token volume all the same.
        ironclad_admission::serviceaccount::admit_pod(
            obj,
            req,
            sa.as_ref(),
            &random_suffix(),
            true,
        )
        .map_err(refusal)?;
    }
    if (req.is("", "pods") || req.is("", "persistentvolumeclaims")) && !ns.is_empty() {
        let ranges: Vec<LimitRange> = list_typed(state, "limitranges", &ns).await?;
        if !ranges.is_empty() {
            ironclad_admission::limitranger::admit(req, obj, None, &ranges).map_err(refusal)?;
        }
    }
    rbac_escalation(state, req, obj).await?;
    node_restriction(state, req, Some(obj), None).await
}

/// NodeRestriction on any write or delete by a kubelet.
pub(crate) async fn node_restriction(
    state: &Arc<AppState>,
    req: &Request,
    new: Option<&Value>,
    old: Option<&Value>,
) -> Result<()> {
    if !state.config.admission {
        return Ok(());
    }
    let Some(node) = req.user.node_name() else {
        return Ok(());
    };
    let node_obj = objects::read_core(state.store.as_ref(), "nodes", None, node).await?;
    let pod = if req.is("", "pods") && !req.name.is_empty() {
        objects::read_core(
            state.store.as_ref(),
            "pods",
            Some(&req.namespace),
            &req.name,
        )
        .await?
    } else {
        None
    };
    let lookups = NodeLookups {
        node: node_obj.as_ref(),
        pod: pod.as_ref(),
        csi_audiences: &[],
        audience_authorized: false,
    };
    noderestriction::admit(req, new, old, &lookups).map_err(refusal)
}

/// The quota writes that must commit with a create: for each quota in
/// the namespace whose usage the object changes, a guard on the quota's
/// revision and the quota with its new `status.used`. Refuses a create
/// that would go over a quota.
pub(crate) async fn quota_charge(
    state: &Arc<AppState>,
    req: &Request,
    obj: &Value,
) -> Result<(Vec<Compare>, Vec<Op>)> {
    if !state.config.admission {
        return Ok((Vec::new(), Vec::new()));
    }
    if req.namespace.is_empty() || req.is("", "resourcequotas") {
        return Ok((Vec::new(), Vec::new()));
    }
    let info = core("resourcequotas")?;
    let prefix = objects::prefix(info, Some(&req.namespace));
    let resp = state
        .store
        .range(RangeRequest::new(KeyRange::prefix(prefix.into_bytes())))
        .await?;
    if resp.kvs.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut stored = Vec::new();
    let mut quotas = Vec::new();
    for kv in &resp.kvs {
        let v = objects::decode(kv)?;
        if let Ok(q) = serde_json::from_value::<ResourceQuota>(v.clone()) {
            stored.push((kv.key.clone(), kv.mod_revision, v));
            quotas.push(q);
        }
    }
    let updates = ironclad_admission::quota::check(&quotas, req, obj, None).map_err(refusal)?;
    let mut compares = Vec::new();
    let mut ops = Vec::new();
    for (i, used) in updates {
        let Some((key, rev, v)) = stored.get(i) else {
            continue;
        };
        let mut q = v.clone();
        q["status"]["used"] = serde_json::to_value(used)
            .map_err(|e| ApiError::internal(format!("quota usage: {e}")))?;
        compares.push(Compare::mod_revision(key.clone(), CompareOp::Equal, *rev));
        ops.push(Op::put(key.clone(), objects::encode(&q)?));
    }
    Ok((compares, ops))
}

/// RBAC's escalation check on a write of a Role, ClusterRole or binding:
/// nobody may grant permissions they do not hold, unless they may
/// `escalate` (roles) or `bind` (bindings) — upstream's rule, enforced by
/// its RBAC storage. Only with the RBAC authorizer on.
pub(crate) async fn rbac_escalation(
    state: &Arc<AppState>,
    req: &Request,
    obj: &Value,
) -> Result<()> {
    if !state.config.admission {
        return Ok(());
    }
    use ironclad_auth::{Attributes, Decision};
    use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role};
    if req.group != "rbac.authorization.k8s.io" || req.user.in_group(ironclad_auth::user::MASTERS) {
        return Ok(());
    }
    let Some(auth) = &state.auth else {
        return Ok(());
    };
    let Some(index) = auth.authz.rbac_index() else {
        return Ok(());
    };
    let allowed = |verb: &str, resource: &str, name: &str| {
        let mut a = Attributes::resource(
            req.user.clone(),
            verb,
            "rbac.authorization.k8s.io",
            resource,
            &req.namespace,
            name,
        );
        a.api_version = "v1".into();
        matches!(auth.authz.authorize(&a), Decision::Allow(_))
    };
    let name = meta_str(obj, "name").unwrap_or_default().to_string();
    let rules: Vec<PolicyRule> = match req.resource.as_str() {
        "roles" | "clusterroles" => {
            if allowed("escalate", &req.resource, &name) {
                return Ok(());
            }
            serde_json::from_value(obj.get("rules").cloned().unwrap_or(Value::Null))
                .unwrap_or_default()
        }
        "rolebindings" | "clusterrolebindings" => {
            let kind = obj
                .pointer("/roleRef/kind")
                .and_then(Value::as_str)
                .unwrap_or("");
            let role = obj
                .pointer("/roleRef/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let plural = if kind == "Role" {
                "roles"
            } else {
                "clusterroles"
            };
            if allowed("bind", plural, role) {
                return Ok(());
            }
            let info = ironclad_api::registry::lookup("rbac.authorization.k8s.io", "v1", plural)
                .ok_or_else(|| ApiError::internal(format!("{plural} are not registered")))?;
            let ns = (kind == "Role").then_some(req.namespace.as_str());
            let key = objects::key(info, ns, role);
            let stored = match state.store.get(key.as_bytes()).await? {
                Some(kv) => objects::decode(&kv)?,
                // Upstream refuses a binding to a role it cannot resolve
                // unless the user may bind it.
                None => Value::Null,
            };
            let rules = if kind == "Role" {
                serde_json::from_value::<Role>(stored)
                    .ok()
                    .and_then(|r| r.rules)
            } else {
                serde_json::from_value::<ClusterRole>(stored)
                    .ok()
                    .and_then(|r| r.rules)
            };
            match rules {
                Some(r) => r,
                None => {
                    return Err(ApiError::forbidden(format!(
                        "{}.rbac.authorization.k8s.io \"{name}\" is forbidden: user \"{}\" may not bind {} \"{role}\": it does not exist or cannot be read",
                        req.resource, req.user.name, plural
                    )));
                }
            }
        }
        _ => return Ok(()),
    };
    index
        .confirm_no_escalation(&req.user, &req.namespace, &rules)
        .map_err(|why| {
            ApiError::forbidden(format!(
                "{}.rbac.authorization.k8s.io \"{name}\" is forbidden: {why}",
                req.resource
            ))
            .with_details(serde_json::json!({"name": name, "group": "rbac.authorization.k8s.io", "kind": req.resource}))
        })
}

/// The name admission sees for a new object.
pub(crate) fn new_name(obj: &Value) -> String {
    meta_str(obj, "name").unwrap_or_default().to_string()
}

//! `serviceaccounts/<name>/token` (TokenRequest): a JWT for a service
//! account, signed with the cluster's service-account key, bound to the
//! account (and optionally to a pod, secret or node) and to an expiry.

use std::time::SystemTime;

use axum::response::Response;
use http::StatusCode;
use ironclad_auth::authn::serviceaccount::{BoundKind, BoundObject, TokenSpec};
use serde_json::{Value, json};

use super::write::decode_body;
use super::{Ctx, respond};
use crate::error::{ApiError, Result};
use crate::objects::read_core;
use crate::request::Target;

/// Default lifetime of a requested token (upstream: one hour).
const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// Shortest lifetime a client may ask for (upstream: ten minutes).
const MIN_EXPIRATION_SECONDS: i64 = 600;
/// Longest lifetime this server issues; longer requests are cut to it.
const MAX_EXPIRATION_SECONDS: i64 = 48 * 3600;

fn invalid(field: &str, value: &Value, why: &str) -> ApiError {
    ApiError::invalid(
        "TokenRequest",
        "authentication.k8s.io",
        "",
        vec![(
            "FieldValueInvalid".into(),
            field.into(),
            format!("Invalid value: {value}: {why}"),
        )],
    )
}

/// Issues a token.
pub(crate) async fn create(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    let Some(signer) = ctx.state.auth.as_ref().and_then(|a| a.signer.as_ref()) else {
        return Err(ApiError::unavailable(
            "this server has no service-account signing key",
        ));
    };
    let ns = t.namespace.as_deref().unwrap_or_default();
    let name = t.name();
    let mut req = decode_body(ctx)?;
    if !req.is_object() {
        return Err(ApiError::bad_request(
            "the request body is not a JSON object",
        ));
    }
    let admission_req = crate::admission::request(
        ironclad_admission::Operation::Create,
        t.info,
        Some("token"),
        Some(ns),
        name,
        ctx.user,
        false,
    );
    crate::admission::node_restriction(ctx.state, &admission_req, Some(&req), None).await?;
    let store = ctx.state.store.as_ref();
    let Some(sa) = read_core(store, "serviceaccounts", Some(ns), name).await? else {
        return Err(ApiError::not_found(t.err()));
    };
    let sa_uid = sa
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let spec = req.get("spec").cloned().unwrap_or_else(|| json!({}));
    let requested = match spec.get("expirationSeconds") {
        None | Some(Value::Null) => DEFAULT_EXPIRATION_SECONDS,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| invalid("spec.expirationSeconds", v, "must be an integer"))?,
    };
    if requested < MIN_EXPIRATION_SECONDS {
        return Err(invalid(
            "spec.expirationSeconds",
            &json!(requested),
            "may not specify a duration less than 10 minutes",
        ));
    }
    if requested > i64::from(u32::MAX) {
        return Err(invalid(
            "spec.expirationSeconds",
            &json!(requested),
            "may not specify a duration larger than 2^32 seconds",
        ));
    }
    let expiration = requested.min(MAX_EXPIRATION_SECONDS);
    let audiences: Vec<String> = match spec.get("audiences").and_then(Value::as_array) {
        Some(a) if !a.is_empty() => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => signer_audiences(ctx),
    };
    let (bound, node) = match spec.get("boundObjectRef").filter(|v| v.is_object()) {
        Some(r) => bound_object(ctx, ns, name, r).await?,
        None => (None, None),
    };
    let token_spec = TokenSpec {
        namespace: ns.to_string(),
        service_account_name: name.to_string(),
        service_account_uid: sa_uid,
        audiences: audiences.clone(),
        expiration_seconds: expiration,
        bound,
        node,
    };
    let (token, expires) = signer
        .sign(&token_spec, SystemTime::now())
        .map_err(|e| ApiError::internal(format!("sign the token: {e}")))?;
    let expires: chrono::DateTime<chrono::Utc> = expires.into();
    req["kind"] = json!("TokenRequest");
    req["apiVersion"] = json!("authentication.k8s.io/v1");
    req["metadata"] = json!({
        "name": name,
        "namespace": ns,
        "creationTimestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    });
    req["spec"]["audiences"] = json!(audiences);
    req["spec"]["expirationSeconds"] = json!(expiration);
    req["status"] = json!({
        "token": token,
        "expirationTimestamp": expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    });
    Ok(respond(StatusCode::CREATED, &req, &[]))
}

fn signer_audiences(ctx: &Ctx<'_>) -> Vec<String> {
    ctx.state
        .config
        .auth
        .as_ref()
        .and_then(|a| a.service_account.as_ref())
        .map(|k| vec![k.issuer.clone()])
        .unwrap_or_default()
}

/// Checks the object a token is bound to: it must exist with the given
/// uid, and a pod must run as the account. Returns the binding and, for a
/// pod on a node, the node.
async fn bound_object(
    ctx: &Ctx<'_>,
    ns: &str,
    sa: &str,
    r: &Value,
) -> Result<(Option<BoundObject>, Option<(String, String)>)> {
    let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (kind, name, uid) = (s("kind"), s("name"), s("uid"));
    let (bound_kind, plural, namespace) = match kind.as_str() {
        "Pod" => (BoundKind::Pod, "pods", ns),
        "Secret" => (BoundKind::Secret, "secrets", ns),
        "Node" => (BoundKind::Node, "nodes", ""),
        other => {
            return Err(invalid(
                "spec.boundObjectRef.kind",
                &json!(other),
                "supported values: \"Pod\", \"Secret\", \"Node\"",
            ));
        }
    };
    if name.is_empty() {
        return Err(invalid(
            "spec.boundObjectRef.name",
            &json!(name),
            "name is required",
        ));
    }
    let obj = read_core(ctx.state.store.as_ref(), plural, Some(namespace), &name).await?;
    let Some(obj) = obj else {
        return Err(ApiError::not_found(crate::error::Target {
            group: "",
            resource: plural,
            name: &name,
        }));
    };
    let actual_uid = obj
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !uid.is_empty() && uid != actual_uid {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated"
            ),
        ));
    }
    let mut node = None;
    if bound_kind == BoundKind::Pod {
        let pod_sa = obj
            .pointer("/spec/serviceAccountName")
            .and_then(Value::as_str)
            .unwrap_or("default");
        if pod_sa != sa {
            return Err(ApiError::bad_request(format!(
                "cannot bind token for serviceaccount {sa:?} to pod running with different serviceaccount name."
            )));
        }
        if let Some(n) = obj.pointer("/spec/nodeName").and_then(Value::as_str)
            && !n.is_empty()
            && let Some(node_obj) = read_core(ctx.state.store.as_ref(), "nodes", None, n).await?
        {
            let node_uid = node_obj
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            node = Some((n.to_string(), node_uid));
        }
    }
    Ok((
        Some(BoundObject {
            kind: bound_kind,
            name,
            uid: actual_uid,
        }),
        node,
    ))
}

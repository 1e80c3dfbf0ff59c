//! DELETE and DELETECOLLECTION: preconditions, graceful deletion of pods
//! bound to a node, finalizers (the object stays, marked with a
//! deletionTimestamp, until they are gone), namespaces that terminate.

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use ironclad_store::{Compare, CompareOp, Op, Txn};
use serde::Deserialize;
use serde_json::{Value, json};

use super::read::Filter;
use super::{Ctx, respond};
use crate::error::{ApiError, Result};
use crate::machinery;
use crate::objects::{self, meta_mut, meta_str};
use crate::request::Target;
use crate::server::AppState;

/// DeleteOptions from the body or the query.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteOptions {
    /// Seconds before a graceful deletion completes.
    pub grace_period_seconds: Option<i64>,
    /// Background, Foreground or Orphan.
    pub propagation_policy: Option<String>,
    /// Must match for the delete to happen.
    pub preconditions: Option<Preconditions>,
    /// `["All"]` for a dry run.
    #[serde(default)]
    pub dry_run: Vec<String>,
}

/// Delete preconditions.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Preconditions {
    /// Expected uid.
    pub uid: Option<String>,
    /// Expected resourceVersion.
    pub resource_version: Option<String>,
}

impl DeleteOptions {
    fn from_request(ctx: &Ctx<'_>) -> Result<DeleteOptions> {
        let mut opts: DeleteOptions = if ctx.body.is_empty() {
            DeleteOptions::default()
        } else {
            let format = ironclad_wire::format_of(
                ctx.headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok()),
            )
            .unwrap_or(ironclad_wire::BodyFormat::Json);
            let v = ironclad_wire::decode(format, &ctx.body)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            serde_json::from_value(v)
                .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
        };
        if opts.grace_period_seconds.is_none() {
            opts.grace_period_seconds = ctx.params.grace_period_seconds;
        }
        if opts.propagation_policy.is_none() {
            opts.propagation_policy = ctx.params.propagation_policy.clone();
        }
        if ctx.params.dry_run()? {
            opts.dry_run = vec!["All".into()];
        }
        if let Some(p) = opts.propagation_policy.as_deref()
            && !matches!(p, "Background" | "Foreground" | "Orphan")
        {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: {p:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
            )));
        }
        Ok(opts)
    }

    fn dry_run(&self) -> bool {
        self.dry_run.iter().any(|d| d == "All")
    }
}

/// The grace period a pod gets: the request's, else the pod's own, else 30.
fn pod_grace(obj: &Value, opts: &DeleteOptions) -> i64 {
    opts.grace_period_seconds
        .or_else(|| {
            obj.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30)
        .max(0)
}

/// Whether deleting this pod must wait for its node to stop it.
fn graceful_pod(obj: &Value, grace: i64) -> bool {
    let bound = obj
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let phase = obj
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    bound && grace > 0 && !matches!(phase, "Succeeded" | "Failed")
}

/// What a delete did.
pub(crate) enum Deleted {
    /// Gone; this was its last state.
    Gone(Value),
    /// Still there, marked for deletion (finalizers, grace period, namespace).
    Pending(Value),
}

/// Deletes (or starts deleting) one object.
pub(crate) async fn delete_object(
    state: &Arc<AppState>,
    t: &Target,
    opts: &DeleteOptions,
) -> Result<Deleted> {
    let key = objects::key(t.info, t.namespace.as_deref(), t.name());
    for _ in 0..16 {
        let resp = state
            .store
            .range(ironclad_store::RangeRequest::new(
                ironclad_store::KeyRange::key(key.clone().into_bytes()),
            ))
            .await?;
        let Some(kv) = resp.kvs.first() else {
            return Err(ApiError::not_found(t.err()));
        };
        let rev = kv.mod_revision;
        let obj = objects::decode(kv)?;
        if let Some(pre) = &opts.preconditions {
            if let Some(uid) = &pre.uid
                && meta_str(&obj, "uid") != Some(uid.as_str())
            {
                return Err(ApiError::conflict(
                    t.err(),
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        meta_str(&obj, "uid").unwrap_or("")
                    ),
                ));
            }
            if let Some(rv) = &pre.resource_version
                && *rv != rev.to_string()
            {
                return Err(ApiError::conflict(
                    t.err(),
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {rev}"
                    ),
                ));
            }
        }
        let finalizers = obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        let already = obj.pointer("/metadata/deletionTimestamp").is_some();
        let mut pending = None;
        if t.info.kind == "Namespace" {
            let mut ns = obj.clone();
            if !already {
                mark_deleting(&mut ns, 0);
            }
            ns["status"]["phase"] = json!("Terminating");
            pending = Some(ns);
        } else if t.info.kind == "Pod" && !already {
            let grace = pod_grace(&obj, opts);
            if graceful_pod(&obj, grace) {
                let mut p = obj.clone();
                mark_deleting(&mut p, grace);
                pending = Some(p);
            }
        }
        if pending.is_none() && finalizers {
            if already {
                return Ok(Deleted::Pending(obj));
            }
            let mut p = obj.clone();
            mark_deleting(&mut p, 0);
            pending = Some(p);
        }
        let guard = Compare::mod_revision(key.clone().into_bytes(), CompareOp::Equal, rev);
        if let Some(mut p) = pending {
            if machinery::same_object(&obj, &p) {
                return Ok(Deleted::Pending(obj));
            }
            if opts.dry_run() {
                return Ok(Deleted::Pending(p));
            }
            let txn = Txn::new()
                .when([guard])
                .and_then([Op::put(key.clone().into_bytes(), objects::encode(&p)?)]);
            let r = state.store.txn(txn).await?;
            if !r.succeeded {
                continue;
            }
            objects::set_resource_version(&mut p, r.revision);
            if t.info.kind == "Namespace" {
                state.namespace_terminating();
            }
            return Ok(Deleted::Pending(p));
        }
        if opts.dry_run() {
            return Ok(Deleted::Gone(obj));
        }
        let extra = if t.info.kind == "Service" {
            state.services.release(&obj)
        } else {
            Default::default()
        };
        let txn = Txn::new()
            .when(std::iter::once(guard).chain(extra.compares))
            .and_then(std::iter::once(Op::delete(key.clone().into_bytes())).chain(extra.ops));
        let r = state.store.txn(txn).await?;
        if r.succeeded {
            let mut gone = obj;
            objects::set_resource_version(&mut gone, r.revision);
            return Ok(Deleted::Gone(gone));
        }
    }
    Err(ApiError::conflict(
        t.err(),
        "the object kept changing during deletion; try again",
    ))
}

fn mark_deleting(obj: &mut Value, grace: i64) {
    let at = chrono::Utc::now() + chrono::Duration::seconds(grace);
    if let Some(m) = meta_mut(obj) {
        m.insert(
            "deletionTimestamp".into(),
            json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
        m.insert("deletionGracePeriodSeconds".into(), json!(grace));
    }
}

/// The response of a delete: the object for kinds upstream returns it for
/// (and while deletion is pending), a Success Status otherwise.
fn deleted_body(t: &Target, d: Deleted) -> (StatusCode, Value) {
    match d {
        Deleted::Pending(obj) => (StatusCode::OK, obj),
        Deleted::Gone(obj) if matches!(t.info.kind, "Pod" | "Service" | "Namespace") => {
            (StatusCode::OK, obj)
        }
        Deleted::Gone(obj) => (
            StatusCode::OK,
            json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": meta_str(&obj, "name").unwrap_or(""), "group": t.info.group, "kind": t.info.plural, "uid": meta_str(&obj, "uid").unwrap_or("")},
            }),
        ),
    }
}

/// DELETE of one object.
pub(crate) async fn delete(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    let opts = DeleteOptions::from_request(ctx)?;
    let d = delete_object(ctx.state, t, &opts).await?;
    let (code, body) = deleted_body(t, d);
    Ok(respond(code, &body, &[]))
}

/// DELETE of a collection: every object the selectors match.
pub(crate) async fn delete_collection(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    let opts = DeleteOptions::from_request(ctx)?;
    let filter = Filter::from_request(ctx, t)?;
    let prefix = objects::prefix(t.info, t.namespace.as_deref());
    let resp = ctx
        .state
        .store
        .range(ironclad_store::RangeRequest::new(
            ironclad_store::KeyRange::prefix(prefix.into_bytes()),
        ))
        .await?;
    let mut items = Vec::new();
    for kv in &resp.kvs {
        let obj = objects::decode(kv)?;
        if !filter.matches(t.info, &obj) {
            continue;
        }
        let one = Target {
            info: t.info,
            namespace: meta_str(&obj, "namespace").map(str::to_string),
            name: meta_str(&obj, "name").map(str::to_string),
            subresource: None,
        };
        match delete_object(ctx.state, &one, &opts).await {
            Ok(Deleted::Gone(o) | Deleted::Pending(o)) => items.push(o),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let body = json!({
        "kind": t.info.list_kind(),
        "apiVersion": t.info.api_version(),
        "metadata": {"resourceVersion": resp.revision.to_string()},
        "items": items,
    });
    Ok(respond(StatusCode::OK, &body, &[]))
}

//! DELETE and DELETECOLLECTION: preconditions, graceful deletion of pods
//! bound to a node (`graceful`), the garbage collector's finalizers for
//! cascading deletion (`propagation`), finalizers (the object stays, marked
//! with a deletionTimestamp, until they are gone), namespaces that
//! terminate (marked; the namespace controller empties them and removes
//! its `kubernetes` spec finalizer, then the namespace goes).

mod graceful;
mod propagation;

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use ironclad_api::conversion;
use ironclad_store::{Compare, CompareOp, Op, Txn};
use serde::Deserialize;
use serde_json::{Value, json};

use super::read::Filter;
use super::{Ctx, respond};
use crate::error::{ApiError, Result};
use crate::machinery;
use crate::objects::{self, meta_str};
use crate::request::Target;
use crate::server::AppState;
use graceful::{Grace, before_delete, mark_as_deleting};
use propagation::{finalizers, set_finalizers};

/// Namespaces that always exist (upstream's NamespaceLifecycle admission
/// refuses to delete them).
const IMMORTAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

/// DeleteOptions from the body or the query.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteOptions {
    /// Seconds before a graceful deletion completes.
    pub grace_period_seconds: Option<i64>,
    /// Background, Foreground or Orphan.
    pub propagation_policy: Option<String>,
    /// Deprecated: true orphans the dependents, false deletes them.
    pub orphan_dependents: Option<bool>,
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
        if opts.orphan_dependents.is_none() {
            opts.orphan_dependents = match ctx.params.orphan_dependents.as_deref() {
                None | Some("") => None,
                Some("true" | "True" | "1") => Some(true),
                Some("false" | "False" | "0") => Some(false),
                Some(other) => {
                    return Err(ApiError::bad_request(format!(
                        "invalid value for orphanDependents: {other:?}"
                    )));
                }
            };
        }
        if ctx.params.dry_run()? {
            opts.dry_run = vec!["All".into()];
        }
        opts.validate()?;
        Ok(opts)
    }

    /// Upstream's `ValidateDeleteOptions` (422 on DeleteOptions).
    fn validate(&self) -> Result<()> {
        let mut causes = Vec::new();
        if let Some(p) = self.propagation_policy.as_deref() {
            if self.orphan_dependents.is_some() {
                causes.push(json!({"reason": "FieldValueInvalid", "field": "propagationPolicy",
                    "message": format!("Invalid value: {p:?}: orphanDependents and deletionPropagation cannot be both set")}));
            }
            if !matches!(p, "Background" | "Foreground" | "Orphan") {
                causes.push(json!({"reason": "FieldValueNotSupported", "field": "propagationPolicy",
                    "message": format!("Unsupported value: {p:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"")}));
            }
        }
        if causes.is_empty() {
            return Ok(());
        }
        let text: Vec<String> = causes
            .iter()
            .map(|c| {
                format!(
                    "{}: {}",
                    c["field"].as_str().unwrap_or(""),
                    c["message"].as_str().unwrap_or("")
                )
            })
            .collect();
        let joined = if text.len() == 1 {
            text[0].clone()
        } else {
            format!("[{}]", text.join(", "))
        };
        Err(ApiError::new(
            422,
            "Invalid",
            format!("DeleteOptions.meta.k8s.io \"\" is invalid: {joined}"),
        )
        .with_details(json!({"group": "meta.k8s.io", "kind": "DeleteOptions", "causes": causes})))
    }

    fn dry_run(&self) -> bool {
        self.dry_run.iter().any(|d| d == "All")
    }
}

/// What a delete did.
pub(crate) enum Deleted {
    /// Gone; this was its last state.
    Gone(Value),
    /// Still there, marked for deletion (finalizers, grace period, namespace).
    Pending(Value),
}

/// What to do with the object after the delete's marks are computed.
enum Step {
    /// Store the marked object; it stays.
    Keep(Value),
    /// Remove it from the store.
    Remove,
}

/// Deletes (or starts deleting) one object.
pub(crate) async fn delete_object(
    state: &Arc<AppState>,
    t: &Target,
    opts: &DeleteOptions,
) -> Result<Deleted> {
    if t.info.kind == "Namespace" && IMMORTAL_NAMESPACES.contains(&t.name()) {
        return Err(ApiError::forbidden(format!(
            "namespaces \"{}\" is forbidden: this namespace may not be deleted",
            t.name()
        ))
        .with_details(json!({"name": t.name(), "kind": "namespaces"})));
    }
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
        check_preconditions(t, &obj, rev, opts)?;
        let step = match plan(t, &obj, opts) {
            Some(step) => step,
            None => return Ok(Deleted::Pending(obj)),
        };
        let guard = Compare::mod_revision(key.clone().into_bytes(), CompareOp::Equal, rev);
        if let Step::Keep(mut p) = step {
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

fn check_preconditions(t: &Target, obj: &Value, rev: i64, opts: &DeleteOptions) -> Result<()> {
    let Some(pre) = &opts.preconditions else {
        return Ok(());
    };
    if let Some(uid) = &pre.uid
        && meta_str(obj, "uid") != Some(uid.as_str())
    {
        return Err(ApiError::conflict(
            t.err(),
            &format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                meta_str(obj, "uid").unwrap_or("")
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
    Ok(())
}

/// What this delete does to `obj`; `None` when it changes nothing (a
/// graceful deletion or a namespace's termination is already under way).
fn plan(t: &Target, obj: &Value, opts: &DeleteOptions) -> Option<Step> {
    let mut new = obj.clone();
    if t.info.kind == "Namespace" {
        if obj.pointer("/metadata/deletionTimestamp").is_none() {
            // The first delete starts termination; the namespace controller
            // empties it and removes the `kubernetes` spec finalizer.
            if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert("deletionTimestamp".into(), json!(machinery::now()));
            }
            new["status"]["phase"] = json!("Terminating");
            if let Some(f) = propagation::namespace_finalizers(obj, opts) {
                set_finalizers(&mut new, f);
            }
            return Some(Step::Keep(new));
        }
        let spec_finalizers = obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if spec_finalizers {
            return None;
        }
    }
    let grace = match before_delete(t.info, &mut new, opts) {
        Grace::Pending => return None,
        Grace::Graceful(g) => Some(g),
        Grace::NotGraceful => None,
    };
    if let Some(f) = propagation::gc_finalizers(t.info, &new, opts) {
        set_finalizers(&mut new, f);
    }
    let held = !finalizers(&new).is_empty();
    match grace {
        None if held => {
            mark_as_deleting(&mut new);
            Some(Step::Keep(new))
        }
        Some(g) if held || g > 0 => Some(Step::Keep(new)),
        _ => Some(Step::Remove),
    }
}

/// The response of a delete: the object for kinds upstream returns it for
/// (and while deletion is pending), a Success Status otherwise. A pending
/// delete that explicitly asked for the dependents to be deleted
/// (`orphanDependents: false`) answers 202, as upstream.
fn deleted_body(t: &Target, d: Deleted, opts: &DeleteOptions) -> (StatusCode, Value) {
    let d = match d {
        Deleted::Gone(o) => Deleted::Gone(conversion::to_served(t.info, o)),
        Deleted::Pending(o) => Deleted::Pending(conversion::to_served(t.info, o)),
    };
    match d {
        Deleted::Pending(obj) if opts.orphan_dependents == Some(false) => {
            (StatusCode::ACCEPTED, obj)
        }
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
    let req = crate::admission::request(
        ironclad_admission::Operation::Delete,
        t.info,
        None,
        t.namespace.as_deref(),
        t.name(),
        ctx.user,
        !opts.dry_run.is_empty(),
    );
    crate::admission::node_restriction(ctx.state, &req, None, None).await?;
    let d = delete_object(ctx.state, t, &opts).await?;
    let (code, body) = deleted_body(t, d, &opts);
    let warnings: Vec<String> = propagation::default_warning(t.info, &opts)
        .into_iter()
        .collect();
    Ok(respond(code, &body, &warnings))
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
            Ok(Deleted::Gone(o) | Deleted::Pending(o)) => {
                items.push(conversion::to_served(t.info, o))
            }
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
    let warnings: Vec<String> = propagation::default_warning(t.info, &opts)
        .into_iter()
        .collect();
    Ok(respond(StatusCode::OK, &body, &warnings))
}

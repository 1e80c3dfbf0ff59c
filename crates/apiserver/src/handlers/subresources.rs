//! Subresources: `status` (the object, writes touch only its status),
//! `scale` (an autoscaling/v1 Scale view of spec.replicas), `binding`
//! (assigns a pod to a node), `eviction`, namespace `finalize`, a
//! CertificateSigningRequest's `approval` (and its `status`, through the
//! same strategy), and the node-backed streams that answer 503 until an
//! agent serves them.

use axum::response::Response;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::delete::{DeleteOptions, Deleted, delete_object};
use super::write::{WriteOpts, decode_body, update_object};
use super::{Ctx, not_allowed, respond};
use ironclad_api::selector::LabelSelector;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as LabelSelectorSpec;

use crate::error::{ApiError, Result};
use crate::objects::meta_str;
use crate::request::Target;

/// Routes a subresource request.
pub(crate) async fn route(
    ctx: &Ctx<'_>,
    method: &Method,
    t: &Target,
    sub: &str,
) -> Result<Response> {
    let m = method.as_str();
    match (sub, m) {
        ("status" | "approval", "PUT" | "PATCH") if t.info.kind == "CertificateSigningRequest" => {
            csr_write(ctx, t, sub, m == "PATCH").await
        }
        ("status" | "approval", "GET" | "HEAD") => super::read::get(ctx, t).await,
        ("status", "PUT") => super::write::update(ctx, t).await,
        ("status", "PATCH") => super::write::patch(ctx, t).await,
        ("scale", "GET" | "HEAD") => {
            let (obj, _) = super::write::current(ctx, t).await?;
            Ok(respond(StatusCode::OK, &scale_of(&obj)?, &[]))
        }
        ("scale", "PUT" | "PATCH") => update_scale(ctx, t, m == "PATCH").await,
        ("binding", "POST") => bind(ctx, t).await,
        ("eviction", "POST") => evict(ctx, t).await,
        ("finalize", "PUT") => {
            super::write::update(
                ctx,
                &Target {
                    subresource: None,
                    ..t.clone()
                },
            )
            .await
        }
        ("log" | "exec" | "attach" | "portforward", _) => Err(ApiError::unavailable(format!(
            "pods/{sub} needs the node agent, which is not part of this server yet: no node can serve {} {}",
            t.namespace.as_deref().unwrap_or(""),
            t.name()
        ))),
        ("token", "POST") => super::token::create(ctx, t).await,
        _ => Err(not_allowed(method, t)),
    }
}

/// A CertificateSigningRequest's `status` or `approval` write: the body
/// (or the stored object patched) goes through upstream's strategy for
/// the subresource, which keeps all but the status (`status`, without the
/// Approved and Denied conditions) or all but the conditions
/// (`approval`), then through the `status` write pipeline.
async fn csr_write(ctx: &Ctx<'_>, t: &Target, sub: &str, is_patch: bool) -> Result<Response> {
    let opts = WriteOpts::from_request(ctx)?;
    let put_body = (!is_patch).then(|| decode_body(ctx)).transpose()?;
    let ct = ctx
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let type_name = ironclad_api::schema::type_name_of(t.info).unwrap_or_default();
    let now = crate::machinery::now();
    let status = Target {
        subresource: Some("status".into()),
        ..t.clone()
    };
    let w = update_object(ctx.state, &status, &opts, |old| {
        let patched = match &put_body {
            Some(b) => Ok(b.clone()),
            None if ct.starts_with("application/json-patch+json") => {
                ironclad_patch::json_patch(old, &ctx.body)
            }
            None if ct.starts_with("application/merge-patch+json") => {
                ironclad_patch::merge_patch(old, &ctx.body)
            }
            None if ct.starts_with("application/strategic-merge-patch+json") => {
                ironclad_patch::parse_json(&ctx.body)
                    .and_then(|p| ironclad_patch::strategic_merge_patch(old, &p, type_name))
            }
            None => {
                return Err(ApiError::unsupported_media_type(format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {ct:?})"
                )));
            }
        };
        let mut new = patched.map_err(|e| ApiError::bad_request(e.to_string()))?;
        ironclad_api::certificates::prepare_update(Some(sub), &mut new, old, &now);
        Ok(new)
    })
    .await?;
    let body = crate::response::render_object(
        t.info,
        crate::response::shape(ctx.headers, &ctx.params),
        w.object,
    );
    Ok(respond(StatusCode::OK, &body, &w.warnings))
}

/// The autoscaling/v1 Scale of a workload.
fn scale_of(obj: &Value) -> Result<Value> {
    let meta = &obj["metadata"];
    let selector = match obj.pointer("/spec/selector") {
        Some(sel) if sel.get("matchLabels").is_some() || sel.get("matchExpressions").is_some() => {
            serde_json::from_value::<LabelSelectorSpec>(sel.clone())
                .ok()
                .and_then(|s| LabelSelector::from_k8s(&s).ok())
                .map(|s| s.to_string())
                .unwrap_or_default()
        }
        // ReplicationController selectors are plain maps.
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    };
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    }))
}

async fn update_scale(ctx: &Ctx<'_>, t: &Target, is_patch: bool) -> Result<Response> {
    let opts = WriteOpts::from_request(ctx)?;
    let main = Target {
        subresource: None,
        ..t.clone()
    };
    let body = ctx.body.clone();
    let headers = ctx.headers;
    let put_body = if is_patch {
        None
    } else {
        Some(decode_body(ctx)?)
    };
    let w = update_object(ctx.state, &main, &opts, |old| {
        let scale = scale_of(old)?;
        let new_scale = match &put_body {
            Some(b) => b.clone(),
            None => {
                let ct = headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if ct.starts_with("application/json-patch+json") {
                    ironclad_patch::json_patch(&scale, &body)
                } else {
                    ironclad_patch::merge_patch(&scale, &body)
                }
                .map_err(|e| ApiError::bad_request(e.to_string()))?
            }
        };
        let replicas = new_scale
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                ApiError::new(
                    422,
                    "Invalid",
                    "Scale \"\" is invalid: spec.replicas: Required value",
                )
            })?;
        if replicas < 0 {
            return Err(ApiError::invalid(
                "Scale",
                "autoscaling",
                t.name(),
                vec![(
                    "FieldValueInvalid".into(),
                    "spec.replicas".into(),
                    format!("Invalid value: {replicas}: must be greater than or equal to 0"),
                )],
            ));
        }
        let mut new = old.clone();
        // A Scale that pins a resourceVersion pins the object's.
        if let Some(rv) = new_scale
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            new["metadata"]["resourceVersion"] = json!(rv);
        }
        new["spec"]["replicas"] = json!(replicas);
        Ok(new)
    })
    .await?;
    Ok(respond(StatusCode::OK, &scale_of(&w.object)?, &[]))
}

/// `pods/<name>/binding` (and the `bindings` resource): sets spec.nodeName.
pub(crate) async fn bind(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    let binding = decode_body(ctx)?;
    let pod_name = match t.name.as_deref() {
        Some(n) if t.info.plural == "pods" => n.to_string(),
        _ => meta_str(&binding, "name").unwrap_or_default().to_string(),
    };
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                "Binding",
                "",
                &pod_name,
                vec![(
                    "FieldValueRequired".into(),
                    "target.name".into(),
                    "Required value".into(),
                )],
            )
        })?
        .to_string();
    let pods = ironclad_api::registry::lookup("", "v1", "pods")
        .ok_or_else(|| ApiError::internal("pods not registered"))?;
    // One write sets spec.nodeName and the PodScheduled condition, as
    // upstream's BindingREST does.
    let pod = Target {
        info: pods,
        namespace: t.namespace.clone(),
        name: Some(pod_name.clone()),
        subresource: Some("binding".into()),
    };
    let mut opts = WriteOpts::from_request(ctx)?;
    opts.validation = crate::request::FieldValidation::Ignore;
    let now = crate::machinery::now();
    update_object(ctx.state, &pod, &opts, |old| {
        if let Some(existing) = old
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            return Err(ApiError::conflict(
                pod.err(),
                &format!("pod {pod_name} is already assigned to node \"{existing}\""),
            ));
        }
        if old.pointer("/metadata/deletionTimestamp").is_some() {
            return Err(ApiError::conflict(
                pod.err(),
                &format!("pod {pod_name} is being deleted, cannot be assigned to a host"),
            ));
        }
        let mut new = old.clone();
        new["spec"]["nodeName"] = json!(node);
        let conds = new["status"]["conditions"].as_array().cloned().unwrap_or_default();
        let mut conds: Vec<Value> = conds.into_iter().filter(|c| c["type"] != "PodScheduled").collect();
        conds.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now}));
        new["status"]["conditions"] = json!(conds);
        Ok(new)
    })
    .await?;
    let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201});
    Ok(respond(StatusCode::CREATED, &status, &[]))
}

/// `pods/<name>/eviction`: deletes the pod (disruption budgets are not
/// enforced yet).
async fn evict(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    let body = decode_body(ctx)?;
    let req = crate::admission::request(
        ironclad_admission::Operation::Create,
        t.info,
        Some("eviction"),
        t.namespace.as_deref(),
        t.name(),
        ctx.user,
        false,
    );
    crate::admission::node_restriction(ctx.state, &req, Some(&body), None).await?;
    let mut opts: DeleteOptions = body
        .get("deleteOptions")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| ApiError::bad_request(format!("invalid deleteOptions: {e}")))?
        .unwrap_or_default();
    if ctx.params.dry_run()? {
        opts.dry_run = vec!["All".into()];
    }
    let pod = Target {
        subresource: None,
        ..t.clone()
    };
    match delete_object(ctx.state, &pod, &opts).await? {
        Deleted::Gone(_) | Deleted::Pending(_) => {}
    }
    let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201});
    Ok(respond(StatusCode::CREATED, &status, &[]))
}

//! PATCH in its four types, chosen by Content-Type: JSON patch (RFC 6902),
//! JSON merge patch (RFC 7386), strategic merge patch and server-side
//! apply. The patched object then goes through the update pipeline.

use http::header;
use ironclad_api::schema::type_name_of;
use ironclad_patch::{ApplyError, PatchError};
use serde_json::Value;

use super::Ctx;
use super::write::{WriteOpts, Written, check_fields, create_object, update_object};
use crate::error::{ApiError, Result};
use crate::machinery;
use crate::objects::meta_str;
use crate::request::Target;

/// The patch types upstream accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

fn patch_type(ctx: &Ctx<'_>) -> Result<PatchType> {
    let ct = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json-patch+json" => Ok(PatchType::Json),
        "application/merge-patch+json" => Ok(PatchType::Merge),
        "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
        "application/apply-patch+yaml" => Ok(PatchType::Apply),
        _ => Err(ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {ct:?})"
        ))),
    }
}

fn patch_error(e: PatchError) -> ApiError {
    match e.http_status() {
        400 => ApiError::bad_request(e.to_string()),
        code => ApiError::new(code, "Invalid", e.to_string()),
    }
}

/// Applies a PATCH request.
pub(crate) async fn patch_object(ctx: &Ctx<'_>, t: &Target) -> Result<Written> {
    let kind = patch_type(ctx)?;
    let mut opts = WriteOpts::from_request(ctx)?;
    if ctx.body.is_empty() {
        return Err(ApiError::bad_request("the patch body is empty"));
    }
    if kind == PatchType::Apply {
        return apply(ctx, t, opts).await;
    }
    let type_name = type_name_of(t.info).unwrap_or_default();
    let parsed: Option<Value> =
        match kind {
            PatchType::Strategic => Some(serde_json::from_slice(&ctx.body).map_err(|e| {
                ApiError::bad_request(format!("invalid strategic merge patch: {e}"))
            })?),
            _ => None,
        };
    let body = ctx.body.clone();
    let info = t.info;
    let policy = opts.validation;
    let mut warnings = Vec::new();
    let w = update_object(ctx.state, t, &opts.clone(), |old| {
        let mut new = match kind {
            PatchType::Json => ironclad_patch::json_patch(old, &body).map_err(patch_error)?,
            PatchType::Merge => ironclad_patch::merge_patch(old, &body).map_err(patch_error)?,
            PatchType::Strategic => {
                let p = parsed
                    .as_ref()
                    .ok_or_else(|| ApiError::internal("patch not parsed"))?;
                ironclad_patch::strategic_merge_patch(old, p, type_name).map_err(patch_error)?
            }
            PatchType::Apply => return Err(ApiError::internal("apply handled elsewhere")),
        };
        warnings = check_fields(info, &mut new, policy, Vec::new())?;
        Ok(new)
    })
    .await?;
    opts.applied = false;
    Ok(Written {
        warnings: [warnings, w.warnings].concat(),
        ..w
    })
}

/// Server-side apply: creates the object if missing, else merges the
/// applied configuration with field ownership and conflicts.
async fn apply(ctx: &Ctx<'_>, t: &Target, mut opts: WriteOpts) -> Result<Written> {
    let Some(manager) = ctx.params.field_manager.clone().filter(|m| !m.is_empty()) else {
        return Err(ApiError::new(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        ));
    };
    opts.manager = manager.clone();
    opts.applied = true;
    let mut applied = ironclad_wire::decode(ironclad_wire::BodyFormat::Yaml, &ctx.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    machinery::check_type(t.info, t.info.kind, &t.info.api_version(), &mut applied)?;
    match meta_str(&applied, "name") {
        Some(n) if n == t.name() => {}
        other => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({})",
                other.unwrap_or(""),
                t.name()
            )));
        }
    }
    let warnings = check_fields(t.info, &mut applied, opts.validation, Vec::new())?;
    let type_name = type_name_of(t.info).unwrap_or_default();
    let force = ctx.params.force();
    let now = machinery::now();
    let apply_err = |e: ApplyError| match e {
        ApplyError::Conflicts(c) => {
            let causes: Vec<Value> = c
                .iter()
                .map(|c| serde_json::json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{}\"", c.manager), "field": c.field}))
                .collect();
            ApiError::new(409, "Conflict", ApplyError::Conflicts(c).to_string())
                .with_details(serde_json::json!({"causes": causes}))
        }
        other => ApiError::bad_request(other.to_string()),
    };
    let exists = super::read::read_object(ctx, t).await?.is_some();
    if !exists {
        let obj =
            ironclad_patch::server_side_apply(None, &applied, &manager, force, type_name, &now)
                .map_err(apply_err)?;
        let mut w = create_object(
            ctx.state,
            t.info,
            t.namespace.as_deref(),
            obj,
            &opts,
            warnings,
        )
        .await?;
        w.created = true;
        return Ok(w);
    }
    let w = update_object(ctx.state, t, &opts, |old| {
        ironclad_patch::server_side_apply(Some(old), &applied, &manager, force, type_name, &now)
            .map_err(apply_err)
    })
    .await?;
    Ok(Written {
        warnings: [warnings, w.warnings].concat(),
        ..w
    })
}

//! Computed resources that are created and answered, never stored: the
//! access and identity reviews kubectl's `auth can-i` and `auth whoami`
//! send, and the `bindings` resource.
//!
//! Until authentication and authorization land (the security issue) every
//! request is served as the cluster administrator, so the reviews answer
//! that truthfully: everything is allowed, and the user is `admin` in
//! `system:masters`.

use axum::response::Response;
use http::StatusCode;
use serde_json::{Value, json};

use super::write::decode_body;
use super::{Ctx, respond};
use crate::error::{ApiError, Result};
use crate::request::Target;

/// The identity every request has until authentication exists.
pub(crate) const USER: &str = "admin";
/// Its groups.
pub(crate) const GROUPS: &[&str] = &["system:masters", "system:authenticated"];

/// POST of a review (or a binding).
pub(crate) async fn create(ctx: &Ctx<'_>, t: &Target) -> Result<Response> {
    if t.info.plural == "bindings" {
        return super::subresources::bind(ctx, t).await;
    }
    let mut review = decode_body(ctx)?;
    let kind = t.info.kind;
    if review
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k != kind)
    {
        return Err(ApiError::bad_request(format!("expected a {kind} body")));
    }
    let Some(o) = review.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the request body is not a JSON object",
        ));
    };
    o.insert("kind".into(), json!(kind));
    o.insert("apiVersion".into(), json!(t.info.api_version()));
    o.entry("metadata").or_insert_with(|| json!({}));
    let status = match kind {
        "SelfSubjectReview" => json!({"userInfo": {"username": USER, "groups": GROUPS}}),
        "SelfSubjectRulesReview" => {
            if review.pointer("/spec/namespace").is_none() {
                return Err(ApiError::invalid(
                    kind,
                    t.info.group,
                    "",
                    vec![(
                        "FieldValueRequired".into(),
                        "spec.namespace".into(),
                        "Required value".into(),
                    )],
                ));
            }
            json!({
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": false,
            })
        }
        _ => {
            let spec = review.get("spec").cloned().unwrap_or(Value::Null);
            let has_res = spec.get("resourceAttributes").is_some();
            let has_non = spec.get("nonResourceAttributes").is_some();
            if has_res == has_non {
                return Err(ApiError::invalid(kind, t.info.group, "", vec![(
                    "FieldValueInvalid".into(),
                    "spec".into(),
                    "Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified".into(),
                )]));
            }
            json!({"allowed": true, "reason": "no authorization is configured yet: every request is served as the cluster administrator"})
        }
    };
    review["status"] = status;
    Ok(respond(StatusCode::CREATED, &review, &[]))
}

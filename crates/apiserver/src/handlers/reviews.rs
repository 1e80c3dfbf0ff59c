//! Computed resources that are created and answered, never stored: the
//! identity and access reviews (`kubectl auth whoami`, `kubectl auth
//! can-i`, webhook-style SubjectAccessReview and TokenReview) and the
//! `bindings` resource. The access reviews ask the same authorizers that
//! guard every request, so their answers match real enforcement.

use std::collections::BTreeMap;

use axum::response::Response;
use http::StatusCode;
use ironclad_auth::authz::Rules;
use ironclad_auth::{Attributes, Decision, UserInfo};
use serde_json::{Map, Value, json};

use super::write::decode_body;
use super::{Ctx, respond};
use crate::error::{ApiError, Result};
use crate::request::Target;

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
    let invalid = |field: &str, why: &str| {
        ApiError::invalid(
            kind,
            t.info.group,
            "",
            vec![("FieldValueInvalid".into(), field.into(), why.into())],
        )
    };
    let spec = review.get("spec").cloned().unwrap_or(Value::Null);
    let status = match kind {
        "SelfSubjectReview" => json!({"userInfo": user_json(ctx.user)}),
        "TokenReview" => token_review(ctx, &spec).await?,
        "SelfSubjectRulesReview" => {
            let Some(ns) = spec.get("namespace").and_then(Value::as_str) else {
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
            };
            rules_json(&rules_for(ctx, ctx.user, ns))
        }
        _ => {
            let user = match kind {
                "SelfSubjectAccessReview" => ctx.user.clone(),
                _ => subject(&spec).ok_or_else(|| {
                    invalid(
                        "spec.user",
                        "at least one of user or group must be specified",
                    )
                })?,
            };
            let resource = spec.get("resourceAttributes").filter(|v| v.is_object());
            let non_resource = spec.get("nonResourceAttributes").filter(|v| v.is_object());
            let attrs = match (resource, non_resource) {
                (Some(r), None) => resource_attributes(user, r),
                (None, Some(n)) => {
                    Attributes::non_resource(user, str_at(n, "verb"), str_at(n, "path"))
                }
                _ => {
                    return Err(invalid(
                        "spec",
                        "Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
                    ));
                }
            };
            if kind == "LocalSubjectAccessReview"
                && Some(attrs.namespace.as_str()) != t.namespace.as_deref()
            {
                return Err(invalid(
                    "spec.resourceAttributes.namespace",
                    "must match metadata.namespace",
                ));
            }
            access(ctx, &attrs)
        }
    };
    review["status"] = status;
    Ok(respond(StatusCode::CREATED, &review, &[]))
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A SubjectAccessReview's subject, exactly as given (upstream adds no
/// groups).
fn subject(spec: &Value) -> Option<UserInfo> {
    let name = str_at(spec, "user").to_string();
    let groups: Vec<String> = spec
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if name.is_empty() && groups.is_empty() {
        return None;
    }
    let extra: BTreeMap<String, Vec<String>> = spec
        .get("extra")
        .and_then(|e| serde_json::from_value(e.clone()).ok())
        .unwrap_or_default();
    Some(UserInfo {
        name,
        uid: str_at(spec, "uid").to_string(),
        groups,
        extra,
    })
}

fn resource_attributes(user: UserInfo, r: &Value) -> Attributes {
    Attributes {
        user,
        verb: str_at(r, "verb").to_string(),
        resource_request: true,
        path: String::new(),
        namespace: str_at(r, "namespace").to_string(),
        api_group: str_at(r, "group").to_string(),
        api_version: str_at(r, "version").to_string(),
        resource: str_at(r, "resource").to_string(),
        subresource: str_at(r, "subresource").to_string(),
        name: str_at(r, "name").to_string(),
    }
}

/// The decision, in a SubjectAccessReviewStatus.
fn access(ctx: &Ctx<'_>, attrs: &Attributes) -> Value {
    let Some(auth) = &ctx.state.auth else {
        return json!({"allowed": true, "reason": "authorization is off: every request is allowed"});
    };
    match auth.authz.authorize(attrs) {
        Decision::Allow(reason) => {
            let mut s = json!({"allowed": true});
            if !reason.is_empty() {
                s["reason"] = json!(reason);
            }
            s
        }
        Decision::Deny(reason) => json!({"allowed": false, "denied": true, "reason": reason}),
        Decision::NoOpinion(reason) => {
            let mut s = json!({"allowed": false});
            if !reason.is_empty() {
                s["reason"] = json!(reason);
            }
            s
        }
    }
}

fn rules_for(ctx: &Ctx<'_>, user: &UserInfo, namespace: &str) -> Rules {
    match &ctx.state.auth {
        Some(auth) => auth.authz.rules_for(user, namespace),
        None => crate::security::authz::everything(),
    }
}

fn rules_json(rules: &Rules) -> Value {
    let resource: Vec<Value> = rules
        .resource_rules
        .iter()
        .map(|r| {
            let mut o =
                json!({"verbs": r.verbs, "apiGroups": r.api_groups, "resources": r.resources});
            if !r.resource_names.is_empty() {
                o["resourceNames"] = json!(r.resource_names);
            }
            o
        })
        .collect();
    let non_resource: Vec<Value> = rules
        .non_resource_rules
        .iter()
        .map(|r| json!({"verbs": r.verbs, "nonResourceURLs": r.non_resource_urls}))
        .collect();
    json!({
        "resourceRules": resource,
        "nonResourceRules": non_resource,
        "incomplete": rules.incomplete,
    })
}

fn user_json(user: &UserInfo) -> Value {
    let mut o = Map::new();
    o.insert("username".into(), json!(user.name));
    if !user.uid.is_empty() {
        o.insert("uid".into(), json!(user.uid));
    }
    o.insert("groups".into(), json!(user.groups));
    if !user.extra.is_empty() {
        o.insert("extra".into(), json!(user.extra));
    }
    Value::Object(o)
}

/// TokenReview: whether a bearer token authenticates, and as whom.
async fn token_review(ctx: &Ctx<'_>, spec: &Value) -> Result<Value> {
    let token = str_at(spec, "token");
    let audiences = spec.get("audiences").cloned();
    let Some(auth) = &ctx.state.auth else {
        return Ok(json!({"authenticated": false, "error": "authentication is off"}));
    };
    let mut headers = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_str(&format!("Bearer {token}")) {
        headers.insert(http::header::AUTHORIZATION, v);
    }
    Ok(
        match auth
            .authn
            .authenticate(ctx.state.store.as_ref(), None, &headers)
            .await
        {
            Ok(user) if !token.is_empty() => {
                let mut s = json!({"authenticated": true, "user": user_json(&user)});
                if let Some(a) = audiences {
                    s["audiences"] = a;
                }
                s
            }
            _ => json!({"authenticated": false, "error": "invalid bearer token"}),
        },
    )
}

//! Routing: non-resource paths (health, version, discovery, OpenAPI,
//! metrics) and the verbs on resources, each in its own module.

mod delete;
mod nonresource;
mod patch;
mod read;
mod reviews;
mod subresources;
mod token;
mod watch;
mod write;

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method, StatusCode};
use ironclad_api::Storage;
use serde_json::Value;

use crate::error::{ApiError, Result};
use crate::request::{ApiPath, Params, Target, parse_path};
use crate::security::attributes;
use crate::server::AppState;
use ironclad_auth::{Decision, UserInfo};

pub(crate) use write::{WriteOpts, create_object, update_object};

/// One request's context.
pub(crate) struct Ctx<'a> {
    pub state: &'a Arc<AppState>,
    /// Who makes the request.
    pub user: &'a UserInfo,
    pub headers: &'a HeaderMap,
    pub params: Params,
    pub body: Bytes,
}

/// What became of a request.
pub(crate) struct Outcome {
    /// The verb, for metrics.
    pub verb: &'static str,
    /// The resource (or path), for metrics.
    pub resource: String,
    /// The response.
    pub response: Response,
    /// The request as the authorizers saw it, and whether they allowed it
    /// and why (for the audit log).
    pub authorization: Option<(ironclad_auth::Attributes, bool, String)>,
}

/// Handles a request.
pub(crate) async fn handle(
    state: &Arc<AppState>,
    parts: &Parts,
    body: Bytes,
    user: UserInfo,
) -> Outcome {
    let mut authorization = None;
    let (verb, resource, response) = respond_to(state, parts, body, user, &mut authorization).await;
    Outcome {
        verb,
        resource,
        response,
        authorization,
    }
}

async fn respond_to(
    state: &Arc<AppState>,
    parts: &Parts,
    body: Bytes,
    user: UserInfo,
    authorization: &mut Option<(ironclad_auth::Attributes, bool, String)>,
) -> (&'static str, String, Response) {
    let path = parts.uri.path();
    let params = match Params::parse(parts.uri.query()) {
        Ok(p) => p,
        Err(e) => return ("unknown", path.to_string(), e.into_response()),
    };
    let api_path = parse_path(path);
    // Authorization comes first: a refused user learns nothing of what
    // exists, not even whether a path does.
    let attrs = match &api_path {
        Ok(Some(ApiPath::Resource(t))) => {
            Some(attributes::for_resource(&user, &parts.method, t, &params))
        }
        _ if crate::server::is_health_path(path) => None,
        _ => Some(attributes::for_path(&user, &parts.method, path)),
    };
    let refused = match attrs {
        Some(a) => {
            let (allowed, reason) = decide(state, &a);
            let refused = (!allowed).then(|| attributes::forbidden(&a, &reason));
            *authorization = Some((a, allowed, reason));
            refused
        }
        None => None,
    };
    if let Some(e) = refused {
        return ("unknown", path.to_string(), e.into_response());
    }
    if let Some(resp) = nonresource::handle(state, &parts.method, path, &parts.headers).await {
        return ("get", path.to_string(), resp);
    }
    let api_path = match api_path {
        Ok(Some(p)) => p,
        Ok(None) => return ("unknown", path.to_string(), not_found_path(path)),
        Err(e) => return ("unknown", path.to_string(), e.into_response()),
    };
    let target = match api_path {
        ApiPath::Resource(t) => t,
        other => {
            let resp = nonresource::discovery(state, &parts.method, &other, &parts.headers);
            return ("get", path.to_string(), resp);
        }
    };
    let resource = match &target.subresource {
        Some(s) => format!("{}/{s}", target.info.plural),
        None => target.info.plural.to_string(),
    };
    let ctx = Ctx {
        state,
        user: &user,
        headers: &parts.headers,
        params,
        body,
    };
    let verb = attributes::resource_verb(&parts.method, &target, &ctx.params);
    let resp = match route(&ctx, &parts.method, &target).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    (verb, resource, resp)
}

/// Whether the authorizers allow a request, and why.
fn decide(state: &AppState, a: &ironclad_auth::Attributes) -> (bool, String) {
    let Some(auth) = state.auth.as_ref() else {
        return (true, String::new());
    };
    match auth.authz.authorize(a) {
        Decision::Allow(reason) => (true, reason),
        Decision::Deny(reason) | Decision::NoOpinion(reason) => (false, reason),
    }
}

async fn route(ctx: &Ctx<'_>, method: &Method, t: &Target) -> Result<Response> {
    if t.info.storage == Storage::Virtual {
        return match (method.as_str(), &t.name) {
            ("POST", None) => reviews::create(ctx, t).await,
            ("POST", Some(_)) if t.info.plural == "bindings" => reviews::create(ctx, t).await,
            _ => Err(not_allowed(method, t)),
        };
    }
    if let Some(sub) = t.subresource.as_deref() {
        return subresources::route(ctx, method, t, sub).await;
    }
    let check = |verb: &str| {
        if t.info.has_verb(verb) {
            Ok(())
        } else {
            Err(not_allowed(method, t))
        }
    };
    match (method.as_str(), t.name.is_some()) {
        ("GET" | "HEAD", _) if ctx.params.is_watch() => {
            check("watch")?;
            watch::watch(ctx, t).await
        }
        ("GET" | "HEAD", true) => read::get(ctx, t).await,
        ("GET" | "HEAD", false) => {
            check("list")?;
            read::list(ctx, t).await
        }
        ("POST", false) => {
            check("create")?;
            write::create(ctx, t).await
        }
        ("PUT", true) => write::update(ctx, t).await,
        ("PATCH", true) => write::patch(ctx, t).await,
        ("DELETE", true) => delete::delete(ctx, t).await,
        ("DELETE", false) => {
            check("deletecollection")?;
            delete::delete_collection(ctx, t).await
        }
        _ => Err(not_allowed(method, t)),
    }
}

/// 405 for a verb the resource does not answer.
pub(crate) fn not_allowed(method: &Method, t: &Target) -> ApiError {
    ApiError::method_not_allowed(format!(
        "the server does not allow this method on the requested resource ({method} {}{})",
        t.info.plural,
        t.subresource
            .as_deref()
            .map(|s| format!("/{s}"))
            .unwrap_or_default()
    ))
}

fn not_found_path(path: &str) -> Response {
    ApiError::new(404, "NotFound", format!("the server could not find the requested resource ({path})"))
        .with_details(serde_json::json!({"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]}))
        .into_response()
}

/// A JSON object response with warnings as `Warning` headers.
pub(crate) fn respond(code: StatusCode, body: &Value, warnings: &[String]) -> Response {
    let mut resp = crate::response::json(code, body);
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('"', "'"));
        if let Ok(v) = http::HeaderValue::from_str(&text) {
            resp.headers_mut().append(http::header::WARNING, v);
        }
    }
    resp
}

//! Paths that are not resources: health, version, metrics, discovery and
//! OpenAPI.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use ironclad_api::{discovery, openapi};

use crate::error::ApiError;
use crate::request::ApiPath;
use crate::response::{json, json_as};
use crate::server::AppState;

fn text(code: StatusCode, body: &'static str) -> Response {
    (
        code,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// Handles a non-resource path, or returns None for API paths.
pub(crate) async fn handle(
    state: &Arc<AppState>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let path = path.trim_end_matches('/');
    Some(match path {
        "/healthz" | "/livez" | "/healthz/ping" | "/livez/ping" => text(StatusCode::OK, "ok"),
        "/readyz" => {
            if state.is_ready() {
                text(StatusCode::OK, "ok")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "not ready")
            }
        }
        "/metrics" => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            state.metrics.render(),
        )
            .into_response(),
        "/version" => json(StatusCode::OK, &discovery::version_info()),
        "/openapi/v3" => json(StatusCode::OK, &openapi::index()),
        "/openapi/v2" => {
            ApiError::new(404, "NotFound", "OpenAPI v2 is not served; use /openapi/v3")
                .into_response()
        }
        p if p.starts_with("/openapi/v3/") => {
            let doc = p.trim_start_matches("/openapi/v3/");
            match openapi::document(doc) {
                Some(bytes) => {
                    let mut resp = (
                        StatusCode::OK,
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        bytes.as_ref().clone(),
                    )
                        .into_response();
                    // The URL carries the content hash, so clients may keep it.
                    resp.headers_mut().insert(
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("public, immutable"),
                    );
                    resp
                }
                None => ApiError::new(404, "NotFound", format!("no OpenAPI document for {doc}"))
                    .into_response(),
            }
        }
        _ => {
            let _ = headers;
            return None;
        }
    })
}

/// Which aggregated discovery version the client asks for first, if any
/// (kubectl 1.27 asks for v2beta1, later ones for v2).
fn wants_aggregated(headers: &HeaderMap) -> Option<&'static str> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())?;
    for entry in accept.split(',') {
        if !entry.contains("g=apidiscovery.k8s.io") || !entry.contains("as=APIGroupDiscoveryList") {
            // The first acceptable entry wins; a plain JSON entry first means plain.
            if entry.trim().starts_with("application/json") {
                return None;
            }
            continue;
        }
        if entry.contains("v=v2beta1") {
            return Some(discovery::AGGREGATED_CONTENT_TYPE_V2BETA1);
        }
        if entry.contains("v=v2") {
            return Some(discovery::AGGREGATED_CONTENT_TYPE);
        }
    }
    None
}

fn aggregated_doc(content_type: Option<&'static str>, doc: serde_json::Value) -> Response {
    let content_type = content_type.unwrap_or(discovery::AGGREGATED_CONTENT_TYPE);
    let doc = if content_type == discovery::AGGREGATED_CONTENT_TYPE_V2BETA1 {
        discovery::as_v2beta1(doc)
    } else {
        doc
    };
    json_as(StatusCode::OK, content_type, &doc)
}

/// Discovery documents for `/api`, `/apis`, `/apis/<g>`, `/api/v1`, `/apis/<g>/<v>`.
pub(crate) fn discovery(
    state: &Arc<AppState>,
    method: &Method,
    path: &ApiPath,
    headers: &HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return ApiError::method_not_allowed(format!("{method} is not allowed on discovery paths"))
            .into_response();
    }
    let aggregated = wants_aggregated(headers);
    match path {
        ApiPath::CoreRoot if aggregated.is_some() => {
            aggregated_doc(aggregated, discovery::aggregated_core())
        }
        ApiPath::CoreRoot => {
            let addr = format!("{}:{}", state.config.advertise_address, state.config.port);
            json(StatusCode::OK, &discovery::api_versions(&addr))
        }
        ApiPath::GroupsRoot if aggregated.is_some() => {
            aggregated_doc(aggregated, discovery::aggregated_groups())
        }
        ApiPath::GroupsRoot => json(StatusCode::OK, &discovery::api_group_list()),
        ApiPath::Group(g) => match discovery::api_group(g) {
            Some(v) => json(StatusCode::OK, &v),
            None => ApiError::new(
                404,
                "NotFound",
                format!("the server could not find the requested resource (group {g})"),
            )
            .into_response(),
        },
        ApiPath::GroupVersion(g, v) => match discovery::api_resource_list(g, v) {
            Some(doc) => json(StatusCode::OK, &doc),
            None => ApiError::new(
                404,
                "NotFound",
                format!("the server could not find the requested resource ({g}/{v})"),
            )
            .into_response(),
        },
        ApiPath::Resource(_) => {
            ApiError::internal("resource path routed to discovery").into_response()
        }
    }
}

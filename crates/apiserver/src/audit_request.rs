//! Recording one request in the audit log: its record at the level the
//! policy gives it, the authorization decision, the request body (level
//! Request and above) and the response (RequestResponse; never for the
//! streams of watches and logs), written when the response is complete.

use axum::body::Body;
use axum::response::Response;
use chrono::{DateTime, Utc};
use http::request::Parts;
use http::{HeaderValue, header};
use ironclad_auth::Attributes;

use crate::audit::{AuditConfig, AuditRequest, Level, RequestAudit, Stage, source_ips};
use crate::server::MAX_BODY_BYTES;
use crate::tls::Peer;

/// Records the request and returns the response (with its `Audit-Id`).
pub(crate) async fn record(
    audit: &AuditConfig,
    parts: &Parts,
    attrs: &Attributes,
    (allowed, reason): (bool, &str),
    body: &[u8],
    received: DateTime<Utc>,
    mut response: Response,
) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let peer = parts.extensions.get::<Peer>().map(|p| p.addr);
    let Some(mut rec) = RequestAudit::new(
        &audit.policy,
        AuditRequest {
            attributes: attrs,
            audit_id: &id,
            request_uri: uri,
            source_ips: source_ips(&parts.headers, peer),
            user_agent: agent,
            received,
        },
    ) else {
        return response;
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("audit-id", v);
    }
    rec.set_authorization(allowed, reason);
    if !body.is_empty() {
        rec.set_request_body(body);
    }
    if let Some(ev) = rec.event(Stage::RequestReceived, received) {
        audit.log.log(&ev);
    }
    let code = response.status().as_u16();
    let streaming = matches!(attrs.verb.as_str(), "watch")
        || matches!(
            attrs.subresource.as_str(),
            "log" | "exec" | "attach" | "portforward"
        );
    if rec.level() == Level::RequestResponse && !streaming {
        let (head, resp_body) = response.into_parts();
        let bytes = axum::body::to_bytes(resp_body, MAX_BODY_BYTES * 16)
            .await
            .unwrap_or_default();
        rec.set_response(code, Some(&bytes));
        response = Response::from_parts(head, Body::from(bytes));
    } else {
        rec.set_response(code, None);
    }
    if let Some(ev) = rec.event(Stage::ResponseComplete, Utc::now()) {
        audit.log.log(&ev);
    }
    response
}

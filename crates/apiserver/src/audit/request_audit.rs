//! The audit record of one request as it runs: made when the request is
//! authorized, filled with the request and response as they become known
//! (keeping only what the policy's level allows), and turned into an
//! [`AuditEvent`] at each stage the policy does not omit.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ironclad_auth::attributes::Attributes;
use ironclad_auth::user::UserInfo;
use serde_json::Value;

use super::bodies::{decode, strip_managed_fields};
use super::event::{
    AuditEvent, DECISION_ANNOTATION, EVENT_API_VERSION, EVENT_KIND, EventUser, ObjectRef,
    REASON_ANNOTATION, ResponseStatus,
};
use super::level::{Level, Stage};
use super::policy::{AuditPolicy, RequestAuditConfig};

/// User agents longer than this are cut (upstream's limit).
const MAX_USER_AGENT: usize = 1024;
const TRUNCATED: &str = "...TRUNCATED";

/// What the server knows of a request when it starts.
#[derive(Debug, Clone)]
pub struct AuditRequest<'a> {
    /// The request as the authorizer sees it, with the authenticated
    /// (not the impersonated) user.
    pub attributes: &'a Attributes,
    /// The request's unique ID.
    pub audit_id: &'a str,
    /// The path and query.
    pub request_uri: &'a str,
    /// The source addresses ([`super::source_ips`]).
    pub source_ips: Vec<String>,
    /// The `User-Agent` header.
    pub user_agent: &'a str,
    /// When the request arrived.
    pub received: DateTime<Utc>,
}

/// The audit record of one request at a level above `None`.
#[derive(Debug, Clone)]
pub struct RequestAudit {
    config: RequestAuditConfig,
    event: AuditEvent,
}

fn truncate_user_agent(agent: &str) -> String {
    if agent.len() <= MAX_USER_AGENT {
        return agent.to_string();
    }
    let mut end = MAX_USER_AGENT;
    while !agent.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{TRUNCATED}", &agent[..end])
}

impl RequestAudit {
    /// The record of a request, or `None` when the policy records nothing
    /// of it.
    pub fn new(policy: &AuditPolicy, request: AuditRequest<'_>) -> Option<RequestAudit> {
        let config = policy.level_for(request.attributes);
        RequestAudit::with_config(config, request)
    }

    /// The record of a request at an already evaluated configuration.
    pub fn with_config(
        config: RequestAuditConfig,
        request: AuditRequest<'_>,
    ) -> Option<RequestAudit> {
        if config.level == Level::None {
            return None;
        }
        let attrs = request.attributes;
        let object_ref = attrs.resource_request.then(|| ObjectRef {
            resource: attrs.resource.clone(),
            namespace: attrs.namespace.clone(),
            name: attrs.name.clone(),
            api_group: attrs.api_group.clone(),
            api_version: attrs.api_version.clone(),
            subresource: attrs.subresource.clone(),
            ..Default::default()
        });
        let event = AuditEvent {
            kind: EVENT_KIND.to_string(),
            api_version: EVENT_API_VERSION.to_string(),
            level: config.level,
            audit_id: request.audit_id.to_string(),
            stage: Stage::RequestReceived,
            request_uri: request.request_uri.to_string(),
            verb: attrs.verb.clone(),
            user: EventUser::from(&attrs.user),
            impersonated_user: None,
            source_ips: request.source_ips,
            user_agent: truncate_user_agent(request.user_agent),
            object_ref,
            response_status: None,
            request_object: None,
            response_object: None,
            request_received_timestamp: request.received,
            stage_timestamp: request.received,
            annotations: BTreeMap::new(),
        };
        Some(RequestAudit { config, event })
    }

    /// What the policy decided.
    pub fn config(&self) -> &RequestAuditConfig {
        &self.config
    }

    /// The level.
    pub fn level(&self) -> Level {
        self.config.level
    }

    /// Records whom the request impersonates.
    pub fn set_impersonated_user(&mut self, user: &UserInfo) {
        self.event.impersonated_user = Some(EventUser::from(user));
    }

    /// Records the authorizer's decision and reason.
    pub fn set_authorization(&mut self, allowed: bool, reason: &str) {
        let decision = if allowed { "allow" } else { "forbid" };
        self.add_annotation(DECISION_ANNOTATION, decision);
        if !reason.is_empty() {
            self.add_annotation(REASON_ANNOTATION, reason);
        }
    }

    /// Adds an annotation; an existing key keeps its first value, as
    /// upstream keeps it.
    pub fn add_annotation(&mut self, key: &str, value: &str) {
        self.event
            .annotations
            .entry(key.to_string())
            .or_insert_with(|| value.to_string());
    }

    /// Records the request body: its metadata completes the object
    /// reference at every level; the body itself is kept from level
    /// `Request` up.
    pub fn set_request_body(&mut self, body: &[u8]) {
        if let Some(value) = decode(body) {
            self.set_request_object(value);
        }
    }

    /// [`RequestAudit::set_request_body`] for an already decoded body.
    pub fn set_request_object(&mut self, mut object: Value) {
        if let Some(object_ref) = &mut self.event.object_ref {
            let meta = object.get("metadata");
            let field = |name: &str| {
                meta.and_then(|m| m.get(name))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            for (slot, name) in [
                (&mut object_ref.namespace, "namespace"),
                (&mut object_ref.name, "name"),
                (&mut object_ref.uid, "uid"),
                (&mut object_ref.resource_version, "resourceVersion"),
            ] {
                if slot.is_empty() {
                    *slot = field(name);
                }
            }
        }
        if self.config.level < Level::Request {
            return;
        }
        if self.config.omit_managed_fields {
            strip_managed_fields(&mut object);
        }
        self.event.request_object = Some(object);
    }

    /// Records the response: its code, the fields of a returned `Status`,
    /// and at level `RequestResponse` the body.
    pub fn set_response(&mut self, code: u16, body: Option<&[u8]>) {
        self.set_response_object(code, body.and_then(decode));
    }

    /// [`RequestAudit::set_response`] for an already decoded body.
    pub fn set_response_object(&mut self, code: u16, body: Option<Value>) {
        let mut status = ResponseStatus::code(code);
        if let Some(b) = &body
            && b.get("kind").and_then(Value::as_str) == Some("Status")
        {
            let text = |name: &str| {
                b.get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            status.status = text("status");
            status.message = text("message");
            status.reason = text("reason");
            status.details = b.get("details").filter(|d| !d.is_null()).cloned();
            if let Some(c) = b.get("code").and_then(Value::as_i64)
                && let Ok(c) = i32::try_from(c)
                && c != 0
            {
                status.code = c;
            }
        }
        self.event.response_status = Some(status);
        if self.config.level < Level::RequestResponse {
            return;
        }
        self.event.response_object = body.map(|mut b| {
            if self.config.omit_managed_fields {
                strip_managed_fields(&mut b);
            }
            b
        });
    }

    /// Records a panic of the handler (upstream's 500 `InternalError`).
    pub fn set_panic(&mut self, message: &str) {
        self.event.response_status = Some(ResponseStatus {
            status: "Failure".to_string(),
            reason: "InternalError".to_string(),
            message: format!("APIServer panic'd: {message}"),
            code: 500,
            ..Default::default()
        });
    }

    /// The event of `stage` at `at`, or `None` when the policy omits the
    /// stage.
    pub fn event(&self, stage: Stage, at: DateTime<Utc>) -> Option<AuditEvent> {
        if !self.config.emits(stage) {
            return None;
        }
        let mut event = self.event.clone();
        event.stage = stage;
        event.stage_timestamp = at;
        Some(event)
    }
}

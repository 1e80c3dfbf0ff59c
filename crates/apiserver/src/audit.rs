//! Audit logging (upstream's `--audit-policy-file` and
//! `--audit-log-path`): a record of who did what, written as audit.k8s.io/v1
//! `Event` JSON lines.
//!
//! The server evaluates the [`AuditPolicy`] for each authorized request
//! ([`RequestAudit::new`]; `None` when the level is `None`), fills the
//! record as the request runs (authorization decision, request body,
//! response), and at each stage the policy keeps ([`RequestAudit::event`])
//! hands the [`AuditEvent`] to the [`AuditLog`], which writes it from a
//! background thread without ever blocking the request.

mod bodies;
mod error;
mod event;
mod level;
mod matching;
mod micro_time;
mod policy;
mod request_audit;
mod rotation;
mod source_ips;
mod validation;
mod wire;
mod writer;

pub use bodies::{decode as decode_body, strip_managed_fields};
pub use error::AuditError;
pub use event::{
    AuditEvent, DECISION_ANNOTATION, EVENT_API_VERSION, EVENT_KIND, EventUser, ObjectRef,
    REASON_ANNOTATION, ResponseStatus,
};
pub use level::{Level, Stage};
pub use micro_time::format as format_timestamp;
pub use policy::{API_VERSION, AuditPolicy, GroupResources, KIND, PolicyRule, RequestAuditConfig};
pub use request_audit::{AuditRequest, RequestAudit};
pub use source_ips::source_ips;
pub use writer::{AuditLog, AuditLogOptions};

#[cfg(test)]
mod event_tests;
#[cfg(test)]
mod policy_tests;

/// The audit configuration of a server: its policy and the log it writes
/// (`--audit-policy-file`, `--audit-log-path`).
#[derive(Clone)]
pub struct AuditConfig {
    /// What to record of each request.
    pub policy: std::sync::Arc<AuditPolicy>,
    /// Where.
    pub log: std::sync::Arc<AuditLog>,
}

impl AuditConfig {
    /// Opens the log at `path` with the policy at `policy_path`, or every
    /// request at Metadata without one.
    pub fn open(
        path: &std::path::Path,
        policy_path: Option<&std::path::Path>,
    ) -> Result<AuditConfig, AuditError> {
        let policy = match policy_path {
            Some(p) => AuditPolicy::from_file(p)?,
            None => AuditPolicy::default_metadata(),
        };
        Ok(AuditConfig {
            policy: std::sync::Arc::new(policy),
            log: std::sync::Arc::new(AuditLog::open(path)?),
        })
    }
}

impl std::fmt::Debug for AuditConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditConfig").finish_non_exhaustive()
    }
}

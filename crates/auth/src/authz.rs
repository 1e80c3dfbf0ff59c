//! Authorizers: each turns a request's [`Attributes`] into a [`Decision`].
//! The API server asks them in the order `--authorization-mode` lists, and
//! the first that allows or denies decides; if none does, the request is
//! forbidden.
//!
//! - [`rbac`]: Roles, ClusterRoles and their bindings.
//! - [`abac`]: upstream's ABAC policy file (one JSON policy per line).
//! - [`node`]: what a kubelet may touch: its own node, the pods bound to
//!   it and what they use.

pub mod abac;
pub mod bootstrap_policy;
pub mod node;
pub mod rbac;

use crate::attributes::Attributes;

/// An authorizer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; the reason says by what (`RBAC: allowed by ClusterRoleBinding "x"`).
    Allow(String),
    /// Denied outright: no later authorizer is asked.
    Deny(String),
    /// This authorizer has nothing to say; the next one is asked.
    NoOpinion(String),
}

impl Decision {
    /// Whether it allows.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

/// An authorizer.
pub trait Authorizer: Send + Sync {
    /// Decides on one request.
    fn authorize(&self, attributes: &Attributes) -> Decision;
}

/// One rule of what a user may do, as SelfSubjectRulesReview lists them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceRule {
    /// Verbs (`*` for all).
    pub verbs: Vec<String>,
    /// API groups (`*` for all).
    pub api_groups: Vec<String>,
    /// Resources, with subresources as `pods/log` (`*` for all).
    pub resources: Vec<String>,
    /// Names (empty: all).
    pub resource_names: Vec<String>,
}

/// One rule on non-resource paths.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NonResourceRule {
    /// Verbs.
    pub verbs: Vec<String>,
    /// Paths; a trailing `*` matches any path with that prefix.
    pub non_resource_urls: Vec<String>,
}

/// What a user may do in a namespace (SelfSubjectRulesReview).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rules {
    /// Rules on resources.
    pub resource_rules: Vec<ResourceRule>,
    /// Rules on non-resource paths.
    pub non_resource_rules: Vec<NonResourceRule>,
    /// Whether the list may be missing some rules (an authorizer that cannot
    /// list its rules was consulted).
    pub incomplete: bool,
}

/// An authorizer that can list what a user may do.
pub trait RuleResolver: Send + Sync {
    /// The rules that apply to `user` in `namespace`.
    fn rules_for(&self, user: &crate::UserInfo, namespace: &str) -> Rules;
}

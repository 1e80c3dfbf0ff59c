//! Attribute-based access control: upstream's `--authorization-policy-file`,
//! one JSON policy per line, each allowing a user or group some resources
//! (by namespace, API group and resource) or some non-resource paths,
//! read-only or not. The first policy that matches allows; if none does,
//! ABAC has no opinion.
//!
//! ```text
//! {"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "alice", "namespace": "*", "resource": "*", "apiGroup": "*"}}
//! {"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "*", "nonResourcePath": "*", "readonly": true}}
//! ```

mod parse;
#[cfg(test)]
mod tests;

pub use parse::{GROUP, KIND, V0, V1BETA1};

use crate::attributes::Attributes;
use crate::authz::{Authorizer, Decision, NonResourceRule, ResourceRule, RuleResolver, Rules};
use crate::user::UserInfo;

/// What a policy allows, as upstream's internal `PolicySpec` (legacy lines
/// are converted to it). `*` matches anything; an empty string matches
/// only an empty value (no namespace, the core API group).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicySpec {
    /// The user name. (A policy line's `*` is read as the group
    /// `system:authenticated`, as upstream converts it.)
    pub user: String,
    /// A group of the user.
    pub group: String,
    /// Only `get`, `list` and `watch` (for paths: `get`).
    pub readonly: bool,
    /// The API group of resources (`""` for core).
    pub api_group: String,
    /// The resource (without subresource).
    pub resource: String,
    /// The namespace (`""` for cluster-scoped and all-namespace requests).
    pub namespace: String,
    /// A non-resource path: exact, `*`, or a prefix followed by `*`.
    pub non_resource_path: String,
}

/// One policy line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Its line in the file (1-based).
    pub line: usize,
    /// What it allows.
    pub spec: PolicySpec,
}

/// A line of the policy file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy file line {line}: {message}")]
pub struct PolicyError {
    /// The line (1-based).
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// A parsed ABAC policy file: the authorizer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AbacPolicy {
    policies: Vec<Policy>,
}

impl AbacPolicy {
    /// Parses a policy file: one JSON object per line, blank lines and lines
    /// starting with `#` skipped. Unknown fields, unknown versions and bad
    /// JSON are errors naming the line.
    pub fn parse(text: &str) -> Result<AbacPolicy, PolicyError> {
        Ok(AbacPolicy {
            policies: parse::parse_policies(text)?,
        })
    }

    /// The policies, in file order.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }
}

impl Policy {
    /// Whether this policy allows the request (upstream's `matches`).
    pub fn matches(&self, attributes: &Attributes) -> bool {
        self.subject_matches(&attributes.user)
            && (attributes.is_read_only() || !self.spec.readonly)
            && (self.resource_matches(attributes) || self.non_resource_matches(attributes))
    }

    /// The user and group, where given, both match; a policy naming
    /// neither matches no one.
    pub fn subject_matches(&self, user: &UserInfo) -> bool {
        let spec = &self.spec;
        let mut matched = false;
        if !spec.user.is_empty() {
            if spec.user != "*" && spec.user != user.name {
                return false;
            }
            matched = true;
        }
        if !spec.group.is_empty() {
            if spec.group != "*" && !user.in_group(&spec.group) {
                return false;
            }
            matched = true;
        }
        matched
    }

    fn resource_matches(&self, attributes: &Attributes) -> bool {
        let spec = &self.spec;
        attributes.resource_request
            && wildcard_or(&spec.namespace, &attributes.namespace)
            && wildcard_or(&spec.resource, &attributes.resource)
            && wildcard_or(&spec.api_group, &attributes.api_group)
    }

    fn non_resource_matches(&self, attributes: &Attributes) -> bool {
        let policy_path = &self.spec.non_resource_path;
        !attributes.resource_request
            && (policy_path == "*"
                || *policy_path == attributes.path
                || (policy_path.ends_with('*')
                    && attributes
                        .path
                        .starts_with(policy_path.trim_end_matches('*'))))
    }
}

fn wildcard_or(policy: &str, value: &str) -> bool {
    policy == "*" || policy == value
}

fn verbs(readonly: bool) -> Vec<String> {
    let verbs: &[&str] = if readonly {
        &["get", "list", "watch"]
    } else {
        &["*"]
    };
    verbs.iter().map(|v| v.to_string()).collect()
}

impl Authorizer for AbacPolicy {
    fn authorize(&self, attributes: &Attributes) -> Decision {
        match self.policies.iter().find(|p| p.matches(attributes)) {
            Some(policy) => Decision::Allow(format!(
                "ABAC: allowed by the policy on line {}",
                policy.line
            )),
            None => Decision::NoOpinion("No policy matched.".to_string()),
        }
    }
}

impl RuleResolver for AbacPolicy {
    /// Upstream's `RulesFor`: every policy of the user in that namespace (or
    /// `*`), as a resource rule if it names a resource and a non-resource
    /// rule if it names a path.
    fn rules_for(&self, user: &UserInfo, namespace: &str) -> Rules {
        let mut rules = Rules::default();
        for policy in &self.policies {
            let spec = &policy.spec;
            if !policy.subject_matches(user) || !wildcard_or(&spec.namespace, namespace) {
                continue;
            }
            if !spec.resource.is_empty() {
                rules.resource_rules.push(ResourceRule {
                    verbs: verbs(spec.readonly),
                    api_groups: vec![spec.api_group.clone()],
                    resources: vec![spec.resource.clone()],
                    resource_names: Vec::new(),
                });
            }
            if !spec.non_resource_path.is_empty() {
                rules.non_resource_rules.push(NonResourceRule {
                    verbs: verbs(spec.readonly),
                    non_resource_urls: vec![spec.non_resource_path.clone()],
                });
            }
        }
        rules
    }
}

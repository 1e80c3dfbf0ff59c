//! The audit policy (upstream's `--audit-policy-file`, an audit.k8s.io/v1
//! `Policy`): rules deciding at which [`Level`] a request is recorded.

use std::path::Path;

use ironclad_auth::attributes::Attributes;

use super::error::AuditError;
use super::level::{Level, Stage};
use super::matching::rule_matches;
use super::validation::validate;
use super::wire::{FilePolicy, unknown_fields};

/// The policy's `apiVersion`.
pub const API_VERSION: &str = "audit.k8s.io/v1";
/// The policy's `kind`.
pub const KIND: &str = "Policy";

/// A validated audit policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPolicy {
    /// The rules; the first that matches a request decides its level.
    pub rules: Vec<PolicyRule>,
    /// Stages no event is written for, whatever the rule (already merged
    /// into every rule's own).
    pub omit_stages: Vec<Stage>,
    /// Whether bodies lose `metadata.managedFields` (rules may override).
    pub omit_managed_fields: bool,
}

/// One rule; every non-empty list must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// The level of the requests it matches.
    pub level: Level,
    /// User names (empty: all).
    pub users: Vec<String>,
    /// Groups; the user must be in one (empty: all).
    pub user_groups: Vec<String>,
    /// Verbs (empty: all).
    pub verbs: Vec<String>,
    /// Resources; a resource request must match one (empty: all).
    pub resources: Vec<GroupResources>,
    /// Namespaces of resource requests ("" is cluster-scoped; empty: all).
    pub namespaces: Vec<String>,
    /// Paths of non-resource requests, exact or with a trailing `*`.
    pub non_resource_urls: Vec<String>,
    /// Stages no event is written for.
    pub omit_stages: Vec<Stage>,
    /// Overrides the policy's `omit_managed_fields`.
    pub omit_managed_fields: Option<bool>,
}

/// Resources of one group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupResources {
    /// The group ("" is core).
    pub group: String,
    /// `pods`, `pods/log`, `*/scale`, `pods/*`, `*`; empty: the whole
    /// group.
    pub resources: Vec<String>,
    /// Object names (empty: all).
    pub resource_names: Vec<String>,
}

/// What the policy decides for one request (upstream's
/// `RequestAuditConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAuditConfig {
    /// How much to record; [`Level::None`] records nothing.
    pub level: Level,
    /// Stages not to write an event for.
    pub omit_stages: Vec<Stage>,
    /// Whether bodies lose `metadata.managedFields`.
    pub omit_managed_fields: bool,
}

impl RequestAuditConfig {
    /// Whether an event is written at `stage`.
    pub fn emits(&self, stage: Stage) -> bool {
        self.level > Level::None && !self.omit_stages.contains(&stage)
    }
}

impl PolicyRule {
    /// A rule at `level` matching every request.
    pub fn all(level: Level) -> PolicyRule {
        PolicyRule {
            level,
            users: Vec::new(),
            user_groups: Vec::new(),
            verbs: Vec::new(),
            resources: Vec::new(),
            namespaces: Vec::new(),
            non_resource_urls: Vec::new(),
            omit_stages: Vec::new(),
            omit_managed_fields: None,
        }
    }
}

impl AuditPolicy {
    /// A policy; the policy's omitted stages are merged into every rule's.
    pub fn new(
        mut rules: Vec<PolicyRule>,
        omit_stages: Vec<Stage>,
        omit_managed_fields: bool,
    ) -> AuditPolicy {
        for rule in &mut rules {
            for stage in &omit_stages {
                if !rule.omit_stages.contains(stage) {
                    rule.omit_stages.push(*stage);
                }
            }
        }
        AuditPolicy {
            rules,
            omit_stages,
            omit_managed_fields,
        }
    }

    /// Reads a policy from YAML or JSON text. Fields the policy does not
    /// know are ignored with a warning (upstream's lenient fallback).
    pub fn from_yaml(text: &str) -> Result<AuditPolicy, AuditError> {
        let trimmed = text.trim();
        let json = trimmed.starts_with('{');
        let doc: serde_json::Value = if json {
            serde_json::from_str(trimmed).map_err(|e| AuditError::Parse(e.to_string()))?
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| AuditError::Parse(e.to_string()))?
        };
        if !doc.is_object() {
            return Err(AuditError::Parse(
                "Object 'Kind' is missing: the policy is not a mapping".to_string(),
            ));
        }
        let file: FilePolicy = if json {
            serde_json::from_str(trimmed).map_err(|e| AuditError::Parse(e.to_string()))?
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| AuditError::Parse(e.to_string()))?
        };
        if file.kind.is_empty() {
            return Err(AuditError::Parse("Object 'Kind' is missing".to_string()));
        }
        if file.api_version != API_VERSION || file.kind != KIND {
            return Err(AuditError::UnknownVersion(format!(
                "{}, Kind={}",
                file.api_version, file.kind
            )));
        }
        let unknown = unknown_fields(&doc);
        if !unknown.is_empty() {
            let fields: Vec<String> = unknown
                .iter()
                .map(|f| format!("unknown field \"{f}\""))
                .collect();
            tracing::warn!(
                "Audit policy contains errors, falling back to lenient decoding: strict decoding error: {}",
                fields.join(", ")
            );
        }
        validate(file)
    }

    /// Reads a policy file (`--audit-policy-file`).
    pub fn from_file(path: &Path) -> Result<AuditPolicy, AuditError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuditError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        AuditPolicy::from_yaml(&text).map_err(|e| AuditError::File {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// Every request at [`Level::Metadata`], every stage.
    pub fn default_metadata() -> AuditPolicy {
        AuditPolicy::new(vec![PolicyRule::all(Level::Metadata)], Vec::new(), false)
    }

    /// The level, omitted stages and managed-fields choice for a request:
    /// the first matching rule's, else [`Level::None`].
    pub fn level_for(&self, attrs: &Attributes) -> RequestAuditConfig {
        match self.rules.iter().find(|r| rule_matches(r, attrs)) {
            Some(rule) => RequestAuditConfig {
                level: rule.level,
                omit_stages: rule.omit_stages.clone(),
                omit_managed_fields: rule.omit_managed_fields.unwrap_or(self.omit_managed_fields),
            },
            None => RequestAuditConfig {
                level: Level::None,
                omit_stages: self.omit_stages.clone(),
                omit_managed_fields: self.omit_managed_fields,
            },
        }
    }
}

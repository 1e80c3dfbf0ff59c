//! Builders for the bootstrap policy: rules as upstream's `NewRule(...)`
//! writes them (every list sorted and without duplicates), subjects, and
//! the metadata every bootstrap object carries.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The label every bootstrap object carries.
pub const BOOTSTRAPPING_LABEL: &str = "kubernetes.io/bootstrapping";
/// Its value.
pub const BOOTSTRAPPING_VALUE: &str = "rbac-defaults";
/// The annotation that lets the API server reconcile the object with the
/// built-in policy at startup.
pub const AUTOUPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";
/// The RBAC API group, as role references and user/group subjects name it.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Reading verbs.
pub(super) const READ: &[&str] = &["get", "list", "watch"];
/// Writing verbs.
pub(super) const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
/// Reading and writing verbs.
pub(super) const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// A rule under construction.
pub(super) struct RuleBuilder(PolicyRule);

/// A rule with these verbs.
pub(super) fn rule(verbs: &[&str]) -> RuleBuilder {
    RuleBuilder(PolicyRule {
        verbs: sorted(verbs),
        ..Default::default()
    })
}

impl RuleBuilder {
    /// On these API groups.
    pub(super) fn groups(mut self, groups: &[&str]) -> RuleBuilder {
        self.0.api_groups = Some(sorted(groups));
        self
    }

    /// On these resources.
    pub(super) fn resources(mut self, resources: &[&str]) -> RuleBuilder {
        self.0.resources = Some(sorted(resources));
        self
    }

    /// On these objects only.
    pub(super) fn names(mut self, names: &[&str]) -> RuleBuilder {
        self.0.resource_names = Some(sorted(names));
        self
    }

    /// On these non-resource URLs.
    pub(super) fn urls(mut self, urls: &[&str]) -> RuleBuilder {
        self.0.non_resource_urls = Some(sorted(urls));
        self
    }

    /// The rule.
    pub(super) fn build(self) -> PolicyRule {
        self.0
    }
}

/// Upstream's `eventsRule()`: recording events, in both event APIs.
pub(super) fn events_rule() -> PolicyRule {
    rule(&["create", "update", "patch"])
        .groups(&["", "events.k8s.io"])
        .resources(&["events"])
        .build()
}

fn sorted(items: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    out.sort();
    out.dedup();
    out
}

/// The metadata of a bootstrap object: its name (and namespace), extra
/// labels, and the bootstrapping label and auto-update annotation.
pub(super) fn metadata(name: &str, namespace: Option<&str>, labels: &[(&str, &str)]) -> ObjectMeta {
    let mut all: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all.insert(BOOTSTRAPPING_LABEL.into(), BOOTSTRAPPING_VALUE.into());
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(all),
        annotations: Some(BTreeMap::from([(
            AUTOUPDATE_ANNOTATION.to_string(),
            "true".to_string(),
        )])),
        ..Default::default()
    }
}

/// A reference to a ClusterRole or Role.
pub(super) fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: RBAC_GROUP.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
    }
}

/// A User subject.
pub(super) fn user(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_GROUP.to_string()),
        kind: "User".to_string(),
        name: name.to_string(),
        namespace: None,
    }
}

/// A Group subject.
pub(super) fn group(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_GROUP.to_string()),
        kind: "Group".to_string(),
        name: name.to_string(),
        namespace: None,
    }
}

/// A ServiceAccount subject.
pub(super) fn service_account(namespace: &str, name: &str) -> Subject {
    Subject {
        api_group: None,
        kind: "ServiceAccount".to_string(),
        name: name.to_string(),
        namespace: Some(namespace.to_string()),
    }
}

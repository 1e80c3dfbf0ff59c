//! Roles, ClusterRoles and their bindings.

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use serde_json::Value;

use super::error::{FieldError, Path};
use super::meta::{s, validate_object_meta};
use super::names::{name_is_dns_subdomain, name_is_path_segment};
use super::selector::{is_convertible, validate_label_selector};

/// The RBAC API group, the only one a roleRef may name.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn validate_rule(rule: &PolicyRule, namespaced: bool, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if rule.verbs.is_empty() {
        errs.push(FieldError::required(
            &path.child("verbs"),
            "verbs must contain at least one value",
        ));
    }
    let urls = rule.non_resource_urls.as_deref().unwrap_or_default();
    let nonempty = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|v| !v.is_empty());
    if !urls.is_empty() {
        let value = || serde_json::to_value(urls).unwrap_or(Value::Null);
        if namespaced {
            errs.push(FieldError::invalid(
                &path.child("nonResourceURLs"),
                value(),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if nonempty(&rule.api_groups) || nonempty(&rule.resources) || nonempty(&rule.resource_names)
        {
            errs.push(FieldError::invalid(
                &path.child("nonResourceURLs"),
                value(),
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return errs;
    }
    if !nonempty(&rule.api_groups) {
        errs.push(FieldError::required(
            &path.child("apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if !nonempty(&rule.resources) {
        errs.push(FieldError::required(
            &path.child("resources"),
            "resource rules must supply at least one resource",
        ));
    }
    errs
}

fn validate_rules(rules: &[PolicyRule], namespaced: bool) -> Vec<FieldError> {
    rules
        .iter()
        .enumerate()
        .flat_map(|(i, r)| validate_rule(r, namespaced, &Path::new("rules").index(i)))
        .collect()
}

/// A Role.
pub fn validate_role(role: &Role, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &role.metadata,
        namespaced,
        name_is_path_segment,
        &Path::new("metadata"),
    );
    errs.extend(validate_rules(
        role.rules.as_deref().unwrap_or_default(),
        true,
    ));
    errs
}

/// A ClusterRole.
pub fn validate_cluster_role(role: &ClusterRole, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &role.metadata,
        namespaced,
        name_is_path_segment,
        &Path::new("metadata"),
    );
    errs.extend(validate_rules(
        role.rules.as_deref().unwrap_or_default(),
        false,
    ));
    if let Some(agg) = &role.aggregation_rule {
        let sp = Path::new("aggregationRule").child("clusterRoleSelectors");
        let selectors = agg.cluster_role_selectors.as_deref().unwrap_or_default();
        if selectors.is_empty() {
            errs.push(FieldError::required(
                &sp,
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            ));
        }
        for (i, sel) in selectors.iter().enumerate() {
            errs.extend(validate_label_selector(sel, &sp.index(i)));
            if !is_convertible(sel) {
                errs.push(FieldError::invalid(
                    &sp.index(i),
                    serde_json::to_value(sel).unwrap_or(Value::Null),
                    "invalid label selector.",
                ));
            }
        }
    }
    errs
}

fn validate_role_ref(r: &RoleRef, kinds: &[&str]) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let rp = Path::new("roleRef");
    if r.api_group != RBAC_GROUP {
        errs.push(FieldError::not_supported(
            &rp.child("apiGroup"),
            r.api_group.as_str(),
            &[RBAC_GROUP],
        ));
    }
    if !kinds.contains(&r.kind.as_str()) {
        errs.push(FieldError::not_supported(
            &rp.child("kind"),
            r.kind.as_str(),
            kinds,
        ));
    }
    if r.name.is_empty() {
        errs.push(FieldError::required(&rp.child("name"), ""));
    } else {
        for m in name_is_path_segment(&r.name, false) {
            errs.push(FieldError::invalid(&rp.child("name"), r.name.as_str(), m));
        }
    }
    errs
}

fn validate_subject(sub: &Subject, namespaced: bool, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if sub.name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    }
    let group = s(&sub.api_group);
    match sub.kind.as_str() {
        "ServiceAccount" => {
            if !sub.name.is_empty() {
                for m in name_is_dns_subdomain(&sub.name, false) {
                    errs.push(FieldError::invalid(
                        &path.child("name"),
                        sub.name.as_str(),
                        m,
                    ));
                }
            }
            if !group.is_empty() {
                errs.push(FieldError::not_supported(
                    &path.child("apiGroup"),
                    group,
                    &[""],
                ));
            }
            if !namespaced && s(&sub.namespace).is_empty() {
                errs.push(FieldError::required(&path.child("namespace"), ""));
            }
        }
        "User" | "Group" => {
            if group != RBAC_GROUP {
                errs.push(FieldError::not_supported(
                    &path.child("apiGroup"),
                    group,
                    &[RBAC_GROUP],
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            &path.child("kind"),
            other,
            &["ServiceAccount", "User", "Group"],
        )),
    }
    errs
}

fn validate_subjects(subjects: &[Subject], namespaced: bool) -> Vec<FieldError> {
    subjects
        .iter()
        .enumerate()
        .flat_map(|(i, sub)| validate_subject(sub, namespaced, &Path::new("subjects").index(i)))
        .collect()
}

/// A RoleBinding.
pub fn validate_role_binding(b: &RoleBinding, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &b.metadata,
        namespaced,
        name_is_path_segment,
        &Path::new("metadata"),
    );
    errs.extend(validate_role_ref(&b.role_ref, &["Role", "ClusterRole"]));
    errs.extend(validate_subjects(
        b.subjects.as_deref().unwrap_or_default(),
        true,
    ));
    errs
}

/// A ClusterRoleBinding.
pub fn validate_cluster_role_binding(b: &ClusterRoleBinding, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &b.metadata,
        namespaced,
        name_is_path_segment,
        &Path::new("metadata"),
    );
    errs.extend(validate_role_ref(&b.role_ref, &["ClusterRole"]));
    errs.extend(validate_subjects(
        b.subjects.as_deref().unwrap_or_default(),
        false,
    ));
    errs
}

/// A binding update: the roleRef cannot change.
pub fn validate_role_ref_update(new: &RoleRef, old: &RoleRef) -> Vec<FieldError> {
    if new == old {
        return Vec::new();
    }
    vec![FieldError::invalid(
        &Path::new("roleRef"),
        serde_json::to_value(new).unwrap_or(Value::Null),
        "cannot change roleRef",
    )]
}

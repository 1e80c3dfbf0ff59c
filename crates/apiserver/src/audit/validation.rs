//! Upstream's `ValidatePolicy`, turning the decoded file into an
//! [`AuditPolicy`].

use ironclad_api::validation::error::{FieldError, Path};
use ironclad_api::validation::names::dns1123_subdomain_errors;
use serde_json::Value;

use super::error::AuditError;
use super::level::{Level, Stage};
use super::policy::{AuditPolicy, GroupResources, PolicyRule};
use super::wire::{FilePolicy, FileRule};

/// Validates the decoded policy and builds it.
pub(crate) fn validate(file: FilePolicy) -> Result<AuditPolicy, AuditError> {
    let mut errs = Vec::new();
    let omit_stages = stages(&file.omit_stages, &Path::new("omitStages"), &mut errs);
    let root = Path::new("rules");
    let rules: Vec<PolicyRule> = file
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| validate_rule(rule, &root.index(i), &mut errs))
        .collect();
    if !errs.is_empty() {
        return Err(AuditError::Invalid(errs));
    }
    if rules.is_empty() {
        return Err(AuditError::NoRules);
    }
    Ok(AuditPolicy::new(
        rules,
        omit_stages,
        file.omit_managed_fields,
    ))
}

fn validate_rule(rule: &FileRule, path: &Path, errs: &mut Vec<FieldError>) -> PolicyRule {
    let level_path = path.child("level");
    let level = match Level::parse(&rule.level) {
        Some(level) => level,
        None if rule.level.is_empty() => {
            errs.push(FieldError::required(&level_path, ""));
            Level::None
        }
        None => {
            let names: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
            errs.push(FieldError::not_supported(
                &level_path,
                rule.level.as_str(),
                &names,
            ));
            Level::None
        }
    };
    let urls_path = path.child("nonResourceURLs");
    for (i, url) in rule.non_resource_urls.iter().enumerate() {
        if url == "*" {
            continue;
        }
        if !url.starts_with('/') {
            errs.push(FieldError::invalid(
                &urls_path.index(i),
                url.as_str(),
                "non-resource URL rules must begin with a '/' character",
            ));
        }
        let mut head = url.chars();
        head.next_back();
        if head.as_str().contains('*') {
            errs.push(FieldError::invalid(
                &urls_path.index(i),
                url.as_str(),
                "non-resource URL wildcards '*' must be the final character of the rule",
            ));
        }
    }
    let resources_path = path.child("resources");
    for gr in &rule.resources {
        if !gr.group.is_empty() {
            let msgs = dns1123_subdomain_errors(&gr.group);
            if !msgs.is_empty() {
                errs.push(FieldError::invalid(
                    &resources_path.child("group"),
                    gr.group.as_str(),
                    msgs.join(","),
                ));
            }
        }
        if !gr.resource_names.is_empty() && gr.resources.is_empty() {
            errs.push(FieldError::invalid(
                &resources_path.child("resourceNames"),
                Value::from(gr.resource_names.clone()),
                "using resourceNames requires at least one resource",
            ));
        }
    }
    let omit_stages = stages(&rule.omit_stages, &path.child("omitStages"), errs);
    if !rule.non_resource_urls.is_empty()
        && (!rule.resources.is_empty() || !rule.namespaces.is_empty())
    {
        errs.push(FieldError::invalid(
            &urls_path,
            Value::from(rule.non_resource_urls.clone()),
            "rules cannot apply to both regular resources and non-resource URLs",
        ));
    }
    PolicyRule {
        level,
        users: rule.users.clone(),
        user_groups: rule.user_groups.clone(),
        verbs: rule.verbs.clone(),
        resources: rule
            .resources
            .iter()
            .map(|gr| GroupResources {
                group: gr.group.clone(),
                resources: gr.resources.clone(),
                resource_names: gr.resource_names.clone(),
            })
            .collect(),
        namespaces: rule.namespaces.clone(),
        non_resource_urls: rule.non_resource_urls.clone(),
        omit_stages,
        omit_managed_fields: rule.omit_managed_fields,
    }
}

fn stages(names: &[String], path: &Path, errs: &mut Vec<FieldError>) -> Vec<Stage> {
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        match Stage::parse(name) {
            Some(stage) => out.push(stage),
            None => errs.push(FieldError::invalid(
                &path.index(i),
                name.as_str(),
                "allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic",
            )),
        }
    }
    out
}

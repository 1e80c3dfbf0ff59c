//! Deployments, ReplicaSets, ReplicationControllers, PodTemplates and
//! ControllerRevisions.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, DeploymentStrategy, ReplicaSet};
use k8s_openapi::api::core::v1::{PodTemplate, PodTemplateSpec, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::error::{FieldError, Path};
use super::fields::nonnegative;
use super::meta::{immutable, validate_labels, validate_object_meta};
use super::names::{name_is_dns_subdomain, percent_errors};
use super::pod::validate_pod_template_spec;
use super::selector::{
    is_convertible, is_empty_selector, map_selector_matches, selector_matches,
    validate_label_selector,
};

/// `spec.template.metadata.labels` must be selected by the selector.
pub(crate) fn selector_mismatch(template: &PodTemplateSpec, path: &Path) -> FieldError {
    let labels = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    FieldError::invalid(
        &path.child("metadata").child("labels"),
        serde_json::to_value(labels).unwrap_or(Value::Null),
        "`selector` does not match template `labels`",
    )
}

pub(crate) fn template_labels(t: &PodTemplateSpec) -> BTreeMap<String, String> {
    t.metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

/// A selector that must select something. (A missing one decodes as empty;
/// the caller, which sees the JSON, reports that as `Required`.)
fn required_selector(sel: &LabelSelector, path: &Path) -> Vec<FieldError> {
    let mut errs = validate_label_selector(sel, path);
    if is_empty_selector(sel) {
        errs.push(FieldError::invalid(
            path,
            serde_json::to_value(sel).unwrap_or(Value::Null),
            "empty selector is invalid for deployment",
        ));
    }
    errs
}

/// The template of a ReplicaSet or Deployment.
fn replica_template(
    template: &PodTemplateSpec,
    sel: &LabelSelector,
    path: &Path,
    kind: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !is_convertible(sel) {
        return vec![FieldError::invalid(
            &path.child("selector"),
            serde_json::to_value(sel).unwrap_or(Value::Null),
            "invalid label selector",
        )];
    }
    let tp = path.child("template");
    if !is_empty_selector(sel) && !selector_matches(sel, &template_labels(template)) {
        errs.push(selector_mismatch(template, &tp));
    }
    errs.extend(validate_pod_template_spec(template, &tp));
    errs.extend(always_restart(template, &tp, kind));
    errs
}

/// Pods of replicated workloads must restart always and have no deadline.
/// (ReplicaSets and Deployments report the deadline as Invalid, the other
/// kinds as Forbidden, as upstream does.)
pub(crate) fn always_restart(template: &PodTemplateSpec, tp: &Path, kind: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = super::pod::spec_or_default(template.spec.as_ref());
    let restart = spec.restart_policy.as_deref().unwrap_or("");
    if restart != "Always" {
        errs.push(FieldError::not_supported(
            &tp.child("spec").child("restartPolicy"),
            restart,
            &["Always"],
        ));
    }
    if let Some(a) = spec.active_deadline_seconds {
        let p = tp.child("spec").child("activeDeadlineSeconds");
        let msg = format!("activeDeadlineSeconds in {kind} is not Supported");
        errs.push(
            if matches!(kind, "ReplicationController" | "DaemonSet" | "StatefulSet") {
                FieldError::forbidden(&p, msg)
            } else {
                FieldError::invalid(&p, a, msg)
            },
        );
    }
    errs
}

/// Upstream's `ValidatePositiveIntOrPercent`: a non-negative number or a
/// valid percentage.
pub(crate) fn int_or_percent(v: &IntOrString, path: &Path) -> Vec<FieldError> {
    match v {
        IntOrString::String(s) => percent_errors(s)
            .into_iter()
            .map(|m| FieldError::invalid(path, s.as_str(), m))
            .collect(),
        IntOrString::Int(n) => nonnegative(i64::from(*n), path).into_iter().collect(),
    }
}

fn int_or_percent_value(v: Option<&IntOrString>) -> i64 {
    match v {
        Some(IntOrString::Int(n)) => i64::from(*n),
        Some(IntOrString::String(s)) => s.trim_end_matches('%').parse().unwrap_or(-1),
        None => 0,
    }
}

fn validate_strategy(strategy: &DeploymentStrategy, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match strategy.type_.as_deref().unwrap_or("") {
        "Recreate" => {
            if strategy.rolling_update.is_some() {
                errs.push(FieldError::forbidden(
                    &path.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match &strategy.rolling_update {
            None => errs.push(FieldError::required(
                &path.child("rollingUpdate"),
                "this should be defaulted and never be nil",
            )),
            Some(ru) => {
                let rp = path.child("rollingUpdate");
                let mu = rp.child("maxUnavailable");
                if let Some(v) = &ru.max_unavailable {
                    errs.extend(int_or_percent(v, &mu));
                }
                if let Some(v) = &ru.max_surge {
                    errs.extend(int_or_percent(v, &rp.child("maxSurge")));
                }
                let unavailable = int_or_percent_value(ru.max_unavailable.as_ref());
                if unavailable == 0 && int_or_percent_value(ru.max_surge.as_ref()) == 0 {
                    errs.push(FieldError::invalid(
                        &mu,
                        serde_json::to_value(&ru.max_unavailable).unwrap_or(Value::Null),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                if matches!(&ru.max_unavailable, Some(IntOrString::String(_))) && unavailable > 100
                {
                    errs.push(FieldError::invalid(
                        &mu,
                        serde_json::to_value(&ru.max_unavailable).unwrap_or(Value::Null),
                        "must not be greater than 100%",
                    ));
                }
            }
        },
        // Upstream reports the whole strategy on the strategy's path.
        _ => errs.push(FieldError::not_supported(
            path,
            serde_json::to_value(strategy).unwrap_or(Value::Null),
            &["Recreate", "RollingUpdate"],
        )),
    }
    errs
}

/// A Deployment.
pub fn validate_deployment(d: &Deployment, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &d.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let spec = d.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    errs.extend(nonnegative(
        i64::from(spec.replicas.unwrap_or(0)),
        &sp.child("replicas"),
    ));
    errs.extend(required_selector(&spec.selector, &sp.child("selector")));
    errs.extend(replica_template(
        &spec.template,
        &spec.selector,
        &sp,
        "Deployment",
    ));
    errs.extend(validate_strategy(
        &spec.strategy.clone().unwrap_or_default(),
        &sp.child("strategy"),
    ));
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    errs.extend(nonnegative(
        i64::from(min_ready),
        &sp.child("minReadySeconds"),
    ));
    if let Some(r) = spec.revision_history_limit {
        errs.extend(nonnegative(i64::from(r), &sp.child("revisionHistoryLimit")));
    }
    if let Some(p) = spec.progress_deadline_seconds {
        let pp = sp.child("progressDeadlineSeconds");
        errs.extend(nonnegative(i64::from(p), &pp));
        if p <= min_ready {
            errs.push(FieldError::invalid(
                &pp,
                p,
                "must be greater than minReadySeconds",
            ));
        }
    }
    errs
}

/// A Deployment update: the selector is immutable.
pub fn validate_deployment_update(new: &Deployment, old: &Deployment) -> Vec<FieldError> {
    let n = new.spec.as_ref().map(|s| &s.selector);
    let o = old.spec.as_ref().map(|s| &s.selector);
    immutable(&n, &o, &Path::new("spec").child("selector"))
        .into_iter()
        .collect()
}

/// A ReplicaSet.
pub fn validate_replica_set(rs: &ReplicaSet, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &rs.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let spec = rs.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    errs.extend(nonnegative(
        i64::from(spec.replicas.unwrap_or(0)),
        &sp.child("replicas"),
    ));
    errs.extend(nonnegative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        &sp.child("minReadySeconds"),
    ));
    errs.extend(required_selector(&spec.selector, &sp.child("selector")));
    let template = spec.template.clone().unwrap_or_default();
    errs.extend(replica_template(
        &template,
        &spec.selector,
        &sp,
        "ReplicaSet",
    ));
    errs
}

/// A ReplicaSet update: the selector is immutable.
pub fn validate_replica_set_update(new: &ReplicaSet, old: &ReplicaSet) -> Vec<FieldError> {
    let n = new.spec.as_ref().map(|s| &s.selector);
    let o = old.spec.as_ref().map(|s| &s.selector);
    immutable(&n, &o, &Path::new("spec").child("selector"))
        .into_iter()
        .collect()
}

/// A ReplicationController.
pub fn validate_replication_controller(
    rc: &ReplicationController,
    namespaced: bool,
) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &rc.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let spec = rc.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    errs.extend(nonnegative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        &sp.child("minReadySeconds"),
    ));
    let selector = spec.selector.clone().unwrap_or_default();
    if selector.is_empty() {
        errs.push(FieldError::required(&sp.child("selector"), ""));
    }
    errs.extend(validate_labels(Some(&selector), &sp.child("selector")));
    errs.extend(nonnegative(
        i64::from(spec.replicas.unwrap_or(0)),
        &sp.child("replicas"),
    ));
    let tp = sp.child("template");
    match &spec.template {
        None => errs.push(FieldError::required(&tp, "")),
        Some(t) => {
            if !selector.is_empty() && !map_selector_matches(&selector, &template_labels(t)) {
                errs.push(selector_mismatch(t, &tp));
            }
            errs.extend(validate_pod_template_spec(t, &tp));
            errs.extend(always_restart(t, &tp, "ReplicationController"));
        }
    }
    errs
}

/// A PodTemplate.
pub fn validate_pod_template(pt: &PodTemplate, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &pt.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    errs.extend(validate_pod_template_spec(
        &pt.template.clone().unwrap_or_default(),
        &Path::new("template"),
    ));
    errs
}

/// A ControllerRevision.
pub fn validate_controller_revision(cr: &ControllerRevision, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &cr.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    if cr.data.is_none() {
        errs.push(FieldError::required(
            &Path::new("data"),
            "data is mandatory",
        ));
    }
    errs.extend(nonnegative(cr.revision, &Path::new("revision")));
    errs
}

/// A ControllerRevision update: the data is immutable.
pub fn validate_controller_revision_update(
    new: &ControllerRevision,
    old: &ControllerRevision,
) -> Vec<FieldError> {
    immutable(&new.data, &old.data, &Path::new("data"))
        .into_iter()
        .collect()
}

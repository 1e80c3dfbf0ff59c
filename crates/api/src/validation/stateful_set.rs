//! StatefulSets (upstream's `ValidateStatefulSet`, Kubernetes 1.33): the
//! pod management policy, update strategy, claim retention, counts and
//! selector. As in 1.33, the pod template's spec is not validated beyond
//! its restart policy and deadline (its volume mounts may name claim
//! templates, which pod validation would refuse); only its labels and
//! annotations are.

use k8s_openapi::api::apps::v1::{
    RollingUpdateStatefulSetStrategy, StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetSpec, StatefulSetUpdateStrategy,
};
use serde_json::Value;

use super::error::{FieldError, Path};
use super::fields::nonnegative;
use super::meta::{validate_annotations, validate_labels, validate_object_meta};
use super::names::name_is_dns_label;
use super::rolling::{not_more_than_100_percent, value_of};
use super::selector::{
    is_convertible, is_empty_selector, selector_matches, validate_label_selector,
};
use super::workloads::{always_restart, int_or_percent, selector_mismatch, template_labels};

/// The detail of an empty selector; a missing one (which the typed object
/// cannot tell from an empty one) is reported by the caller instead.
pub(crate) const EMPTY_SELECTOR: &str = "empty selector is invalid for statefulset";

/// What an update may change in the spec, as upstream words it.
const UPDATABLE: &str = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn validate_rolling_update(ru: &RollingUpdateStatefulSetStrategy, path: &Path) -> Vec<FieldError> {
    let mut errs: Vec<FieldError> = nonnegative(
        i64::from(ru.partition.unwrap_or(0)),
        &path.child("partition"),
    )
    .into_iter()
    .collect();
    if let Some(mu) = &ru.max_unavailable {
        let p = path.child("maxUnavailable");
        errs.extend(int_or_percent(mu, &p));
        if value_of(mu) == 0 {
            errs.push(FieldError::invalid(&p, to_value(mu), "cannot be 0"));
        }
        errs.extend(not_more_than_100_percent(mu, &p));
    }
    errs
}

fn validate_update_strategy(strategy: &StatefulSetUpdateStrategy, path: &Path) -> Vec<FieldError> {
    match strategy.type_.as_deref().unwrap_or("") {
        "" => vec![FieldError::required(path, "")],
        "OnDelete" => match &strategy.rolling_update {
            Some(ru) => vec![FieldError::invalid(
                &path.child("rollingUpdate"),
                to_value(ru),
                "only allowed for updateStrategy 'RollingUpdate'",
            )],
            None => Vec::new(),
        },
        "RollingUpdate" => strategy
            .rolling_update
            .as_ref()
            .map(|ru| validate_rolling_update(ru, &path.child("rollingUpdate")))
            .unwrap_or_default(),
        _ => vec![FieldError::invalid(
            path,
            to_value(strategy),
            "must be 'RollingUpdate' or 'OnDelete'",
        )],
    }
}

fn validate_retention(
    policy: Option<&StatefulSetPersistentVolumeClaimRetentionPolicy>,
    path: &Path,
) -> Vec<FieldError> {
    let Some(policy) = policy else {
        return Vec::new();
    };
    [
        ("whenDeleted", &policy.when_deleted),
        ("whenScaled", &policy.when_scaled),
    ]
    .into_iter()
    .filter_map(|(field, v)| {
        let v = v.as_deref().unwrap_or("");
        (v != "Retain" && v != "Delete")
            .then(|| FieldError::not_supported(&path.child(field), v, &["Retain", "Delete"]))
    })
    .collect()
}

fn validate_spec(spec: &StatefulSetSpec, sp: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let policy = sp.child("podManagementPolicy");
    match spec.pod_management_policy.as_deref().unwrap_or("") {
        "" => errs.push(FieldError::required(&policy, "")),
        "OrderedReady" | "Parallel" => {}
        other => errs.push(FieldError::invalid(
            &policy,
            other,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    errs.extend(validate_update_strategy(
        &spec.update_strategy.clone().unwrap_or_default(),
        &sp.child("updateStrategy"),
    ));
    errs.extend(validate_retention(
        spec.persistent_volume_claim_retention_policy.as_ref(),
        &sp.child("persistentVolumeClaimRetentionPolicy"),
    ));
    for (field, v) in [
        ("replicas", spec.replicas),
        ("minReadySeconds", spec.min_ready_seconds),
    ] {
        errs.extend(nonnegative(i64::from(v.unwrap_or(0)), &sp.child(field)));
    }
    if let Some(o) = &spec.ordinals {
        // Upstream names the field as one path element.
        errs.extend(nonnegative(
            i64::from(o.start.unwrap_or(0)),
            &sp.child("ordinals.start"),
        ));
    }
    let selector = &spec.selector;
    let sel_path = sp.child("selector");
    errs.extend(validate_label_selector(selector, &sel_path));
    if is_empty_selector(selector) {
        errs.push(FieldError::invalid(
            &sel_path,
            to_value(selector),
            EMPTY_SELECTOR,
        ));
    }
    let tp = sp.child("template");
    if !is_convertible(selector) {
        errs.push(FieldError::invalid(&sel_path, to_value(selector), ""));
    } else {
        let template = &spec.template;
        // An empty selector selects everything; only a real one is checked.
        if !is_empty_selector(selector) && !selector_matches(selector, &template_labels(template)) {
            errs.push(selector_mismatch(template, &tp));
        }
        let meta = template.metadata.as_ref();
        errs.extend(validate_labels(
            meta.and_then(|m| m.labels.as_ref()),
            &tp.child("labels"),
        ));
        errs.extend(validate_annotations(
            meta.and_then(|m| m.annotations.as_ref()),
            &tp.child("annotations"),
        ));
    }
    errs.extend(always_restart(&spec.template, &tp, "StatefulSet"));
    errs
}

/// A StatefulSet. Its name must be a DNS label: it prefixes its pods'
/// hostnames.
pub fn validate_stateful_set(sts: &StatefulSet, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &sts.metadata,
        namespaced,
        name_is_dns_label,
        &Path::new("metadata"),
    );
    errs.extend(validate_spec(
        &sts.spec.clone().unwrap_or_default(),
        &Path::new("spec"),
    ));
    errs
}

/// A StatefulSet update: only the replicas, ordinals, template, update
/// strategy, claim retention policy and minReadySeconds may change.
pub fn validate_stateful_set_update(new: &StatefulSet, old: &StatefulSet) -> Vec<FieldError> {
    let old_spec = old.spec.clone().unwrap_or_default();
    let mut kept = new.spec.clone().unwrap_or_default();
    kept.replicas = old_spec.replicas;
    kept.template = old_spec.template.clone();
    kept.update_strategy = old_spec.update_strategy.clone();
    kept.min_ready_seconds = old_spec.min_ready_seconds;
    kept.ordinals = old_spec.ordinals.clone();
    kept.persistent_volume_claim_retention_policy =
        old_spec.persistent_volume_claim_retention_policy.clone();
    if kept == old_spec {
        Vec::new()
    } else {
        vec![FieldError::forbidden(&Path::new("spec"), UPDATABLE)]
    }
}

//! DaemonSets (upstream's `ValidateDaemonSet`): the selector, the pod
//! template, and the update strategy, whose rolling update moves exactly
//! one of `maxUnavailable` and `maxSurge`.

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetUpdateStrategy};
use serde_json::Value;

use super::error::{FieldError, Path};
use super::fields::nonnegative;
use super::meta::{immutable, validate_object_meta};
use super::names::name_is_dns_subdomain;
use super::pod::validate_pod_template_spec;
use super::rolling::{not_more_than_100_percent, value_of};
use super::selector::{
    is_convertible, is_empty_selector, selector_matches, validate_label_selector,
};
use super::workloads::{always_restart, int_or_percent, selector_mismatch, template_labels};

/// The detail of an empty selector; a missing one (which the typed object
/// cannot tell from an empty one) is reported by the caller instead.
pub(crate) const EMPTY_SELECTOR: &str = "empty selector is invalid for daemonset";

fn validate_update_strategy(strategy: &DaemonSetUpdateStrategy, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match strategy.type_.as_deref().unwrap_or("") {
        "OnDelete" => {}
        "RollingUpdate" => {
            let Some(ru) = &strategy.rolling_update else {
                return vec![FieldError::required(&path.child("rollingUpdate"), "")];
            };
            let rp = path.child("rollingUpdate");
            let (mu, ms) = (rp.child("maxUnavailable"), rp.child("maxSurge"));
            // Both default to a value; a missing one reads as zero.
            let zero = Default::default();
            let unavailable = ru.max_unavailable.as_ref().unwrap_or(&zero);
            let surge = ru.max_surge.as_ref().unwrap_or(&zero);
            errs.extend(int_or_percent(unavailable, &mu));
            errs.extend(int_or_percent(surge, &ms));
            errs.extend(not_more_than_100_percent(unavailable, &mu));
            errs.extend(not_more_than_100_percent(surge, &ms));
            match (value_of(unavailable) != 0, value_of(surge) != 0) {
                (true, true) => errs.push(FieldError::invalid(
                    &ms,
                    serde_json::to_value(surge).unwrap_or(Value::Null),
                    "may not be set when maxUnavailable is non-zero",
                )),
                (false, false) => {
                    errs.push(FieldError::required(&mu, "cannot be 0 when maxSurge is 0"))
                }
                _ => {}
            }
        }
        // Upstream reports the whole strategy on the strategy's path.
        _ => errs.push(FieldError::not_supported(
            path,
            serde_json::to_value(strategy).unwrap_or(Value::Null),
            &["RollingUpdate", "OnDelete"],
        )),
    }
    errs
}

/// A DaemonSet.
pub fn validate_daemon_set(ds: &DaemonSet, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &ds.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let spec = ds.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let selector = &spec.selector;
    errs.extend(validate_label_selector(selector, &sp.child("selector")));
    let tp = sp.child("template");
    if is_convertible(selector) && !selector_matches(selector, &template_labels(&spec.template)) {
        errs.push(selector_mismatch(&spec.template, &tp));
    }
    if is_empty_selector(selector) {
        errs.push(FieldError::invalid(
            &sp.child("selector"),
            serde_json::to_value(selector).unwrap_or(Value::Null),
            EMPTY_SELECTOR,
        ));
    }
    errs.extend(validate_pod_template_spec(&spec.template, &tp));
    errs.extend(always_restart(&spec.template, &tp, "DaemonSet"));
    errs.extend(nonnegative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        &sp.child("minReadySeconds"),
    ));
    errs.extend(validate_update_strategy(
        &spec.update_strategy.clone().unwrap_or_default(),
        &sp.child("updateStrategy"),
    ));
    if let Some(r) = spec.revision_history_limit {
        errs.extend(nonnegative(i64::from(r), &sp.child("revisionHistoryLimit")));
    }
    errs
}

/// A DaemonSet update: apps/v1 does not let the selector change.
pub fn validate_daemon_set_update(new: &DaemonSet, old: &DaemonSet) -> Vec<FieldError> {
    let n = new.spec.as_ref().map(|s| &s.selector);
    let o = old.spec.as_ref().map(|s| &s.selector);
    immutable(&n, &o, &Path::new("spec").child("selector"))
        .into_iter()
        .collect()
}

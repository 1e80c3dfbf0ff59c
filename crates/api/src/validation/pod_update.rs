//! What a pod update may change: container images, a shorter
//! activeDeadlineSeconds, added tolerations, removed scheduling gates —
//! nothing else of the spec.

use k8s_openapi::api::core::v1::{Container, PodSpec, Toleration};
use serde_json::Value;

use super::error::{FieldError, Path};
use super::pod::validate_tolerations;

const POD_UPDATE_MSG: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

fn container_updates(new: &[Container], old: &[Container], path: &Path) -> (Vec<FieldError>, bool) {
    if new.len() != old.len() {
        return (
            vec![FieldError::forbidden(
                path,
                "pod updates may not add or remove containers",
            )],
            true,
        );
    }
    let mut errs = Vec::new();
    for (i, c) in new.iter().enumerate() {
        let image = c.image.as_deref().unwrap_or("");
        if image.is_empty() {
            errs.push(FieldError::required(&path.index(i).child("image"), ""));
        }
        if image.trim() != image {
            errs.push(FieldError::invalid(
                &path.index(i).child("image"),
                image,
                "must not have leading or trailing whitespace",
            ));
        }
    }
    (errs, false)
}

fn only_added_tolerations(new: &[Toleration], old: &[Toleration], path: &Path) -> Vec<FieldError> {
    for o in old {
        let kept = new.iter().any(|n| {
            let mut o = o.clone();
            o.toleration_seconds = n.toleration_seconds;
            o == *n
        });
        if !kept {
            return vec![FieldError::forbidden(
                path,
                "existing toleration can not be modified except its tolerationSeconds",
            )];
        }
    }
    validate_tolerations(new, path)
}

/// Drops nulls and empty lists and maps, which upstream's semantic equality
/// treats as absent.
pub(crate) fn prune(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(prune).collect()),
        other => other,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// Lines `- path: old` / `+ path: new` for the fields that differ.
fn diff(old: &Value, new: &Value, path: &str, out: &mut Vec<String>) {
    if out.len() >= 20 || old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = format!("{path}.{k}");
                diff(
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    &p,
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ => {
            if !old.is_null() {
                out.push(format!("- {path}: {old}"));
            }
            if !new.is_null() {
                out.push(format!("+ {path}: {new}"));
            }
        }
    }
}

/// The pod spec rules of an update.
pub fn validate_pod_spec_update(new: &PodSpec, old: &PodSpec) -> Vec<FieldError> {
    let sp = Path::new("spec");
    let mut errs = Vec::new();
    let (e, stop) = container_updates(&new.containers, &old.containers, &sp.child("containers"));
    errs.extend(e);
    if stop {
        return errs;
    }
    let (e, stop) = container_updates(
        new.init_containers.as_deref().unwrap_or_default(),
        old.init_containers.as_deref().unwrap_or_default(),
        &sp.child("initContainers"),
    );
    errs.extend(e);
    if stop {
        return errs;
    }
    let adp = sp.child("activeDeadlineSeconds");
    match (new.active_deadline_seconds, old.active_deadline_seconds) {
        (Some(n), _) if !(0..=i64::from(i32::MAX)).contains(&n) => {
            errs.push(FieldError::invalid(
                &adp,
                n,
                super::names::inclusive_range_error(0, i64::from(i32::MAX)),
            ));
            return errs;
        }
        (Some(n), Some(o)) if o < n => {
            errs.push(FieldError::invalid(
                &adp,
                n,
                "must be less than or equal to previous value",
            ));
            return errs;
        }
        (None, Some(_)) => errs.push(FieldError::invalid(
            &adp,
            Value::Null,
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
    let old_gates = old.scheduling_gates.as_deref().unwrap_or_default();
    for (i, g) in new.scheduling_gates.iter().flatten().enumerate() {
        if !old_gates.iter().any(|o| o.name == g.name) {
            errs.push(FieldError::forbidden(
                &sp.child("schedulingGates").index(i),
                format!(
                    "only deletion is allowed, but found new scheduling gate '{}'",
                    g.name
                ),
            ));
        }
    }
    errs.extend(only_added_tolerations(
        new.tolerations.as_deref().unwrap_or_default(),
        old.tolerations.as_deref().unwrap_or_default(),
        &sp.child("tolerations"),
    ));

    let mut munged = new.clone();
    for (c, o) in munged.containers.iter_mut().zip(&old.containers) {
        c.image.clone_from(&o.image);
    }
    if let (Some(cs), Some(os)) = (
        munged.init_containers.as_mut(),
        old.init_containers.as_ref(),
    ) {
        for (c, o) in cs.iter_mut().zip(os) {
            c.image.clone_from(&o.image);
        }
    }
    munged.active_deadline_seconds = old.active_deadline_seconds;
    munged.scheduling_gates.clone_from(&old.scheduling_gates);
    munged.tolerations.clone_from(&old.tolerations);
    if old.termination_grace_period_seconds.is_some_and(|g| g < 0)
        && munged.termination_grace_period_seconds == Some(1)
    {
        munged.termination_grace_period_seconds = old.termination_grace_period_seconds;
    }
    let a = prune(serde_json::to_value(old).unwrap_or(Value::Null));
    let b = prune(serde_json::to_value(&munged).unwrap_or(Value::Null));
    if a != b {
        let mut lines = Vec::new();
        diff(&a, &b, "spec", &mut lines);
        errs.push(FieldError::forbidden(
            &sp,
            format!("{POD_UPDATE_MSG}\n{}", lines.join("\n")),
        ));
    }
    errs
}

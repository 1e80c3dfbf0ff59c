//! Server-side apply (structured-merge-diff semantics): the applied
//! configuration is merged into the live object, the applier then owns
//! exactly the fields it applied, fields it applied before but no longer
//! does are removed unless another manager owns them, and changing a field
//! another manager owns to a different value is a conflict unless forced
//! (then ownership moves).

use std::fmt;

use serde_json::Value;

use crate::fieldpath::{FieldSet, path_string};
use crate::json::check_depth;
use crate::managed::{
    APPLY, Entry, UPDATE, cap_update_managers, decode, store, strip_untracked, take_managed_fields,
};
use crate::ty::Ty;
use crate::typed::{
    Strictness, compare, ensure_named_fields, field_set, merge, remove, strip_nulls,
};

/// A field another manager owns that an apply would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyConflict {
    /// The other manager's name (`kubectl`).
    pub manager: String,
    /// The field, as upstream prints it (`.data.shared`,
    /// `.spec.containers[name="c"].image`).
    pub field: String,
    /// The other manager's operation: `Apply` or `Update`.
    pub operation: String,
    /// The API version of the other manager's `Update` entry.
    pub api_version: String,
    /// The subresource the other manager wrote through, if any.
    pub subresource: Option<String>,
}

impl ApplyConflict {
    /// How upstream names the manager: `"kubectl"`, `"kube-controller"
    /// with subresource "status"`, or for an update `"kubectl-edit" using
    /// apps/v1`.
    pub fn manager_description(&self) -> String {
        let mut out = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            out.push_str(&format!(" with subresource {sub:?}"));
        }
        if self.operation == UPDATE {
            out.push_str(&format!(" using {}", self.api_version));
        }
        out
    }

    /// The message of the conflict's status cause (`conflict with
    /// "kubectl"`); its field is [`ApplyConflict::field`] and its type
    /// `FieldManagerConflict`.
    pub fn message(&self) -> String {
        format!("conflict with {}", self.manager_description())
    }
}

/// Why an apply failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyError {
    /// Fields other managers own would change (upstream answers 409).
    Conflicts(Vec<ApplyConflict>),
    /// The applied configuration or the live object is unusable (422, or
    /// 400 for a configuration carrying managedFields).
    Invalid(String),
}

impl fmt::Display for ApplyError {
    /// Upstream's message: `Apply failed with 1 conflict: conflict with
    /// "kubectl": .data.shared`, or for several a list per manager.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::Invalid(msg) => f.write_str(msg),
            ApplyError::Conflicts(conflicts) => match conflicts.as_slice() {
                [one] => write!(
                    f,
                    "Apply failed with 1 conflict: {}: {}",
                    one.message(),
                    one.field
                ),
                many => {
                    write!(f, "Apply failed with {} conflicts: ", many.len())?;
                    let mut lines: Vec<String> = Vec::new();
                    let mut last: Option<String> = None;
                    for c in many {
                        let m = c.message();
                        if last.as_ref() != Some(&m) {
                            lines.push(format!("{m}:"));
                            last = Some(m);
                        }
                        lines.push(format!("- {}", c.field));
                    }
                    f.write_str(&lines.join("\n"))
                }
            },
        }
    }
}

impl std::error::Error for ApplyError {}

/// Applies `applied` (an object of the definition `type_name`) for
/// `manager`, creating the object when `live` is `None`. Returns the new
/// object with `metadata.managedFields` updated; `now` (RFC 3339) stamps
/// the applier's entry when the object changed.
pub fn server_side_apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    type_name: &str,
    now: &str,
) -> Result<Value, ApplyError> {
    server_side_apply_subresource(live, applied, manager, None, force, type_name, now)
}

/// [`server_side_apply`] through a subresource (`status`), recorded in the
/// applier's entry.
pub fn server_side_apply_subresource(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    subresource: Option<&str>,
    force: bool,
    type_name: &str,
    now: &str,
) -> Result<Value, ApplyError> {
    check_depth(applied).map_err(|e| ApplyError::Invalid(e.to_string()))?;
    if !applied.is_object() {
        return Err(ApplyError::Invalid(
            "the applied configuration must be a JSON object".into(),
        ));
    }
    if applied
        .get("metadata")
        .and_then(|m| m.get("managedFields"))
        .is_some_and(|m| !m.is_null())
    {
        return Err(ApplyError::Invalid(
            "metadata.managedFields must be nil".into(),
        ));
    }
    let ty = Ty::root_or_untyped(type_name);

    let mut live_obj = match live {
        Some(v @ Value::Object(_)) => {
            check_depth(v).map_err(|e| ApplyError::Invalid(e.to_string()))?;
            v.clone()
        }
        Some(_) => {
            return Err(ApplyError::Invalid(
                "the live object is not a JSON object".into(),
            ));
        }
        None => Value::Object(Default::default()),
    };
    let mut entries = decode(take_managed_fields(&mut live_obj).as_ref())
        .map_err(|e| ApplyError::Invalid(format!("failed to decode managed fields: {e}")))?;

    let mut applied_set = field_set(applied, ty, Strictness::Strict)
        .map_err(|e| ApplyError::Invalid(format!("failed to create typed patch object: {e}")))?;
    strip_untracked(&mut applied_set);

    let me = Entry {
        manager: manager.to_string(),
        operation: APPLY.into(),
        api_version: applied
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        subresource: subresource.unwrap_or_default().to_string(),
        time: Some(now.to_string()),
        set: applied_set.clone(),
    };
    let previous = entries
        .iter()
        .position(|e| e.same_manager(&me))
        .map(|i| entries.remove(i));

    // Merge, then prune what the applier stopped applying and nobody owns.
    let mut new_obj = merge(&live_obj, applied, ty);
    if let Some(last) = previous.as_ref().filter(|p| !p.set.is_empty()) {
        let owned = entries
            .iter()
            .fold(applied_set.clone(), |acc, e| acc.union(&e.set));
        let prune = ensure_named_fields(&last.set, ty).difference(&ensure_named_fields(&owned, ty));
        new_obj = remove(&new_obj, &prune, ty);
    }
    strip_nulls(&mut new_obj, ty);

    let diff = compare(&live_obj, &new_obj, ty);
    let changed = diff.modified.union(&diff.added);
    let mut conflicts = Vec::new();
    for e in &entries {
        let taken: FieldSet = e.set.intersection(&changed);
        for path in taken.paths() {
            conflicts.push(ApplyConflict {
                manager: e.manager.clone(),
                field: path_string(&path),
                operation: e.operation.clone(),
                api_version: e.api_version.clone(),
                subresource: Some(e.subresource.clone()).filter(|s| !s.is_empty()),
            });
        }
    }
    if !conflicts.is_empty() && !force {
        conflicts.sort_by(|a, b| (a.message(), &a.field).cmp(&(b.message(), &b.field)));
        return Err(ApplyError::Conflicts(conflicts));
    }
    for e in entries.iter_mut() {
        e.set = e.set.difference(&changed).difference(&diff.removed);
    }

    // A no-op apply keeps the entry's time, as upstream does.
    let unchanged = diff.added.is_empty() && diff.modified.is_empty() && diff.removed.is_empty();
    let time = match &previous {
        Some(p) if unchanged => p.time.clone(),
        _ => me.time.clone(),
    };
    entries.push(Entry { time, ..me });
    entries.retain(|e| !e.set.is_empty());
    cap_update_managers(&mut entries);
    if let Value::Object(map) = &mut new_obj
        && !map.get("metadata").is_some_and(Value::is_object)
    {
        map.insert("metadata".into(), Value::Object(Default::default()));
    }
    store(&mut new_obj, entries);
    Ok(new_obj)
}

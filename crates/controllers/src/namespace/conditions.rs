//! The status conditions the namespace controller keeps on a terminating
//! namespace, as upstream's deleter writes them: one of each type, `False`
//! with an "ok" reason when that part went well, `True` with what is
//! wrong otherwise.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{NamespaceCondition, NamespaceStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Discovery of the resources failed for some groups.
pub const DISCOVERY_FAILURE: &str = "NamespaceDeletionDiscoveryFailure";
/// Group versions could not be parsed.
pub const GV_PARSING_FAILURE: &str = "NamespaceDeletionGroupVersionParsingFailure";
/// Deleting some resources failed.
pub const CONTENT_FAILURE: &str = "NamespaceDeletionContentFailure";
/// Some objects are still in the namespace.
pub const CONTENT_REMAINING: &str = "NamespaceContentRemaining";
/// Some objects left are held by finalizers.
pub const FINALIZERS_REMAINING: &str = "NamespaceFinalizersRemaining";

/// Every type, in upstream's order, with its "ok" reason and message.
const OK: &[(&str, &str, &str)] = &[
    (
        DISCOVERY_FAILURE,
        "ResourcesDiscovered",
        "All resources successfully discovered",
    ),
    (
        GV_PARSING_FAILURE,
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed",
    ),
    (
        CONTENT_FAILURE,
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
    ),
    (
        CONTENT_REMAINING,
        "ContentRemoved",
        "All content successfully removed",
    ),
    (
        FINALIZERS_REMAINING,
        "ContentHasNoFinalizers",
        "All content-preserving finalizers finished",
    ),
];

/// What one pass over a namespace's content found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Discovery failed: why.
    pub discovery_error: Option<String>,
    /// Errors deleting or listing resources.
    pub delete_errors: Vec<String>,
    /// Objects left, by `plural.group`.
    pub remaining: BTreeMap<String, usize>,
    /// Objects left, by finalizer holding them.
    pub finalizers: BTreeMap<String, usize>,
}

impl Findings {
    /// The failing conditions (types not listed are ok).
    fn failing(&self) -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        if let Some(e) = &self.discovery_error {
            out.push((
                DISCOVERY_FAILURE,
                "DiscoveryFailed".to_string(),
                format!("Discovery failed for some groups, 1 failing: {e}"),
            ));
        }
        if !self.delete_errors.is_empty() {
            let all = if self.delete_errors.len() == 1 {
                self.delete_errors[0].clone()
            } else {
                format!("[{}]", self.delete_errors.join(", "))
            };
            out.push((
                CONTENT_FAILURE,
                "ContentDeletionFailed".to_string(),
                format!(
                    "Failed to delete all resource types, {} remaining: {all}",
                    self.delete_errors.len()
                ),
            ));
        }
        if !self.remaining.is_empty() {
            let list: Vec<String> = self
                .remaining
                .iter()
                .map(|(r, n)| format!("{r} has {n} resource instances"))
                .collect();
            out.push((
                CONTENT_REMAINING,
                "SomeResourcesRemain".to_string(),
                format!("Some resources are remaining: {}", list.join(", ")),
            ));
        }
        if !self.finalizers.is_empty() {
            let list: Vec<String> = self
                .finalizers
                .iter()
                .map(|(f, n)| format!("{f} in {n} resource instances"))
                .collect();
            out.push((
                FINALIZERS_REMAINING,
                "SomeFinalizersRemain".to_string(),
                format!(
                    "Some content in the namespace has finalizers remaining: {}",
                    list.join(", ")
                ),
            ));
        }
        out
    }

    /// Writes the conditions into `status`; true if anything changed. The
    /// transition time moves only when a condition's status does.
    pub fn update(&self, status: &mut NamespaceStatus, now: Time) -> bool {
        let failing = self.failing();
        let conditions = status.conditions.get_or_insert_with(Vec::new);
        let mut changed = false;
        for (type_, ok_reason, ok_message) in OK {
            let (state, reason, message) = match failing.iter().find(|(t, _, _)| t == type_) {
                Some((_, r, m)) => ("True", r.clone(), m.clone()),
                None => ("False", ok_reason.to_string(), ok_message.to_string()),
            };
            match conditions.iter_mut().find(|c| c.type_ == *type_) {
                None => {
                    conditions.push(NamespaceCondition {
                        type_: type_.to_string(),
                        status: state.into(),
                        reason: Some(reason),
                        message: Some(message),
                        last_transition_time: Some(now.clone()),
                    });
                    changed = true;
                }
                Some(c) => {
                    if c.status != state
                        || c.reason.as_deref() != Some(&reason)
                        || c.message.as_deref() != Some(&message)
                    {
                        if c.status != state {
                            c.last_transition_time = Some(now.clone());
                        }
                        c.status = state.into();
                        c.reason = Some(reason);
                        c.message = Some(message);
                        changed = true;
                    }
                }
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Time {
        Time(k8s_openapi::jiff::Timestamp::now())
    }

    #[test]
    fn all_ok_then_some_remaining_then_all_ok_again() {
        let mut status = NamespaceStatus::default();
        assert!(Findings::default().update(&mut status, now()));
        let conds = status.conditions.clone().unwrap();
        assert_eq!(conds.len(), 5);
        assert!(conds.iter().all(|c| c.status == "False"));
        assert!(!Findings::default().update(&mut status, now()), "no change");

        let f = Findings {
            remaining: BTreeMap::from([("pods.".to_string(), 2)]),
            finalizers: BTreeMap::from([("example.com/x".to_string(), 1)]),
            ..Default::default()
        };
        assert!(f.update(&mut status, now()));
        let c = |t: &str| {
            status
                .conditions
                .as_ref()
                .unwrap()
                .iter()
                .find(|c| c.type_ == t)
                .unwrap()
                .clone()
        };
        assert_eq!(c(CONTENT_REMAINING).status, "True");
        assert_eq!(
            c(CONTENT_REMAINING).message.unwrap(),
            "Some resources are remaining: pods. has 2 resource instances"
        );
        assert_eq!(
            c(FINALIZERS_REMAINING).message.unwrap(),
            "Some content in the namespace has finalizers remaining: example.com/x in 1 resource instances"
        );
        assert_eq!(c(CONTENT_FAILURE).status, "False");
    }
}

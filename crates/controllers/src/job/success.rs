//! An Indexed Job's success policy: the Job succeeds early once the
//! succeeded indexes satisfy one of its rules (upstream's
//! `matchSuccessPolicy`).

use std::collections::BTreeSet;

use k8s_openapi::api::batch::v1::JobSpec;

use super::indexes;

/// The message of the first rule the succeeded indexes satisfy.
pub(crate) fn matched(spec: &JobSpec, succeeded: &BTreeSet<i32>) -> Option<String> {
    let policy = spec.success_policy.as_ref()?;
    if succeeded.is_empty() {
        return None;
    }
    let completions = spec.completions.unwrap_or(0);
    for (i, rule) in policy.rules.iter().enumerate() {
        let count = rule.succeeded_count.and_then(|c| usize::try_from(c).ok());
        let ok = match rule.succeeded_indexes.as_deref() {
            Some(s) => {
                let required = indexes::parse(s, completions);
                if required.is_empty() {
                    continue;
                }
                let contained = required.intersection(succeeded).count();
                contained == required.len() || count.is_some_and(|c| contained >= c)
            }
            None => count.is_some_and(|c| succeeded.len() >= c),
        };
        if ok {
            return Some(format!("Matched rules at index {i}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::batch::v1::{SuccessPolicy, SuccessPolicyRule};

    use super::*;

    fn spec(rules: Vec<SuccessPolicyRule>) -> JobSpec {
        JobSpec {
            completions: Some(10),
            success_policy: Some(SuccessPolicy { rules }),
            ..Default::default()
        }
    }

    #[test]
    fn rules_match_by_indexes_or_count() {
        let done = indexes::parse("0-2,5", 10);
        let by_indexes = SuccessPolicyRule {
            succeeded_indexes: Some("0,2".into()),
            succeeded_count: None,
        };
        assert_eq!(
            matched(&spec(vec![by_indexes]), &done).as_deref(),
            Some("Matched rules at index 0")
        );
        let partial = SuccessPolicyRule {
            succeeded_indexes: Some("4-9".into()),
            succeeded_count: Some(1),
        };
        let too_many = SuccessPolicyRule {
            succeeded_indexes: None,
            succeeded_count: Some(5),
        };
        assert_eq!(
            matched(&spec(vec![too_many.clone(), partial]), &done).as_deref(),
            Some("Matched rules at index 1")
        );
        assert_eq!(matched(&spec(vec![too_many]), &done), None);
    }
}

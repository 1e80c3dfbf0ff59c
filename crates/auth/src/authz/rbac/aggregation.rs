//! Aggregated ClusterRoles: the rules the clusterrole-aggregation
//! controller writes into a ClusterRole with an `aggregationRule` (upstream
//! `admin`, `edit` and `view` gather the roles labelled
//! `rbac.authorization.k8s.io/aggregate-to-<name>: "true"`).

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::rule::list;

/// The rules of `target` as the aggregation controller computes them: for
/// each of its `clusterRoleSelectors` in turn, the rules of every other
/// ClusterRole in `all` whose labels match, roles sorted by name, each rule
/// once (first occurrence kept). Empty if `target` has no aggregation rule.
/// A selector that is not valid (an unknown operator, `In` without values)
/// selects nothing; the API server's validation rejects such roles anyway.
pub fn aggregate_rules(target: &ClusterRole, all: &[ClusterRole]) -> Vec<PolicyRule> {
    let Some(rule) = &target.aggregation_rule else {
        return Vec::new();
    };
    let target_name = target.metadata.name.as_deref().unwrap_or_default();
    let mut sorted: Vec<&ClusterRole> = all.iter().collect();
    sorted.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let mut out: Vec<PolicyRule> = Vec::new();
    for selector in rule.cluster_role_selectors.iter().flatten() {
        for role in &sorted {
            if role.metadata.name.as_deref().unwrap_or_default() == target_name {
                continue;
            }
            let empty = BTreeMap::new();
            let labels = role.metadata.labels.as_ref().unwrap_or(&empty);
            if selector_matches(selector, labels) != Some(true) {
                continue;
            }
            for rule in role.rules.iter().flatten() {
                if !out.iter().any(|r| same_rule(r, rule)) {
                    out.push(rule.clone());
                }
            }
        }
    }
    out
}

/// Whether two rules are the same, an absent list equal to an empty one
/// (upstream's semantic equality).
pub fn same_rule(a: &PolicyRule, b: &PolicyRule) -> bool {
    a.verbs == b.verbs
        && list(&a.api_groups) == list(&b.api_groups)
        && list(&a.resources) == list(&b.resources)
        && list(&a.resource_names) == list(&b.resource_names)
        && list(&a.non_resource_urls) == list(&b.non_resource_urls)
}

/// Whether a label selector matches `labels`; `None` if the selector is
/// not valid. An empty selector matches everything.
pub fn selector_matches(
    selector: &LabelSelector,
    labels: &BTreeMap<String, String>,
) -> Option<bool> {
    let mut matched = true;
    for (key, value) in selector.match_labels.iter().flatten() {
        matched &= labels.get(key) == Some(value);
    }
    for requirement in selector.match_expressions.iter().flatten() {
        let values = requirement.values.as_deref().unwrap_or_default();
        let actual = labels.get(&requirement.key);
        let ok = match requirement.operator.as_str() {
            "In" if !values.is_empty() => actual.is_some_and(|v| values.contains(v)),
            "NotIn" if !values.is_empty() => actual.is_none_or(|v| !values.contains(v)),
            "Exists" if values.is_empty() => actual.is_some(),
            "DoesNotExist" if values.is_empty() => actual.is_none(),
            _ => return None,
        };
        matched &= ok;
    }
    Some(matched)
}

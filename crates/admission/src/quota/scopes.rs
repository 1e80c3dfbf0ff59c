//! Quota scopes: which objects a quota with `spec.scopes` or
//! `spec.scopeSelector` covers. Only pods have scopes; a scoped quota
//! covers no other kind.

use k8s_openapi::api::core::v1::{ResourceQuota, ScopedResourceSelectorRequirement};
use serde_json::Value;

use crate::json::{arr_at, get, has, str_or_empty};
use crate::pod_resources::container_list;
use crate::quota::usage::{Evaluator, evaluator};

/// A quota's scopes as selector requirements (a plain scope is an
/// `Exists` requirement, as upstream turns it).
pub fn scope_selectors(quota: &ResourceQuota) -> Vec<ScopedResourceSelectorRequirement> {
    let spec = quota.spec.as_ref();
    let mut out: Vec<ScopedResourceSelectorRequirement> = spec
        .and_then(|s| s.scopes.as_ref())
        .into_iter()
        .flatten()
        .map(|s| ScopedResourceSelectorRequirement {
            scope_name: s.clone(),
            operator: "Exists".into(),
            values: None,
        })
        .collect();
    if let Some(exprs) = spec
        .and_then(|s| s.scope_selector.as_ref())
        .and_then(|s| s.match_expressions.as_ref())
    {
        out.extend(exprs.iter().cloned());
    }
    out
}

/// Whether every scope of `quota` covers `obj` (of `group`/`resource`);
/// an unscoped quota covers everything.
pub fn matches_scopes(quota: &ResourceQuota, group: &str, resource: &str, obj: &Value) -> bool {
    let selectors = scope_selectors(quota);
    if selectors.is_empty() {
        return true;
    }
    match evaluator(group, resource) {
        Evaluator::Pods => selectors.iter().all(|s| pod_matches_scope(obj, s)),
        _ => false,
    }
}

/// Upstream's `IsTerminating`: an `activeDeadlineSeconds` of zero or more.
pub fn is_terminating(pod: &Value) -> bool {
    get(pod, &["spec", "activeDeadlineSeconds"])
        .and_then(Value::as_i64)
        .is_some_and(|d| d >= 0)
}

/// Upstream's `GetPodQOS(pod) == BestEffort`: the recorded class, else no
/// container asks for (or limits) cpu or memory.
pub fn is_best_effort(pod: &Value) -> bool {
    if let Some(q) = crate::json::str_at(pod, &["status", "qosClass"]).filter(|q| !q.is_empty()) {
        return q == "BestEffort";
    }
    !arr_at(pod, &["spec", "containers"])
        .iter()
        .chain(arr_at(pod, &["spec", "initContainers"]))
        .any(|c| {
            [false, true].into_iter().any(|limits| {
                container_list(c, limits)
                    .iter()
                    .any(|(k, v)| (k == "cpu" || k == "memory") && v.nanos() > 0)
            })
        })
}

fn cross_namespace_affinity(pod: &Value) -> bool {
    let crosses =
        |t: &Value| has(t, &["namespaceSelector"]) || !arr_at(t, &["namespaces"]).is_empty();
    ["podAffinity", "podAntiAffinity"].iter().any(|kind| {
        let base = ["spec", "affinity", kind];
        arr_at(
            pod,
            &[
                base[0],
                base[1],
                base[2],
                "requiredDuringSchedulingIgnoredDuringExecution",
            ],
        )
        .iter()
        .any(crosses)
            || arr_at(
                pod,
                &[
                    base[0],
                    base[1],
                    base[2],
                    "preferredDuringSchedulingIgnoredDuringExecution",
                ],
            )
            .iter()
            .any(|w| get(w, &["podAffinityTerm"]).is_some_and(crosses))
    })
}

/// Upstream's `podMatchesScopeFunc`.
pub fn pod_matches_scope(pod: &Value, sel: &ScopedResourceSelectorRequirement) -> bool {
    match sel.scope_name.as_str() {
        "Terminating" => is_terminating(pod),
        "NotTerminating" => !is_terminating(pod),
        "BestEffort" => is_best_effort(pod),
        "NotBestEffort" => !is_best_effort(pod),
        "CrossNamespacePodAffinity" => cross_namespace_affinity(pod),
        "PriorityClass" => {
            let class = str_or_empty(pod, &["spec", "priorityClassName"]);
            let values = sel.values.as_deref().unwrap_or_default();
            match sel.operator.as_str() {
                "Exists" => !class.is_empty(),
                "DoesNotExist" => class.is_empty(),
                // A label selector: In needs the label, NotIn matches
                // without it.
                "In" => !class.is_empty() && values.iter().any(|v| v == class),
                "NotIn" => class.is_empty() || !values.iter().any(|v| v == class),
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn quota(spec: Value) -> ResourceQuota {
        serde_json::from_value(json!({"metadata": {"name": "q"}, "spec": spec})).unwrap()
    }

    fn pod(spec: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": spec})
    }

    #[test]
    fn scopes_table() {
        let burstable =
            pod(json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}]}));
        let best_effort = pod(
            json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "0"}, "limits": {"example.com/gpu": "1"}}}]}),
        );
        let deadline = pod(json!({"activeDeadlineSeconds": 30, "containers": [{"name": "c"}]}));
        let high = pod(json!({"priorityClassName": "high", "containers": [{"name": "c"}]}));
        let affinity = pod(
            json!({"containers": [{"name": "c"}], "affinity": {"podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "podAffinityTerm": {"topologyKey": "k", "namespaces": ["other"]}}]
            }}}),
        );
        let cases = [
            (json!({"scopes": ["BestEffort"]}), &best_effort, true),
            (json!({"scopes": ["BestEffort"]}), &burstable, false),
            (json!({"scopes": ["NotBestEffort"]}), &burstable, true),
            (json!({"scopes": ["Terminating"]}), &deadline, true),
            (json!({"scopes": ["Terminating"]}), &burstable, false),
            (
                json!({"scopes": ["NotTerminating", "BestEffort"]}),
                &best_effort,
                true,
            ),
            (
                json!({"scopes": ["NotTerminating", "BestEffort"]}),
                &deadline,
                false,
            ),
            (
                json!({"scopes": ["CrossNamespacePodAffinity"]}),
                &affinity,
                true,
            ),
            (
                json!({"scopes": ["CrossNamespacePodAffinity"]}),
                &burstable,
                false,
            ),
            (
                json!({"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}}),
                &high,
                true,
            ),
            (
                json!({"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In", "values": ["low"]}]}}),
                &high,
                false,
            ),
            (
                json!({"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "NotIn", "values": ["high"]}]}}),
                &burstable,
                true,
            ),
            (
                json!({"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "Exists"}]}}),
                &burstable,
                false,
            ),
            (
                json!({"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "DoesNotExist"}]}}),
                &burstable,
                true,
            ),
            (
                json!({"scopeSelector": {"matchExpressions": [{"scopeName": "Unknown", "operator": "Exists"}]}}),
                &burstable,
                false,
            ),
            (json!({}), &burstable, true),
        ];
        for (spec, p, want) in cases {
            assert_eq!(
                matches_scopes(&quota(spec.clone()), "", "pods", p),
                want,
                "{spec}"
            );
        }
        // Scoped quotas cover nothing but pods; unscoped ones cover all.
        let svc = json!({"spec": {"type": "ClusterIP"}});
        assert!(!matches_scopes(
            &quota(json!({"scopes": ["NotTerminating"]})),
            "",
            "services",
            &svc
        ));
        assert!(matches_scopes(&quota(json!({})), "", "services", &svc));
        // The recorded QoS class wins.
        let mut recorded = burstable.clone();
        recorded["status"] = json!({"qosClass": "BestEffort"});
        assert!(is_best_effort(&recorded));
        assert!(is_best_effort(&json!("not a pod")));
    }
}

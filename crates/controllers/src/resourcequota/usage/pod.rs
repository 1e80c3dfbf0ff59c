//! The pod evaluator: a pod's compute requests and limits as upstream's
//! `PodRequests`/`PodLimits` and `podComputeUsageHelper` count them, and
//! whether a pod is within a quota's scopes.

use k8s_openapi::api::core::v1::{
    Container, Pod, ResourceQuota, ScopedResourceSelectorRequirement,
};
use k8s_openapi::jiff::Timestamp;

use super::{Amount, Usage, add};
use crate::pods;

/// Upstream's `QuotaV1Pod`: terminal pods, and pods stuck terminating past
/// their grace period, use no compute resources.
pub(super) fn counts_for_compute(pod: &Pod, now: Timestamp) -> bool {
    if pods::is_pod_terminal(pod) {
        return false;
    }
    if let (Some(at), Some(grace)) = (
        pod.metadata.deletion_timestamp.as_ref(),
        pod.metadata.deletion_grace_period_seconds,
    ) {
        let until = at.0.as_second().saturating_add(grace);
        if now.as_second() > until {
            return false;
        }
    }
    true
}

/// Requests or limits of one container, taking the larger of spec and
/// reported (in-place resize) values.
fn container_list(pod: &Pod, c: &Container, limits: bool) -> Usage {
    let pick = |r: &k8s_openapi::api::core::v1::ResourceRequirements| {
        if limits {
            r.limits.clone()
        } else {
            r.requests.clone()
        }
    };
    let mut out: Usage = c
        .resources
        .as_ref()
        .and_then(pick)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, q)| Some((k.clone(), Amount::parse(q)?)))
        .collect();
    let reported = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|l| l.iter().find(|s| s.name == c.name))
        .and_then(|s| s.resources.as_ref())
        .and_then(pick)
        .unwrap_or_default();
    for (k, q) in reported {
        if let Some(a) = Amount::parse(&q) {
            let e = out.entry(k).or_insert(a);
            *e = e.max(a);
        }
    }
    out
}

/// Upstream's `PodRequests`/`PodLimits`: the containers' sum, sidecars
/// added as they start, at least the largest init container (with the
/// sidecars started before it), plus overhead.
fn pod_list(pod: &Pod, limits: bool) -> Usage {
    let Some(spec) = pod.spec.as_ref() else {
        return Usage::new();
    };
    let mut sum = Usage::new();
    for c in &spec.containers {
        for (k, v) in container_list(pod, c, limits) {
            add(&mut sum, &k, v);
        }
    }
    let mut sidecars = Usage::new();
    let mut init_max = Usage::new();
    for c in spec.init_containers.iter().flatten() {
        let list = container_list(pod, c, limits);
        if c.restart_policy.as_deref() == Some("Always") {
            for (k, v) in list {
                add(&mut sum, &k, v);
                add(&mut sidecars, &k, v);
            }
        } else {
            let mut effective = list;
            for (k, v) in &sidecars {
                add(&mut effective, k, *v);
            }
            for (k, v) in effective {
                let e = init_max.entry(k).or_insert(v);
                *e = e.max(v);
            }
        }
    }
    for (k, v) in init_max {
        let e = sum.entry(k).or_insert(v);
        *e = e.max(v);
    }
    for (k, q) in spec.overhead.iter().flatten() {
        let Some(a) = Amount::parse(q) else {
            continue;
        };
        // Limits only grow where there is a limit.
        if !limits || sum.contains_key(k) {
            add(&mut sum, k, a);
        }
    }
    sum
}

/// Upstream's `podComputeUsageHelper`.
pub(super) fn pod_usage(pod: &Pod) -> Usage {
    let requests = pod_list(pod, false);
    let limits = pod_list(pod, true);
    let mut u = Usage::new();
    u.insert("pods".into(), Amount::count(1));
    for r in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(v) = requests.get(r) {
            u.insert(r.into(), *v);
            u.insert(format!("requests.{r}"), *v);
        }
        if let Some(v) = limits.get(r) {
            u.insert(format!("limits.{r}"), *v);
        }
    }
    for (r, v) in &requests {
        if r.starts_with("hugepages-") {
            u.insert(r.clone(), *v);
            u.insert(format!("requests.{r}"), *v);
        } else if is_extended(r) {
            u.insert(format!("requests.{r}"), *v);
        }
    }
    for (r, v) in &limits {
        if r.starts_with("hugepages-") {
            u.insert(format!("limits.{r}"), *v);
        }
    }
    u
}

/// Extended resources: a domain-qualified name outside kubernetes.io.
fn is_extended(name: &str) -> bool {
    name.contains('/') && !name.starts_with("requests.") && !name.contains("kubernetes.io/")
}

/// The quota's scopes as selector requirements (a plain scope is an
/// `Exists` requirement, as upstream turns it).
pub(super) fn scope_requirements(quota: &ResourceQuota) -> Vec<ScopedResourceSelectorRequirement> {
    let spec = quota.spec.clone().unwrap_or_default();
    let mut out: Vec<ScopedResourceSelectorRequirement> = spec
        .scopes
        .iter()
        .flatten()
        .map(|s| ScopedResourceSelectorRequirement {
            scope_name: s.clone(),
            operator: "Exists".into(),
            values: None,
        })
        .collect();
    if let Some(sel) = spec.scope_selector {
        out.extend(sel.match_expressions.into_iter().flatten());
    }
    out
}

fn is_best_effort(pod: &Pod) -> bool {
    if let Some(q) = pod.status.as_ref().and_then(|s| s.qos_class.as_deref()) {
        return q == "BestEffort";
    }
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .all(|c| {
            c.resources.as_ref().is_none_or(|r| {
                r.requests.as_ref().is_none_or(|m| m.is_empty())
                    && r.limits.as_ref().is_none_or(|m| m.is_empty())
            })
        })
}

fn cross_namespace_affinity(pod: &Pod) -> bool {
    let Some(aff) = pod.spec.as_ref().and_then(|s| s.affinity.as_ref()) else {
        return false;
    };
    let crosses = |t: &k8s_openapi::api::core::v1::PodAffinityTerm| {
        t.namespace_selector.is_some() || t.namespaces.as_ref().is_some_and(|n| !n.is_empty())
    };
    let a = aff.pod_affinity.as_ref().is_some_and(|a| {
        a.required_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .any(crosses)
            || a.preferred_during_scheduling_ignored_during_execution
                .iter()
                .flatten()
                .any(|w| crosses(&w.pod_affinity_term))
    });
    let anti = aff.pod_anti_affinity.as_ref().is_some_and(|a| {
        a.required_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .any(crosses)
            || a.preferred_during_scheduling_ignored_during_execution
                .iter()
                .flatten()
                .any(|w| crosses(&w.pod_affinity_term))
    });
    a || anti
}

/// Upstream's `podMatchesScopeFunc`.
pub(super) fn pod_matches_scope(pod: &Pod, req: &ScopedResourceSelectorRequirement) -> bool {
    let spec = pod.spec.as_ref();
    match req.scope_name.as_str() {
        "Terminating" => spec
            .and_then(|s| s.active_deadline_seconds)
            .is_some_and(|d| d >= 0),
        "NotTerminating" => spec
            .and_then(|s| s.active_deadline_seconds)
            .is_none_or(|d| d < 0),
        "BestEffort" => is_best_effort(pod),
        "NotBestEffort" => !is_best_effort(pod),
        "CrossNamespacePodAffinity" => cross_namespace_affinity(pod),
        "PriorityClass" => {
            let class = spec
                .and_then(|s| s.priority_class_name.as_deref())
                .unwrap_or("");
            let values = req.values.clone().unwrap_or_default();
            match req.operator.as_str() {
                "Exists" => !class.is_empty(),
                "DoesNotExist" => class.is_empty(),
                "In" => values.iter().any(|v| v == class),
                "NotIn" => !values.iter().any(|v| v == class),
                _ => false,
            }
        }
        _ => false,
    }
}

//! What a namespace uses of each quota resource, as upstream's quota
//! evaluators count it: pods and their compute requests and limits
//! (non-terminal pods, within the quota's scopes), services with their
//! node ports and load balancers, persistent volume claims and their
//! storage, and object counts.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    Container, PersistentVolumeClaim, Pod, ResourceQuota, ScopedResourceSelectorRequirement,
    Service,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::jiff::Timestamp;

use super::amount::Amount;
use crate::pods;

/// A resource list being summed.
pub type Usage = BTreeMap<String, Amount>;

/// What one namespace holds, for the evaluators.
pub struct Inputs<'a> {
    /// Its pods.
    pub pods: &'a [Arc<Pod>],
    /// Its services.
    pub services: &'a [Arc<Service>],
    /// Its persistent volume claims.
    pub claims: &'a [Arc<PersistentVolumeClaim>],
    /// Object counts by quota resource name (`configmaps`,
    /// `count/deployments.apps`, ...), for the kinds counted by name only.
    pub counts: &'a BTreeMap<String, i64>,
}

/// Resources counted from the objects' names alone: legacy name → the
/// `count/` name.
pub const COUNTED: [(&str, &str); 4] = [
    ("configmaps", "count/configmaps"),
    ("secrets", "count/secrets"),
    ("replicationcontrollers", "count/replicationcontrollers"),
    ("resourcequotas", "count/resourcequotas"),
];

/// The `count/` name a tracked resource is counted under, if it is an
/// object count that needs a list (not pods, services or claims).
pub fn count_key(resource: &str) -> Option<String> {
    if let Some((_, c)) = COUNTED.iter().find(|(legacy, _)| *legacy == resource) {
        return Some((*c).to_string());
    }
    let rest = resource.strip_prefix("count/")?;
    match rest {
        "pods" | "services" | "persistentvolumeclaims" => None,
        _ => Some(resource.to_string()),
    }
}

fn add(u: &mut Usage, key: &str, a: Amount) {
    u.entry(key.to_string()).or_insert(Amount::ZERO).add(a);
}

/// The usage of everything in `hard` that an evaluator knows; the others
/// are left out.
pub fn compute(
    quota: &ResourceQuota,
    hard: &BTreeMap<String, Quantity>,
    inp: &Inputs<'_>,
) -> Usage {
    let mut all = Usage::new();
    let scopes = scope_requirements(quota);
    let now = Timestamp::now();
    for pod in inp.pods {
        if !scopes.iter().all(|s| pod_matches_scope(pod, s)) {
            continue;
        }
        add(&mut all, "count/pods", Amount::count(1));
        if !counts_for_compute(pod, now) {
            continue;
        }
        for (k, v) in pod_usage(pod) {
            add(&mut all, &k, v);
        }
    }
    for svc in inp.services {
        for (k, v) in service_usage(svc) {
            add(&mut all, &k, v);
        }
    }
    for pvc in inp.claims {
        for (k, v) in claim_usage(pvc) {
            add(&mut all, &k, v);
        }
    }
    for (k, n) in inp.counts {
        all.entry(k.clone()).or_insert(Amount::count(*n));
    }
    for (legacy, count) in COUNTED {
        if let Some(n) = inp.counts.get(count) {
            all.insert(legacy.to_string(), Amount::count(*n));
        }
    }
    hard.keys()
        .filter_map(|k| {
            let known = all
                .get(k)
                .copied()
                .or_else(|| evaluated(k).then_some(Amount::ZERO))?;
            Some((k.clone(), known))
        })
        .collect()
}

/// Whether an evaluator tracks `resource` (so it is zero when nothing
/// uses it).
fn evaluated(resource: &str) -> bool {
    let compute = ["cpu", "memory", "ephemeral-storage"];
    resource == "pods"
        || resource.starts_with("count/")
        || resource.starts_with("requests.")
        || resource.starts_with("limits.")
        || resource.starts_with("hugepages-")
        || compute.contains(&resource)
        || matches!(
            resource,
            "services" | "services.nodeports" | "services.loadbalancers" | "persistentvolumeclaims"
        )
        || resource.ends_with(".storageclass.storage.k8s.io/requests.storage")
        || resource.ends_with(".storageclass.storage.k8s.io/persistentvolumeclaims")
        || COUNTED.iter().any(|(l, _)| *l == resource)
}

/// Upstream's `QuotaV1Pod`: terminal pods, and pods stuck terminating past
/// their grace period, use no compute resources.
fn counts_for_compute(pod: &Pod, now: Timestamp) -> bool {
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
fn pod_usage(pod: &Pod) -> Usage {
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

/// Upstream's service evaluator.
fn service_usage(svc: &Service) -> Usage {
    let spec = svc.spec.clone().unwrap_or_default();
    let ports = spec.ports.as_ref().map_or(0, Vec::len) as i64;
    let mut u = Usage::new();
    u.insert("services".into(), Amount::count(1));
    u.insert("count/services".into(), Amount::count(1));
    let (node_ports, lbs) = match spec.type_.as_deref() {
        Some("NodePort") => (ports, 0),
        Some("LoadBalancer") => {
            let explicit = spec.allocate_load_balancer_node_ports == Some(false);
            let n = if explicit {
                spec.ports
                    .iter()
                    .flatten()
                    .filter(|p| p.node_port.is_some_and(|n| n != 0))
                    .count() as i64
            } else {
                ports
            };
            (n, 1)
        }
        _ => (0, 0),
    };
    u.insert("services.nodeports".into(), Amount::count(node_ports));
    u.insert("services.loadbalancers".into(), Amount::count(lbs));
    u
}

/// Upstream's persistent volume claim evaluator.
fn claim_usage(pvc: &PersistentVolumeClaim) -> Usage {
    let mut u = Usage::new();
    u.insert("persistentvolumeclaims".into(), Amount::count(1));
    u.insert("count/persistentvolumeclaims".into(), Amount::count(1));
    let spec = pvc.spec.clone().unwrap_or_default();
    let class = spec.storage_class_name.clone().unwrap_or_default();
    if !class.is_empty() {
        u.insert(
            format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
            Amount::count(1),
        );
    }
    let request = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(Amount::parse);
    // The larger of requested and allocated (a resize in progress).
    let allocated = pvc
        .status
        .as_ref()
        .and_then(|s| s.allocated_resources.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(Amount::parse);
    let storage = match (request, allocated) {
        (Some(r), Some(a)) => Some(r.max(a)),
        (r, a) => r.or(a),
    };
    if let Some(s) = storage {
        u.insert("requests.storage".into(), s);
        if !class.is_empty() {
            u.insert(
                format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                s,
            );
        }
    }
    u
}

/// The quota's scopes as selector requirements (a plain scope is an
/// `Exists` requirement, as upstream turns it).
fn scope_requirements(quota: &ResourceQuota) -> Vec<ScopedResourceSelectorRequirement> {
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
fn pod_matches_scope(pod: &Pod, req: &ScopedResourceSelectorRequirement) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(body: serde_json::Value) -> Arc<Pod> {
        Arc::new(serde_json::from_value(body).unwrap())
    }

    fn quota(
        hard: &[&str],
        scopes: serde_json::Value,
    ) -> (ResourceQuota, BTreeMap<String, Quantity>) {
        let hard: BTreeMap<String, Quantity> = hard
            .iter()
            .map(|k| (k.to_string(), Quantity("100".into())))
            .collect();
        let q: ResourceQuota =
            serde_json::from_value(json!({"spec": {"hard": hard, "scopes": scopes}})).unwrap();
        (q, hard)
    }

    fn used(u: &Usage) -> BTreeMap<String, String> {
        u.iter()
            .map(|(k, v)| (k.clone(), v.to_quantity().0))
            .collect()
    }

    #[test]
    fn pods_compute_and_scopes() {
        let web = pod(json!({
            "metadata": {"name": "web"},
            "spec": {
                "initContainers": [
                    {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                    {"name": "init", "resources": {"requests": {"cpu": "2"}}}
                ],
                "containers": [
                    {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}},
                    {"name": "b", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}}}
                ]
            },
            "status": {"phase": "Running", "qosClass": "Burstable"}
        }));
        let done = pod(json!({
            "metadata": {"name": "done"},
            "spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]},
            "status": {"phase": "Succeeded"}
        }));
        let idle = pod(json!({
            "metadata": {"name": "idle"},
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "qosClass": "BestEffort"}
        }));
        let pods = [web, done, idle];
        let empty = BTreeMap::new();
        let inp = Inputs {
            pods: &pods,
            services: &[],
            claims: &[],
            counts: &empty,
        };
        let keys = [
            "pods",
            "count/pods",
            "requests.cpu",
            "cpu",
            "requests.memory",
            "limits.memory",
            "limits.cpu",
        ];
        let (q, hard) = quota(&keys, json!(null));
        let u = used(&compute(&q, &hard, &inp));
        assert_eq!(u["pods"], "2");
        assert_eq!(u["count/pods"], "3");
        // The init container needs 2 + the 100m sidecar started before it.
        assert_eq!(u["requests.cpu"], "2100m");
        assert_eq!(u["cpu"], "2100m");
        assert_eq!(u["requests.memory"], "320Mi");
        assert_eq!(u["limits.memory"], "256Mi");
        assert_eq!(u["limits.cpu"], "0");

        let (q, hard) = quota(&["pods"], json!(["BestEffort"]));
        assert_eq!(used(&compute(&q, &hard, &inp))["pods"], "1");
    }

    #[test]
    fn services_and_counts() {
        let svc = |t: &str| -> Arc<Service> {
            Arc::new(
                serde_json::from_value(
                    json!({"spec": {"type": t, "ports": [{"port": 80}, {"port": 443}]}}),
                )
                .unwrap(),
            )
        };
        let services = [svc("ClusterIP"), svc("NodePort"), svc("LoadBalancer")];
        let counts = BTreeMap::from([
            ("count/configmaps".to_string(), 4),
            ("count/deployments.apps".to_string(), 2),
        ]);
        let inp = Inputs {
            pods: &[],
            services: &services,
            claims: &[],
            counts: &counts,
        };
        let keys = [
            "services",
            "services.nodeports",
            "services.loadbalancers",
            "configmaps",
            "count/configmaps",
            "count/deployments.apps",
            "secrets",
            "example.com/unknown",
        ];
        let (q, hard) = quota(&keys, json!(null));
        let u = used(&compute(&q, &hard, &inp));
        assert_eq!(u["services"], "3");
        assert_eq!(u["services.nodeports"], "4");
        assert_eq!(u["services.loadbalancers"], "1");
        assert_eq!(u["configmaps"], "4");
        assert_eq!(u["count/configmaps"], "4");
        assert_eq!(u["count/deployments.apps"], "2");
        assert_eq!(u["secrets"], "0");
        assert!(!u.contains_key("example.com/unknown"));
    }
}

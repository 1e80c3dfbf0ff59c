//! What a namespace uses of each quota resource, as upstream's quota
//! evaluators count it: pods and their compute requests and limits
//! (non-terminal pods, within the quota's scopes), services with their
//! node ports and load balancers, persistent volume claims and their
//! storage, and object counts.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, ResourceQuota, Service};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::jiff::Timestamp;

mod pod;

use super::amount::Amount;
use pod::{counts_for_compute, pod_matches_scope, pod_usage, scope_requirements};

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

#[cfg(test)]
mod tests;

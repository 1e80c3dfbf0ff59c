//! Upstream's quota evaluators: what one object uses of each quota
//! resource, and which quota resource names each kind of object is
//! measured against.
//!
//! - pods: `pods`, `count/pods`, `cpu`/`requests.cpu`, `limits.cpu`, the
//!   same for `memory` and `ephemeral-storage`, `hugepages-*`, and
//!   `requests.<extended resource>`; terminal pods (and pods past their
//!   deletion grace period) use only `count/pods`;
//! - services: `services`, `count/services`, `services.nodeports`,
//!   `services.loadbalancers`;
//! - persistent volume claims: `persistentvolumeclaims`,
//!   `count/persistentvolumeclaims`, `requests.storage`, and both per
//!   storage class (`<class>.storageclass.storage.k8s.io/...`);
//! - everything else: `count/<resource>[.<group>]` (and the legacy names
//!   `configmaps`, `secrets`, `replicationcontrollers`, `resourcequotas`).

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::json::{arr_at, get, has, str_at, str_or_empty};
use crate::pod_resources::{Options, StatusResources, pod_limits, pod_requests};
use crate::quantity::{Amount, ResourceList, list_from_json};

/// The suffix of per-storage-class claim resources.
pub const STORAGE_CLASS_SUFFIX: &str = ".storageclass.storage.k8s.io/";

/// The annotation that names a claim's storage class (before
/// `spec.storageClassName`).
pub const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

const POD_RESOURCES: [&str; 11] = [
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
];

const SERVICE_RESOURCES: [&str; 4] = [
    "count/services",
    "services",
    "services.loadbalancers",
    "services.nodeports",
];

const CLAIM_RESOURCES: [&str; 2] = ["persistentvolumeclaims", "requests.storage"];

/// Legacy object-count names: (resource, name).
const LEGACY_COUNTS: [(&str, &str); 4] = [
    ("configmaps", "configmaps"),
    ("resourcequotas", "resourcequotas"),
    ("replicationcontrollers", "replicationcontrollers"),
    ("secrets", "secrets"),
];

/// Which evaluator measures a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Evaluator<'a> {
    Pods,
    Services,
    Claims,
    Count { group: &'a str, resource: &'a str },
}

pub(crate) fn evaluator<'a>(group: &'a str, resource: &'a str) -> Evaluator<'a> {
    match (group, resource) {
        ("", "pods") => Evaluator::Pods,
        ("", "services") => Evaluator::Services,
        ("", "persistentvolumeclaims") => Evaluator::Claims,
        _ => Evaluator::Count { group, resource },
    }
}

/// Upstream's `ObjectCountQuotaResourceNameFor`: `count/<resource>` for the
/// core group, `count/<resource>.<group>` otherwise.
pub fn object_count_name(group: &str, resource: &str) -> String {
    if group.is_empty() {
        format!("count/{resource}")
    } else {
        format!("count/{resource}.{group}")
    }
}

/// The (group, resource) a `count/...` or legacy count name counts.
pub fn counted_resource(name: &str) -> Option<(String, String)> {
    if let Some((resource, _)) = LEGACY_COUNTS.iter().find(|(_, n)| *n == name) {
        return Some((String::new(), (*resource).to_string()));
    }
    let rest = name.strip_prefix("count/")?;
    if rest.is_empty() {
        return None;
    }
    Some(match rest.split_once('.') {
        Some((resource, group)) => (group.to_string(), resource.to_string()),
        None => (String::new(), rest.to_string()),
    })
}

/// What `obj` (of `group`/`resource`) uses, now.
pub fn usage(group: &str, resource: &str, obj: &Value) -> ResourceList {
    usage_at(group, resource, obj, now())
}

/// The current time (the jiff k8s-openapi uses has no clock).
fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// What `obj` uses at time `now` (pods past their deletion grace period
/// stop using compute resources).
pub fn usage_at(group: &str, resource: &str, obj: &Value, now: Timestamp) -> ResourceList {
    match evaluator(group, resource) {
        Evaluator::Pods => pod_usage(obj, now),
        Evaluator::Services => service_usage(obj),
        Evaluator::Claims => claim_usage(obj),
        Evaluator::Count { group, resource } => {
            let mut u = ResourceList::new();
            u.insert(object_count_name(group, resource), Amount::from_int(1));
            if group.is_empty()
                && let Some((_, alias)) = LEGACY_COUNTS.iter().find(|(r, _)| *r == resource)
            {
                u.insert((*alias).to_string(), Amount::from_int(1));
            }
            u
        }
    }
}

/// The names among `names` that objects of `group`/`resource` are measured
/// against (upstream's `MatchingResources`), in the order given.
pub fn matching_resources(group: &str, resource: &str, names: &[String]) -> Vec<String> {
    let ev = evaluator(group, resource);
    names
        .iter()
        .filter(|n| matches_name(ev, n))
        .cloned()
        .collect()
}

fn matches_name(ev: Evaluator<'_>, name: &str) -> bool {
    match ev {
        Evaluator::Pods => {
            POD_RESOURCES.contains(&name)
                || name.starts_with("hugepages-")
                || name.starts_with("requests.hugepages-")
                || (!is_native(name) && name.starts_with("requests."))
        }
        Evaluator::Services => SERVICE_RESOURCES.contains(&name),
        Evaluator::Claims => {
            name == "count/persistentvolumeclaims"
                || CLAIM_RESOURCES.contains(&name)
                || CLAIM_RESOURCES
                    .iter()
                    .any(|r| name.ends_with(&format!("{STORAGE_CLASS_SUFFIX}{r}")))
        }
        Evaluator::Count { group, resource } => {
            name == object_count_name(group, resource)
                || (group.is_empty()
                    && LEGACY_COUNTS
                        .iter()
                        .any(|(r, n)| *r == resource && *n == name))
        }
    }
}

/// Upstream's `IsNativeResource`: unprefixed, or in `kubernetes.io/`.
fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Upstream's `IsExtendedResourceName`: not native, not already
/// `requests.`-prefixed, and a qualified name once prefixed.
fn is_extended(name: &str) -> bool {
    !is_native(name)
        && !name.starts_with("requests.")
        && is_qualified_name(&format!("requests.{name}"))
}

/// A light form of upstream's `IsQualifiedName`: `[prefix/]name`, the
/// prefix a DNS subdomain, the name 1-63 alphanumerics, `-`, `_`, `.`
/// starting and ending alphanumeric.
fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && label.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && label
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
    });
    name_ok && prefix_ok
}

/// Upstream's `QuotaV1Pod`: whether a pod still uses compute resources.
pub fn pod_counts_for_compute(pod: &Value, now: Timestamp) -> bool {
    if matches!(
        str_at(pod, &["status", "phase"]),
        Some("Succeeded" | "Failed")
    ) {
        return false;
    }
    let deleted =
        str_at(pod, &["metadata", "deletionTimestamp"]).and_then(|t| t.parse::<Timestamp>().ok());
    let grace = get(pod, &["metadata", "deletionGracePeriodSeconds"]).and_then(Value::as_i64);
    if let (Some(at), Some(grace)) = (deleted, grace)
        && now.as_second() > at.as_second().saturating_add(grace)
    {
        return false;
    }
    true
}

fn pod_usage(pod: &Value, now: Timestamp) -> ResourceList {
    let mut u = ResourceList::new();
    u.insert("count/pods".into(), Amount::from_int(1));
    if !pod_counts_for_compute(pod, now) {
        return u;
    }
    let opts = Options {
        overhead: true,
        status: StatusResources::Quota,
    };
    let compute = compute_usage(&pod_requests(pod, opts), &pod_limits(pod, opts));
    for (k, v) in compute {
        u.insert(k, v);
    }
    u
}

/// Upstream's `podComputeUsageHelper` (also used per container by the
/// constraints check).
pub(crate) fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut u = ResourceList::new();
    u.insert("pods".into(), Amount::from_int(1));
    for r in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(v) = requests.get(r) {
            u.insert(r.into(), *v);
            u.insert(format!("requests.{r}"), *v);
        }
        if let Some(v) = limits.get(r) {
            u.insert(format!("limits.{r}"), *v);
        }
    }
    for (r, v) in requests {
        if r.starts_with("hugepages-") {
            u.insert(r.clone(), *v);
            u.insert(format!("requests.{r}"), *v);
        }
        if is_extended(r) {
            u.insert(format!("requests.{r}"), *v);
        }
    }
    for (r, v) in limits {
        if r.starts_with("hugepages-") {
            u.insert(format!("limits.{r}"), *v);
        }
    }
    u
}

fn service_usage(svc: &Value) -> ResourceList {
    let ports = arr_at(svc, &["spec", "ports"]);
    let mut u = ResourceList::new();
    u.insert("count/services".into(), Amount::from_int(1));
    u.insert("services".into(), Amount::from_int(1));
    let count = |n: usize| Amount::from_int(i64::try_from(n).unwrap_or(i64::MAX));
    let (node_ports, lbs) = match str_at(svc, &["spec", "type"]) {
        Some("NodePort") => (count(ports.len()), Amount::ZERO),
        Some("LoadBalancer") => {
            let allocate =
                get(svc, &["spec", "allocateLoadBalancerNodePorts"]).and_then(Value::as_bool);
            let n = if allocate == Some(false) {
                ports
                    .iter()
                    .filter(|p| {
                        get(p, &["nodePort"])
                            .and_then(Value::as_i64)
                            .is_some_and(|n| n != 0)
                    })
                    .count()
            } else {
                ports.len()
            };
            (count(n), Amount::from_int(1))
        }
        _ => (Amount::ZERO, Amount::ZERO),
    };
    u.insert("services.nodeports".into(), node_ports);
    u.insert("services.loadbalancers".into(), lbs);
    u
}

/// A claim's storage class: the beta annotation, else
/// `spec.storageClassName`.
fn claim_class(pvc: &Value) -> &str {
    match str_at(
        pvc,
        &["metadata", "annotations", BETA_STORAGE_CLASS_ANNOTATION],
    ) {
        Some(c) => c,
        None => str_or_empty(pvc, &["spec", "storageClassName"]),
    }
}

fn claim_usage(pvc: &Value) -> ResourceList {
    let mut u = ResourceList::new();
    u.insert("persistentvolumeclaims".into(), Amount::from_int(1));
    u.insert("count/persistentvolumeclaims".into(), Amount::from_int(1));
    let class = claim_class(pvc);
    if !class.is_empty() {
        u.insert(
            format!("{class}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"),
            Amount::from_int(1),
        );
    }
    // The larger of the request and the allocation (a resize in
    // progress), counted in whole bytes.
    let requested = list_from_json(get(pvc, &["spec", "resources", "requests"]))
        .get("storage")
        .map(|a| a.round_up());
    let allocated = if has(pvc, &["status", "allocatedResources"]) {
        list_from_json(get(pvc, &["status", "allocatedResources"]))
            .get("storage")
            .copied()
    } else {
        None
    };
    let storage = match (requested, allocated) {
        (Some(r), Some(a)) if a.nanos() > r.nanos() => Some(a.round_up()),
        (Some(r), _) => Some(r),
        (None, a) => a.map(Amount::round_up),
    };
    if let Some(s) = storage {
        u.insert("requests.storage".into(), s);
        if !class.is_empty() {
            u.insert(format!("{class}{STORAGE_CLASS_SUFFIX}requests.storage"), s);
        }
    }
    u
}

#[cfg(test)]
mod tests;

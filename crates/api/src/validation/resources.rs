//! Resource names and quantities: container requests and limits, and the
//! names quotas, limit ranges and node capacity use.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

use super::error::{FieldError, Path};
use super::names::qualified_name_errors;
use super::quantity::Quantity;

const STANDARD_RESOURCES: &[&str] = &[
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
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];

fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

/// Whether a resource name is one Kubernetes defines (no domain, or a
/// `kubernetes.io/` one).
pub fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Whether a resource name is an extended (vendor) resource.
pub fn is_extended_resource(name: &str) -> bool {
    !is_native_resource(name)
        && !name.starts_with("requests.")
        && qualified_name_errors(&format!("requests.{name}")).is_empty()
}

/// A resource name of quotas, limit ranges and node capacity: a qualified
/// name, standard unless domain-prefixed.
pub fn validate_resource_name(name: &str, path: &Path) -> Vec<FieldError> {
    let errs: Vec<FieldError> = qualified_name_errors(name)
        .into_iter()
        .map(|m| FieldError::invalid(path, name, m))
        .collect();
    if !errs.is_empty() {
        return errs;
    }
    let standard = STANDARD_RESOURCES.contains(&name)
        || is_hugepages(name)
        || name.starts_with("requests.hugepages-");
    if !name.contains('/') && !standard {
        return vec![FieldError::invalid(
            path,
            name,
            "must be a standard resource type or fully qualified",
        )];
    }
    Vec::new()
}

pub(crate) fn validate_container_resource_name(name: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = validate_resource_name(name, path);
    if !name.contains('/') {
        if !["cpu", "memory", "ephemeral-storage"].contains(&name) && !is_hugepages(name) {
            errs.push(FieldError::invalid(
                path,
                name,
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native_resource(name) && !is_extended_resource(name) {
        errs.push(FieldError::invalid(
            path,
            name,
            "doesn't follow extended resource name standard",
        ));
    }
    errs
}

/// A quantity's value checks: non-negative, whole for counted resources.
pub fn validate_quantity_value(resource: &str, q: &K8sQuantity, path: &Path) -> Vec<FieldError> {
    let Ok(v) = Quantity::parse(&q.0) else {
        // Syntax errors were reported by the decoding step.
        return Vec::new();
    };
    let mut errs = Vec::new();
    if v.is_negative() {
        errs.push(FieldError::invalid(
            path,
            q.0.as_str(),
            "must be greater than or equal to 0",
        ));
    }
    let counted = [
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "services.nodeports",
        "services.loadbalancers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
    ];
    if (counted.contains(&resource) || is_extended_resource(resource)) && !v.is_integer() {
        errs.push(FieldError::invalid(
            path,
            q.0.as_str(),
            "must be an integer",
        ));
    }
    errs
}

/// Container resources: names, values, and requests within limits.
pub fn validate_resources(r: &ResourceRequirements, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let empty = BTreeMap::new();
    let limits = r.limits.as_ref().unwrap_or(&empty);
    let requests = r.requests.as_ref().unwrap_or(&empty);
    let lim_path = path.child("limits");
    let req_path = path.child("requests");
    for (k, q) in limits {
        let p = lim_path.key(k);
        errs.extend(validate_container_resource_name(k, &p));
        errs.extend(validate_quantity_value(k, q, &p));
    }
    for (k, q) in requests {
        let p = req_path.key(k);
        errs.extend(validate_container_resource_name(k, &p));
        errs.extend(validate_quantity_value(k, q, &p));
        let overcommit = is_native_resource(k) && !is_hugepages(k);
        match limits.get(k) {
            Some(l) => {
                let (Ok(rq), Ok(lq)) = (Quantity::parse(&q.0), Quantity::parse(&l.0)) else {
                    continue;
                };
                if !overcommit && rq != lq {
                    errs.push(FieldError::invalid(
                        &req_path,
                        q.0.as_str(),
                        format!("must be equal to {k} limit of {}", l.0),
                    ));
                } else if rq > lq {
                    errs.push(FieldError::invalid(
                        &req_path,
                        q.0.as_str(),
                        format!("must be less than or equal to {k} limit of {}", l.0),
                    ));
                }
            }
            None if !overcommit => errs.push(FieldError::required(
                &lim_path,
                "Limit must be set for non overcommitable resources",
            )),
            None => {}
        }
    }
    errs
}

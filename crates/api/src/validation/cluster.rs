//! Namespaces, Nodes and Leases.

use std::collections::BTreeSet;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Namespace, Node};
use serde_json::Value;

use super::error::{FieldError, Path};
use super::meta::{s, validate_finalizer_name, validate_label_name, validate_object_meta};
use super::names::{label_value_errors, name_is_dns_label, name_is_dns_subdomain};
use super::net::{is_valid_cidr, parse_ip, validate_cidr};
use super::pod::validate_taint_effect;
use super::resources::validate_quantity_value;

/// A Namespace.
pub fn validate_namespace(ns: &Namespace) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &ns.metadata,
        false,
        name_is_dns_label,
        &Path::new("metadata"),
    );
    let fp = Path::new("spec").child("finalizers");
    for f in ns.spec.iter().flat_map(|s| s.finalizers.iter().flatten()) {
        errs.extend(validate_finalizer_name(f, &fp));
    }
    errs
}

/// A Node.
pub fn validate_node(node: &Node) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &node.metadata,
        false,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let spec = node.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let mut seen = BTreeSet::new();
    for (i, t) in spec.taints.iter().flatten().enumerate() {
        let ip = sp.child("taints").index(i);
        errs.extend(validate_label_name(&t.key, &ip.child("key")));
        let msgs = label_value_errors(s(&t.value));
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &ip.child("value"),
                s(&t.value),
                msgs.join(";"),
            ));
        }
        errs.extend(validate_taint_effect(&t.effect, false, &ip.child("effect")));
        if !seen.insert((t.key.as_str(), t.effect.as_str())) {
            let mut e = FieldError::duplicate(&ip, serde_json::to_value(t).unwrap_or(Value::Null));
            e.detail = "taints must be unique by key and effect pair".into();
            errs.push(e);
        }
    }
    let cidrs = spec.pod_cidrs.as_deref().unwrap_or_default();
    let cp = sp.child("podCIDRs");
    for (i, c) in cidrs.iter().enumerate() {
        errs.extend(validate_cidr(&cp.index(i), c));
    }
    if cidrs.len() > 1 && cidrs.iter().all(|c| is_valid_cidr(c)) {
        let v4 = cidrs
            .iter()
            .filter(|c| {
                c.split('/')
                    .next()
                    .and_then(parse_ip)
                    .is_some_and(|ip| ip.is_ipv4())
            })
            .count();
        if cidrs.len() > 2 || v4 != 1 {
            errs.push(FieldError::invalid(
                &cp,
                serde_json::to_value(cidrs).unwrap_or(Value::Null),
                "may specify no more than one CIDR for each IP family",
            ));
        }
    }
    if let Some(status) = &node.status {
        for (field, list) in [
            ("capacity", &status.capacity),
            ("allocatable", &status.allocatable),
        ] {
            for (k, q) in list.iter().flatten() {
                errs.extend(validate_quantity_value(
                    k,
                    q,
                    &Path::new("status").child(field).child(k),
                ));
            }
        }
    }
    errs
}

/// A Node update: an assigned pod CIDR and provider ID stay.
pub fn validate_node_update(new: &Node, old: &Node) -> Vec<FieldError> {
    let (n, o) = (
        new.spec.clone().unwrap_or_default(),
        old.spec.clone().unwrap_or_default(),
    );
    let mut errs = Vec::new();
    let old_cidrs = o.pod_cidrs.unwrap_or_default();
    if !old_cidrs.is_empty() && n.pod_cidrs.unwrap_or_default() != old_cidrs {
        errs.push(FieldError::forbidden(
            &Path::new("spec").child("podCIDRs"),
            "node updates may not change podCIDR except from \"\" to valid",
        ));
    }
    let old_provider = s(&o.provider_id);
    if !old_provider.is_empty() && old_provider != s(&n.provider_id) {
        errs.push(FieldError::forbidden(
            &Path::new("spec").child("providerID"),
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
    errs
}

/// A Lease.
pub fn validate_lease(lease: &Lease, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &lease.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let spec = lease.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    if let Some(d) = spec.lease_duration_seconds.filter(|d| *d <= 0) {
        errs.push(FieldError::invalid(
            &sp.child("leaseDurationSeconds"),
            d,
            "must be greater than 0",
        ));
    }
    if let Some(t) = spec.lease_transitions.filter(|t| *t < 0) {
        errs.push(FieldError::invalid(
            &sp.child("leaseTransitions"),
            t,
            "must be greater than or equal to 0",
        ));
    }
    if let Some(st) = spec.strategy.as_deref()
        && st != "OldestEmulationVersion"
    {
        errs.push(FieldError::not_supported(
            &sp.child("strategy"),
            st,
            &["OldestEmulationVersion"],
        ));
    }
    if !s(&spec.preferred_holder).is_empty() && s(&spec.strategy).is_empty() {
        errs.push(FieldError::forbidden(
            &sp.child("preferredHolder"),
            "may only be specified if `strategy` is defined",
        ));
    }
    errs
}

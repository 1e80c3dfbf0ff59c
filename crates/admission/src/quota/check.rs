//! The ResourceQuota admission check (upstream's `CheckRequest`): charge
//! the request's usage (on updates, the change) to every quota of the
//! namespace that covers the object, refuse when one would go over its
//! hard limit, and return the quotas' new `status.used` — which the API
//! server writes in the same transaction as the object.
//!
//! As upstream, a quota counts with `status.hard` (what the quota
//! controller has confirmed), not `spec.hard`: a quota the controller has
//! not seen yet constrains nothing, and one whose `status.used` lacks a
//! constrained resource refuses with "status unknown for quota".

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ResourceQuota;
use serde_json::Value;

use crate::error::AdmissionError;
use crate::json::{arr_at, str_or_empty};
use crate::pod_resources::container_list;
use crate::quantity::{
    ResourceList, add_lists, list_from_strings, list_to_strings, subtract_lists,
    subtract_lists_non_negative,
};
use crate::quota::scopes::matches_scopes;
use crate::quota::usage::{Evaluator, compute_usage, evaluator, matching_resources, usage};
use crate::request::{Operation, Request};

/// Resources quota never counts (virtual resources, and events).
pub const IGNORED_RESOURCES: [(&str, &str); 10] = [
    ("", "bindings"),
    ("", "componentstatuses"),
    ("", "events"),
    ("events.k8s.io", "events"),
    ("authentication.k8s.io", "tokenreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "localsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
];

/// Resources whose absence in a container is refused when a quota
/// constrains them (upstream keeps this for compatibility only).
const MUST_SPECIFY: [&str; 6] = [
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

/// A quota whose usage changes: its index in the quotas given, and its new
/// `status.used` (canonical quantities).
pub type QuotaUpdate = (usize, BTreeMap<String, String>);

/// Checks `req` (with its new object and, on updates, the stored one)
/// against the namespace's `quotas`. On success, returns the quotas whose
/// usage changes: (index into `quotas`, new `status.used` in canonical
/// form).
pub fn check(
    quotas: &[ResourceQuota],
    req: &Request,
    new: &Value,
    old: Option<&Value>,
) -> Result<Vec<QuotaUpdate>, AdmissionError> {
    if quotas.is_empty() || !applies(req) {
        return Ok(Vec::new());
    }
    let ev = evaluator(&req.group, &req.resource);
    if !handles(ev, req) {
        return Ok(Vec::new());
    }

    let mut interesting = Vec::new();
    for (i, q) in quotas.iter().enumerate() {
        let hard = status_list(q, false);
        let hard_names: Vec<String> = hard.keys().cloned().collect();
        let restricted = matching_resources(&req.group, &req.resource, &hard_names);
        if restricted.is_empty() || !matches_scopes(q, &req.group, &req.resource, new) {
            continue;
        }
        let name = quota_name(q);
        if ev == Evaluator::Pods
            && let Some(missing) = pod_constraints(&restricted, new)
        {
            return Err(req.forbidden(Some(new), format!("failed quota: {name}: {missing}")));
        }
        let used = status_list(q, true);
        let unknown: Vec<&String> = restricted
            .iter()
            .filter(|r| !used.contains_key(*r))
            .collect();
        if !unknown.is_empty() {
            let mut all: Vec<&String> = restricted.iter().collect();
            all.sort();
            all.dedup();
            return Err(req.forbidden(
                Some(new),
                format!(
                    "status unknown for quota: {name}, resources: {}",
                    all.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
                ),
            ));
        }
        interesting.push(i);
    }

    let mut delta = usage(&req.group, &req.resource, new);
    let negative: BTreeSet<&String> = delta
        .iter()
        .filter(|(_, v)| v.is_negative())
        .map(|(k, _)| k)
        .collect();
    if !negative.is_empty() {
        return Err(req.forbidden(
            Some(new),
            format!(
                "quota usage is negative for resource(s): {}",
                negative
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ));
    }
    if req.operation == Operation::Update {
        let Some(old) = old else {
            return Err(req.forbidden(
                Some(new),
                "unable to get previous usage since prior version of object was not found",
            ));
        };
        // Without a resource version this is a create through an update:
        // charge it all.
        if !str_or_empty(old, &["metadata", "resourceVersion"]).is_empty() {
            let prev = usage(&req.group, &req.resource, old);
            delta = if ev == Evaluator::Pods {
                // Pods may shrink (in-place resize).
                subtract_lists(&delta, &prev)
            } else {
                subtract_lists_non_negative(&delta, &prev)
            };
        }
    }
    delta.retain(|_, v| !v.is_zero());
    if delta.is_empty() || interesting.is_empty() {
        return Ok(Vec::new());
    }

    let mut out = Vec::new();
    for i in interesting {
        let q = &quotas[i];
        let hard = status_list(q, false);
        let used = status_list(q, true);
        let requested: ResourceList = delta
            .iter()
            .filter(|(k, _)| hard.contains_key(*k))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let new_used = add_lists(&used, &requested);
        let exceeded: Vec<&String> = requested
            .keys()
            .filter(|k| match (new_used.get(*k), hard.get(*k)) {
                (Some(n), Some(h)) => n.nanos() > h.nanos(),
                _ => false,
            })
            .collect();
        if !exceeded.is_empty() {
            let pick = |l: &ResourceList| -> String {
                exceeded
                    .iter()
                    .filter_map(|k| l.get(*k).map(|v| format!("{k}={v}")))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            return Err(req.forbidden(
                Some(new),
                format!(
                    "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                    quota_name(q),
                    pick(&requested),
                    pick(&used),
                    pick(&hard)
                ),
            ));
        }
        if !same_values(&new_used, &used) {
            out.push((i, list_to_strings(&new_used)));
        }
    }
    Ok(out)
}

/// Whether quota looks at this request at all: namespaced, not a
/// subresource (except pod resizes), not a namespace create, not an
/// ignored resource, and a create or update.
fn applies(req: &Request) -> bool {
    let resize = req.is("", "pods") && req.subresource == "resize";
    if !req.subresource.is_empty() && !resize {
        return false;
    }
    if req.namespace.is_empty() || req.is("", "namespaces") {
        return false;
    }
    if IGNORED_RESOURCES
        .iter()
        .any(|(g, r)| req.group == *g && req.resource == *r)
    {
        return false;
    }
    matches!(req.operation, Operation::Create | Operation::Update)
}

/// Upstream's evaluators' `Handles`.
fn handles(ev: Evaluator<'_>, req: &Request) -> bool {
    match ev {
        Evaluator::Pods => match req.subresource.as_str() {
            "" => req.operation == Operation::Create,
            "resize" => req.operation == Operation::Update,
            _ => false,
        },
        Evaluator::Services | Evaluator::Claims => true,
        Evaluator::Count { .. } => req.operation == Operation::Create,
    }
}

fn quota_name(q: &ResourceQuota) -> String {
    q.metadata.name.clone().unwrap_or_default()
}

/// `status.hard` (`used: false`) or `status.used`.
fn status_list(q: &ResourceQuota, used: bool) -> ResourceList {
    let m = q.status.as_ref().and_then(|s| {
        if used {
            s.used.as_ref()
        } else {
            s.hard.as_ref()
        }
    });
    list_from_strings(m.into_iter().flatten().map(|(k, v)| (k, v.0.as_str())))
}

/// Upstream's `quota.Equals`.
fn same_values(a: &ResourceList, b: &ResourceList) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|o| o.nanos() == v.nanos()))
}

/// Upstream's pod `Constraints`: when a quota constrains cpu or memory,
/// every container must state it. `None` when nothing is missing.
fn pod_constraints(restricted: &[String], pod: &Value) -> Option<String> {
    let required: BTreeSet<&str> = restricted
        .iter()
        .map(String::as_str)
        .filter(|r| MUST_SPECIFY.contains(r))
        .collect();
    if required.is_empty() {
        return None;
    }
    let mut missing: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for c in arr_at(pod, &["spec", "containers"])
        .iter()
        .chain(arr_at(pod, &["spec", "initContainers"]))
    {
        let has = compute_usage(&container_list(c, false), &container_list(c, true));
        for r in &required {
            if !has.contains_key(*r) {
                missing
                    .entry(r)
                    .or_default()
                    .insert(str_or_empty(c, &["name"]).to_string());
            }
        }
    }
    if missing.is_empty() {
        return None;
    }
    let parts: Vec<String> = missing
        .iter()
        .map(|(r, names)| {
            format!(
                "{r} for: {}",
                names
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect();
    Some(format!("must specify {}", parts.join("; ")))
}

#[cfg(test)]
mod tests;

//! What a node may do to its Node object: only its own, without setting a
//! config source, changing its taints, or setting labels it may not set.

use std::collections::{BTreeMap, BTreeSet};

use super::Ctx;
use crate::error::AdmissionError;
use crate::json::{get, normalized, string_map};
use crate::request::Operation;

/// Labels a kubelet sets on its own Node (`kubeletapis.IsKubeletLabel`).
const KUBELET_LABELS: [&str; 11] = [
    "kubernetes.io/hostname",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "kubernetes.io/os",
    "kubernetes.io/arch",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
];

/// Label namespaces (and their subdomains) a kubelet may use.
const KUBELET_LABEL_NAMESPACES: [&str; 2] = ["kubelet.kubernetes.io", "node.kubernetes.io"];

/// The label namespace reserved for what nodes may not set.
const NODE_RESTRICTION_NAMESPACE: &str = "node-restriction.kubernetes.io";

fn label_namespace(key: &str) -> &str {
    key.split_once('/').map_or("", |(ns, _)| ns)
}

fn in_namespace(ns: &str, domain: &str) -> bool {
    ns == domain || ns.ends_with(&format!(".{domain}"))
}

/// Whether a kubelet may set `key` (upstream's `IsKubeletLabel`).
pub fn is_kubelet_label(key: &str) -> bool {
    KUBELET_LABELS.contains(&key)
        || KUBELET_LABEL_NAMESPACES
            .iter()
            .any(|d| in_namespace(label_namespace(key), d))
}

fn is_kubernetes_label(key: &str) -> bool {
    let ns = label_namespace(key);
    in_namespace(ns, "kubernetes.io") || in_namespace(ns, "k8s.io")
}

/// Keys added, removed or changed between two label maps.
fn modified(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> BTreeSet<String> {
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// Upstream's `getForbiddenLabels`.
fn forbidden_labels(modified: &BTreeSet<String>) -> Vec<String> {
    modified
        .iter()
        .filter(|k| {
            in_namespace(label_namespace(k), NODE_RESTRICTION_NAMESPACE)
                || (is_kubernetes_label(k) && !is_kubelet_label(k))
        })
        .cloned()
        .collect()
}

/// A value for upstream's semantic equality: nil and empty are the same.
fn semantic(v: Option<&serde_json::Value>) -> serde_json::Value {
    normalized(&serde_json::json!({ "v": v }))
}

pub(super) fn admit_node(ctx: &Ctx<'_>) -> Result<(), AdmissionError> {
    let node = ctx.node;
    let requested = ctx.req.name.as_str();
    if requested != node {
        return Err(ctx.forbidden(format!(
            "node \"{node}\" is not allowed to modify node \"{requested}\""
        )));
    }
    match ctx.req.operation {
        Operation::Create => {
            let obj = ctx.new_obj()?;
            if get(obj, &["spec", "configSource"]).is_some_and(|c| !c.is_null()) {
                return Err(ctx.forbidden(format!(
                    "node \"{node}\" is not allowed to create pods with a non-nil configSource"
                )));
            }
            let labels = string_map(obj, &["metadata", "labels"]);
            let bad = forbidden_labels(&modified(&labels, &BTreeMap::new()));
            if !bad.is_empty() {
                return Err(ctx.forbidden(format!(
                    "node \"{node}\" is not allowed to set the following labels: {}",
                    bad.join(", ")
                )));
            }
        }
        Operation::Update => {
            let new = ctx.new_obj()?;
            let old = ctx.old_obj()?;
            let config = |v: &serde_json::Value| {
                get(v, &["spec", "configSource"])
                    .filter(|c| !c.is_null())
                    .map(|c| semantic(Some(c)))
            };
            if let Some(c) = config(new)
                && Some(c) != config(old)
            {
                return Err(ctx.forbidden(format!(
                        "node \"{node}\" is not allowed to update configSource to a new non-nil configSource"
                    )));
            }
            let taints = |v: &serde_json::Value| semantic(get(v, &["spec", "taints"]));
            if taints(new) != taints(old) {
                return Err(
                    ctx.forbidden(format!("node \"{node}\" is not allowed to modify taints"))
                );
            }
            let bad = forbidden_labels(&modified(
                &string_map(new, &["metadata", "labels"]),
                &string_map(old, &["metadata", "labels"]),
            ));
            if !bad.is_empty() {
                return Err(ctx.forbidden(format!(
                    "is not allowed to modify labels: {}",
                    bad.join(", ")
                )));
            }
        }
        _ => {}
    }
    Ok(())
}

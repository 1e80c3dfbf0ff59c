//! What a node may do to pods, their status and eviction, claim status,
//! and service-account tokens for its pods.

use serde_json::{Map, Value};

use super::Ctx;
use crate::error::AdmissionError;
use crate::json::{arr_at, get, has, normalized, str_at, str_or_empty, string_map};
use crate::podrefs::{configmap_names, secret_names};
use crate::request::Operation;
use crate::serviceaccount::MIRROR_POD_ANNOTATION;

pub(super) fn admit_pod(ctx: &Ctx<'_>) -> Result<(), AdmissionError> {
    let node = ctx.node;
    match ctx.req.operation {
        Operation::Create => admit_pod_create(ctx),
        Operation::Delete => {
            let Some(existing) = ctx.lookups.pod.or(ctx.old) else {
                return Err(AdmissionError::not_found("", "pods", &ctx.req.name));
            };
            if str_or_empty(existing, &["spec", "nodeName"]) != node {
                return Err(ctx.forbidden(format!(
                    "node \"{node}\" can only delete pods with spec.nodeName set to itself"
                )));
            }
            Ok(())
        }
        op => Err(ctx.forbidden(format!(
            "unexpected operation \"{op}\", node \"{node}\" can only create and delete mirror pods"
        ))),
    }
}

fn admit_pod_create(ctx: &Ctx<'_>) -> Result<(), AdmissionError> {
    let node = ctx.node;
    let pod = ctx.new_obj()?;
    let annotations = get(pod, &["metadata", "annotations"]).and_then(Value::as_object);
    if !annotations.is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION)) {
        return Err(ctx.forbidden(format!(
            "pod does not have \"{MIRROR_POD_ANNOTATION}\" annotation, node \"{node}\" can only create mirror pods"
        )));
    }
    if str_or_empty(pod, &["spec", "nodeName"]) != node {
        return Err(ctx.forbidden(format!(
            "node \"{node}\" can only create pods with spec.nodeName set to itself"
        )));
    }
    let owners = arr_at(pod, &["metadata", "ownerReferences"]);
    match owners {
        [] => {
            return Err(ctx.forbidden(format!(
                "node \"{node}\" can only create pods with an owner reference set to itself"
            )));
        }
        [owner] => {
            if str_at(owner, &["apiVersion"]) != Some("v1")
                || str_at(owner, &["kind"]) != Some("Node")
                || str_at(owner, &["name"]) != Some(node)
            {
                return Err(ctx.forbidden(format!(
                    "node \"{node}\" can only create pods with an owner reference set to itself"
                )));
            }
            if get(owner, &["controller"]).and_then(Value::as_bool) != Some(true) {
                return Err(ctx.forbidden(format!(
                    "node \"{node}\" can only create pods with a controller owner reference set to itself"
                )));
            }
            if get(owner, &["blockOwnerDeletion"]).and_then(Value::as_bool) == Some(true) {
                return Err(ctx.forbidden(format!(
                    "node \"{node}\" must not set blockOwnerDeletion on an owner reference"
                )));
            }
            let Some(node_obj) = ctx.lookups.node else {
                return Err(AdmissionError::not_found("", "nodes", node));
            };
            let want = str_or_empty(owner, &["uid"]);
            let have = str_or_empty(node_obj, &["metadata", "uid"]);
            if want != have {
                return Err(ctx.forbidden(format!(
                    "node {node} UID mismatch: expected {want} got {have}"
                )));
            }
        }
        _ => {
            return Err(ctx.forbidden(format!(
                "node \"{node}\" can only create pods with a single owner reference set to itself"
            )));
        }
    }
    if !str_or_empty(pod, &["spec", "serviceAccountName"]).is_empty() {
        return Err(ctx.forbidden(format!(
            "node \"{node}\" can not create pods that reference a service account"
        )));
    }
    if !secret_names(pod).is_empty() {
        return Err(ctx.forbidden(format!(
            "node \"{node}\" can not create pods that reference secrets"
        )));
    }
    if !configmap_names(pod).is_empty() {
        return Err(ctx.forbidden(format!(
            "node \"{node}\" can not create pods that reference configmaps"
        )));
    }
    let volumes = arr_at(pod, &["spec", "volumes"]);
    if volumes.iter().any(|v| {
        arr_at(v, &["projected", "sources"])
            .iter()
            .any(|s| has(s, &["clusterTrustBundle"]))
    }) {
        return Err(ctx.forbidden(format!(
            "node \"{node}\" can not create pods that reference clustertrustbundles"
        )));
    }
    if volumes.iter().any(|v| has(v, &["persistentVolumeClaim"])) {
        return Err(ctx.forbidden(format!(
            "node \"{node}\" can not create pods that reference persistentvolumeclaims"
        )));
    }
    Ok(())
}

pub(super) fn admit_status(ctx: &Ctx<'_>) -> Result<(), AdmissionError> {
    let node = ctx.node;
    if ctx.req.operation != Operation::Update {
        return Err(ctx.unexpected_operation());
    }
    let old = ctx.old_obj()?;
    if str_or_empty(old, &["spec", "nodeName"]) != node {
        return Err(ctx.forbidden(format!(
            "node \"{node}\" can only update pod status for pods with spec.nodeName set to itself"
        )));
    }
    let new = ctx.new_obj()?;
    if string_map(old, &["metadata", "labels"]) != string_map(new, &["metadata", "labels"]) {
        return Err(ctx.forbidden(format!(
            "node \"{node}\" cannot update labels through pod status"
        )));
    }
    let claims = |p: &Value| -> Vec<(String, Option<String>)> {
        arr_at(p, &["status", "resourceClaimStatuses"])
            .iter()
            .map(|s| {
                (
                    str_or_empty(s, &["name"]).to_string(),
                    str_at(s, &["resourceClaimName"]).map(str::to_string),
                )
            })
            .collect()
    };
    if claims(old) != claims(new) {
        return Err(ctx.forbidden(format!(
            "node \"{node}\" cannot update resource claim statues"
        )));
    }
    Ok(())
}

pub(super) fn admit_eviction(ctx: &Ctx<'_>) -> Result<(), AdmissionError> {
    let node = ctx.node;
    if ctx.req.operation != Operation::Create {
        return Err(ctx.forbidden(format!("unexpected operation {}", ctx.req.operation)));
    }
    let eviction = ctx.new_obj()?;
    let mut pod_name = ctx.req.name.as_str();
    if pod_name.is_empty() {
        pod_name = str_or_empty(eviction, &["metadata", "name"]);
        if pod_name.is_empty() {
            return Err(ctx.forbidden("could not determine pod from request data"));
        }
    }
    let Some(existing) = ctx.lookups.pod else {
        return Err(AdmissionError::not_found("", "pods", pod_name));
    };
    if str_or_empty(existing, &["spec", "nodeName"]) != node {
        return Err(ctx.forbidden(format!(
            "node {node} can only evict pods with spec.nodeName set to itself"
        )));
    }
    Ok(())
}

/// A claim without what a node may change (and what never counts).
fn claim_without_node_fields(claim: &Value) -> Value {
    let mut c = claim.clone();
    if let Some(meta) = c.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
        meta.remove("managedFields");
    }
    if let Some(status) = c.get_mut("status").and_then(Value::as_object_mut) {
        for f in [
            "capacity",
            "conditions",
            "allocatedResourceStatuses",
            "allocatedResources",
        ] {
            status.remove(f);
        }
    }
    normalized(&c)
}

/// The top-level paths (`metadata.labels`, `spec`) where two objects
/// differ, for the message.
fn differing_paths(a: &Value, b: &Value) -> Vec<String> {
    let empty = Map::new();
    let am = a.as_object().unwrap_or(&empty);
    let bm = b.as_object().unwrap_or(&empty);
    let mut out = Vec::new();
    let mut keys: Vec<&String> = am.keys().chain(bm.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        match (am.get(k), bm.get(k)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x @ Value::Object(_)), Some(y @ Value::Object(_))) => {
                out.extend(
                    differing_paths(x, y)
                        .into_iter()
                        .map(|p| format!("{k}.{p}")),
                );
            }
            _ => out.push(k.clone()),
        }
    }
    out
}

pub(super) fn admit_claim_status(ctx: &Ctx<'_>) -> Result<(), AdmissionError> {
    let node = ctx.node;
    if ctx.req.operation != Operation::Update {
        return Err(ctx.unexpected_operation());
    }
    let old = claim_without_node_fields(ctx.old_obj()?);
    let new = claim_without_node_fields(ctx.new_obj()?);
    if old != new {
        return Err(ctx.forbidden(format!(
            "node \"{node}\" is not allowed to update fields other than status.quantity and status.conditions: {}",
            differing_paths(&old, &new).join(", ")
        )));
    }
    Ok(())
}

pub(super) fn admit_token(ctx: &Ctx<'_>) -> Result<(), AdmissionError> {
    if ctx.req.operation != Operation::Create || ctx.req.subresource != "token" {
        return Ok(());
    }
    let tr = ctx.new_obj()?;
    let bound = |f: &str| str_or_empty(tr, &["spec", "boundObjectRef", f]);
    if !has(tr, &["spec", "boundObjectRef"])
        || bound("apiVersion") != "v1"
        || bound("kind") != "Pod"
        || bound("name").is_empty()
    {
        return Err(ctx.forbidden("node requested token not bound to a pod"));
    }
    let uid = bound("uid");
    if uid.is_empty() {
        return Err(ctx.forbidden("node requested token with a pod binding without a uid"));
    }
    let Some(pod) = ctx.lookups.pod else {
        return Err(AdmissionError::not_found("", "pods", bound("name")));
    };
    if uid != str_or_empty(pod, &["metadata", "uid"]) {
        return Err(ctx.forbidden(format!(
            "the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated"
        )));
    }
    if str_or_empty(pod, &["spec", "nodeName"]) != ctx.node {
        return Err(
            ctx.forbidden("node requested token bound to a pod scheduled on a different node")
        );
    }
    let audiences = arr_at(tr, &["spec", "audiences"]);
    let audience = match audiences {
        [] => "",
        [one] => one.as_str().unwrap_or(""),
        _ => return Err(ctx.forbidden("node may only request 0 or 1 audiences")),
    };
    let in_pod = arr_at(pod, &["spec", "volumes"]).iter().any(|v| {
        arr_at(v, &["projected", "sources"]).iter().any(|s| {
            has(s, &["serviceAccountToken"])
                && str_or_empty(s, &["serviceAccountToken", "audience"]) == audience
        })
    });
    if in_pod
        || ctx.lookups.csi_audiences.iter().any(|a| a == audience)
        || ctx.lookups.audience_authorized
    {
        return Ok(());
    }
    Err(ctx.forbidden(format!(
        "audience \"{audience}\" not found in pod spec volume, {} is not authorized to request tokens for this audience",
        ctx.req.user.name
    )))
}

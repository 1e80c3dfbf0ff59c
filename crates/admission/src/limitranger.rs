//! LimitRanger (upstream's `limitranger` plugin): fills containers'
//! missing requests and limits from the namespace's LimitRanges
//! (`Container` type `defaultRequest`/`default`), then enforces their
//! `min`, `max` and `maxLimitRequestRatio` per container, per pod, and on
//! claims' storage requests.
//!
//! Upstream handles pod creates, pod `resize` updates and claim creates
//! and updates; other pod updates cannot change resources and are skipped,
//! as are objects already being deleted.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{LimitRange, LimitRangeItem};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use serde_json::{Value, json};

use crate::error::AdmissionError;
use crate::json::{arr_at, get, has, obj_mut, str_or_empty};
use crate::pod_resources::{Options, StatusResources, container_list, pod_limits, pod_requests};
use crate::quantity::{Amount, ResourceList};
use crate::request::{Operation, Request};

/// The annotation recording what the plugin filled in.
pub const LIMIT_RANGER_ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// Mutates, then validates (both phases of upstream's plugin).
pub fn admit(
    req: &Request,
    obj: &mut Value,
    old: Option<&Value>,
    ranges: &[LimitRange],
) -> Result<(), AdmissionError> {
    mutate(req, obj, old, ranges)?;
    validate(req, obj, old, ranges)
}

/// The mutating phase: default requests and limits of pod containers.
pub fn mutate(
    req: &Request,
    obj: &mut Value,
    old: Option<&Value>,
    ranges: &[LimitRange],
) -> Result<(), AdmissionError> {
    if !supports(req, old) || !req.is("", "pods") || !obj.is_object() {
        return Ok(());
    }
    for range in ranges {
        let (requests, limits) = default_requirements(range);
        merge_pod_defaults(obj, &requests, &limits);
    }
    Ok(())
}

/// The validating phase: min, max and ratio checks; the first LimitRange
/// violated refuses with all its violations.
pub fn validate(
    req: &Request,
    obj: &Value,
    old: Option<&Value>,
    ranges: &[LimitRange],
) -> Result<(), AdmissionError> {
    if !supports(req, old) || !obj.is_object() {
        return Ok(());
    }
    for range in ranges {
        let errs = if req.is("", "pods") {
            validate_pod(range, obj)
        } else if req.is("", "persistentvolumeclaims") {
            validate_claim(range, obj)
        } else {
            Vec::new()
        };
        if !errs.is_empty() {
            return Err(req.forbidden(Some(obj), aggregate(&errs)));
        }
    }
    Ok(())
}

/// Upstream's `SupportsAttributes` plus the deletion check.
fn supports(req: &Request, old: Option<&Value>) -> bool {
    if !matches!(req.operation, Operation::Create | Operation::Update) {
        return false;
    }
    let pod = req.is("", "pods");
    let handled = if pod && req.subresource == "resize" && req.operation == Operation::Update {
        true
    } else if !req.subresource.is_empty() {
        false
    } else if pod {
        req.operation == Operation::Create
    } else {
        req.is("", "persistentvolumeclaims")
    };
    handled && !old.is_some_and(|o| has(o, &["metadata", "deletionTimestamp"]))
}

/// A LimitRange item's lists, with the API's defaulting applied
/// (`SetDefaults_LimitRangeItem`: for `Container` items, `default` falls
/// back to `max`, `defaultRequest` to `default`, then to `min`), which a
/// stored LimitRange normally already has.
struct Item {
    kind: String,
    min: ResourceList,
    max: ResourceList,
    ratio: ResourceList,
    default: ResourceList,
    default_request: ResourceList,
}

fn list(m: &Option<BTreeMap<String, K8sQuantity>>) -> ResourceList {
    crate::quantity::list_from_strings(m.iter().flatten().map(|(k, v)| (k, v.0.as_str())))
}

fn item(i: &LimitRangeItem) -> Item {
    let mut it = Item {
        kind: i.type_.clone(),
        min: list(&i.min),
        max: list(&i.max),
        ratio: list(&i.max_limit_request_ratio),
        default: list(&i.default),
        default_request: list(&i.default_request),
    };
    if it.kind == "Container" {
        for (k, v) in &it.max {
            it.default.entry(k.clone()).or_insert(*v);
        }
        for (k, v) in &it.default {
            it.default_request.entry(k.clone()).or_insert(*v);
        }
        for (k, v) in &it.min {
            it.default_request.entry(k.clone()).or_insert(*v);
        }
    }
    it
}

fn items(range: &LimitRange) -> Vec<Item> {
    range
        .spec
        .iter()
        .flat_map(|s| s.limits.iter())
        .map(item)
        .collect()
}

/// Upstream's `defaultContainerResourceRequirements`: (requests, limits),
/// in canonical form as upstream writes the copied quantities.
fn default_requirements(range: &LimitRange) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    for raw in range.spec.iter().flat_map(|s| s.limits.iter()) {
        if raw.type_ != "Container" {
            continue;
        }
        let it = item(raw);
        for (k, v) in &it.default_request {
            requests.insert(k.clone(), json!(v.canonical()));
        }
        for (k, v) in &it.default {
            limits.insert(k.clone(), json!(v.canonical()));
        }
    }
    (requests, limits)
}

/// Upstream's `mergePodResourceRequirements`, with the annotation.
fn merge_pod_defaults(
    pod: &mut Value,
    requests: &BTreeMap<String, Value>,
    limits: &BTreeMap<String, Value>,
) {
    let mut notes: Vec<String> = Vec::new();
    for (list, label) in [
        ("containers", "container"),
        ("initContainers", "init container"),
    ] {
        let Some(containers) = pod
            .get_mut("spec")
            .and_then(|s| s.get_mut(list))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for c in containers.iter_mut().filter(|c| c.is_object()) {
            let name = str_or_empty(c, &["name"]).to_string();
            let set_limits = fill(c, "limits", limits);
            let set_requests = fill(c, "requests", requests);
            if !set_requests.is_empty() {
                notes.push(format!(
                    "{} request for {label} {name}",
                    set_requests.join(", ")
                ));
            }
            if !set_limits.is_empty() {
                notes.push(format!(
                    "{} limit for {label} {name}",
                    set_limits.join(", ")
                ));
            }
        }
    }
    if !notes.is_empty()
        && let Some(annotations) = obj_mut(pod, &["metadata", "annotations"])
    {
        annotations.insert(
            LIMIT_RANGER_ANNOTATION.into(),
            Value::String(format!("LimitRanger plugin set: {}", notes.join("; "))),
        );
    }
}

/// Fills `resources.<field>` of a container with the defaults it lacks;
/// returns the names filled, sorted.
fn fill(c: &mut Value, field: &str, defaults: &BTreeMap<String, Value>) -> Vec<String> {
    if defaults.is_empty() {
        return Vec::new();
    }
    let Some(list) = obj_mut(c, &["resources", field]) else {
        return Vec::new();
    };
    let mut set = Vec::new();
    for (k, v) in defaults {
        if !list.contains_key(k) {
            list.insert(k.clone(), v.clone());
            set.push(k.clone());
        }
    }
    set
}

/// Upstream's `requestLimitEnforcedValues` (millis; exact here).
fn milli(a: Option<&Amount>) -> i128 {
    a.map_or(0, Amount::milli_value)
}

fn min_constraint(
    kind: &str,
    res: &str,
    enforced: &Amount,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<String> {
    let req = requests.get(res);
    let lim = limits.get(res);
    let e = enforced.milli_value();
    let Some(r) = req else {
        return Some(format!(
            "minimum {res} usage per {kind} is {enforced}.  No request is specified"
        ));
    };
    if milli(req) < e {
        return Some(format!(
            "minimum {res} usage per {kind} is {enforced}, but request is {r}"
        ));
    }
    if let Some(l) = lim
        && milli(lim) < e
    {
        return Some(format!(
            "minimum {res} usage per {kind} is {enforced}, but limit is {l}"
        ));
    }
    None
}

fn max_constraint(
    kind: &str,
    res: &str,
    enforced: &Amount,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<String> {
    let req = requests.get(res);
    let lim = limits.get(res);
    let e = enforced.milli_value();
    let Some(l) = lim else {
        return Some(format!(
            "maximum {res} usage per {kind} is {enforced}.  No limit is specified"
        ));
    };
    if milli(lim) > e {
        return Some(format!(
            "maximum {res} usage per {kind} is {enforced}, but limit is {l}"
        ));
    }
    if let Some(r) = req
        && milli(req) > e
    {
        return Some(format!(
            "maximum {res} usage per {kind} is {enforced}, but request is {r}"
        ));
    }
    None
}

fn max_request_constraint(
    kind: &str,
    res: &str,
    enforced: &Amount,
    requests: &ResourceList,
) -> Option<String> {
    let Some(r) = requests.get(res) else {
        return Some(format!(
            "maximum {res} usage per {kind} is {enforced}.  No request is specified"
        ));
    };
    if r.milli_value() > enforced.milli_value() {
        return Some(format!(
            "maximum {res} usage per {kind} is {enforced}, but request is {r}"
        ));
    }
    None
}

fn ratio_constraint(
    kind: &str,
    res: &str,
    enforced: &Amount,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<String> {
    let req = requests.get(res).map(Amount::milli_value).unwrap_or(0);
    let lim = limits.get(res).map(Amount::milli_value).unwrap_or(0);
    if req == 0 {
        return Some(format!(
            "{res} max limit to request ratio per {kind} is {enforced}, but no request is specified or request is 0"
        ));
    }
    if lim == 0 {
        return Some(format!(
            "{res} max limit to request ratio per {kind} is {enforced}, but no limit is specified or limit is 0"
        ));
    }
    // lim/req > enforced, compared exactly: lim * 1000 > enforced_millis * req.
    let ratio = lim as f64 / req as f64;
    if lim.saturating_mul(1000) > enforced.milli_value().saturating_mul(req) {
        return Some(format!(
            "{res} max limit to request ratio per {kind} is {enforced}, but provided ratio is {ratio:.6}"
        ));
    }
    None
}

fn check_all(it: &Item, requests: &ResourceList, limits: &ResourceList, errs: &mut Vec<String>) {
    for (k, v) in &it.min {
        errs.extend(min_constraint(&it.kind, k, v, requests, limits));
    }
    for (k, v) in &it.max {
        errs.extend(max_constraint(&it.kind, k, v, requests, limits));
    }
    for (k, v) in &it.ratio {
        errs.extend(ratio_constraint(&it.kind, k, v, requests, limits));
    }
}

/// Upstream's `PodValidateLimitFunc`.
fn validate_pod(range: &LimitRange, pod: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    for it in items(range) {
        match it.kind.as_str() {
            "Container" => {
                for c in arr_at(pod, &["spec", "containers"])
                    .iter()
                    .chain(arr_at(pod, &["spec", "initContainers"]))
                {
                    let requests = container_list(c, false);
                    let limits = container_list(c, true);
                    check_all(&it, &requests, &limits, &mut errs);
                }
            }
            "Pod" => {
                let opts = Options {
                    overhead: false,
                    status: StatusResources::LimitRanger,
                };
                let requests = pod_requests(pod, opts);
                let limits = pod_limits(pod, opts);
                check_all(&it, &requests, &limits, &mut errs);
            }
            _ => {}
        }
    }
    errs
}

/// Upstream's `PersistentVolumeClaimValidateLimitFunc`: storage requests
/// only (claims' limits are not user input).
fn validate_claim(range: &LimitRange, claim: &Value) -> Vec<String> {
    let requests = crate::quantity::list_from_json(get(claim, &["spec", "resources", "requests"]));
    let mut errs = Vec::new();
    for it in items(range) {
        if it.kind != "PersistentVolumeClaim" {
            continue;
        }
        for (k, v) in &it.min {
            errs.extend(min_constraint(
                &it.kind,
                k,
                v,
                &requests,
                &ResourceList::new(),
            ));
        }
        for (k, v) in &it.max {
            errs.extend(max_request_constraint(&it.kind, k, v, &requests));
        }
    }
    errs
}

/// Upstream's aggregate error text: one message alone, several in
/// brackets, duplicates dropped.
pub(crate) fn aggregate(errs: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in errs {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen.as_slice() {
        [one] => (*one).to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

#[cfg(test)]
mod tests;

//! LimitRanges and ResourceQuotas.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{LimitRange, ResourceQuota};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use serde_json::Value;

use super::error::{FieldError, Path};
use super::meta::validate_object_meta;
use super::names::name_is_dns_subdomain;
use super::quantity::Quantity;
use super::resources::{validate_quantity_value, validate_resource_name};

type Quantities = BTreeMap<String, K8sQuantity>;

fn parsed(m: &Option<Quantities>) -> BTreeMap<&str, Quantity> {
    m.iter()
        .flatten()
        .filter_map(|(k, q)| Quantity::parse(&q.0).ok().map(|v| (k.as_str(), v)))
        .collect()
}

fn limit_resource_name(ty: &str, name: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = validate_resource_name(name, path);
    if (ty == "Pod" || ty == "Container")
        && !name.contains('/')
        && !["cpu", "memory", "ephemeral-storage"].contains(&name)
        && !name.starts_with("hugepages-")
    {
        errs.push(FieldError::invalid(
            path,
            name,
            "must be a standard resource for containers",
        ));
    }
    errs
}

/// A LimitRange: each type once, and min ≤ default request ≤ default ≤ max.
pub fn validate_limit_range(lr: &LimitRange, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &lr.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let lp = Path::new("spec").child("limits");
    let mut types = BTreeSet::new();
    for (i, item) in lr.spec.iter().flat_map(|s| s.limits.iter()).enumerate() {
        let ip = lp.index(i);
        let ty = item.type_.as_str();
        let type_errs: Vec<FieldError> = super::names::qualified_name_errors(ty)
            .into_iter()
            .map(|m| FieldError::invalid(&ip.child("type"), ty, m))
            .collect();
        if type_errs.is_empty()
            && !ty.contains('/')
            && !["Pod", "Container", "PersistentVolumeClaim"].contains(&ty)
        {
            errs.push(FieldError::invalid(
                &ip.child("type"),
                ty,
                "must be a standard limit type or fully qualified",
            ));
        }
        errs.extend(type_errs);
        if !types.insert(ty) {
            errs.push(FieldError::duplicate(&ip.child("type"), ty));
        }
        let fields = [
            ("max", &item.max),
            ("min", &item.min),
            ("default", &item.default),
            ("defaultRequest", &item.default_request),
            ("maxLimitRequestRatio", &item.max_limit_request_ratio),
        ];
        for (field, m) in fields {
            for k in m.iter().flatten().map(|(k, _)| k) {
                errs.extend(limit_resource_name(ty, k, &ip.child(field).key(k)));
            }
        }
        if ty == "Pod" {
            if item.default.as_ref().is_some_and(|d| !d.is_empty()) {
                errs.push(FieldError::forbidden(
                    &ip.child("default"),
                    "may not be specified when `type` is 'Pod'",
                ));
            }
            if item.default_request.as_ref().is_some_and(|d| !d.is_empty()) {
                errs.push(FieldError::forbidden(
                    &ip.child("defaultRequest"),
                    "may not be specified when `type` is 'Pod'",
                ));
            }
        }
        let (max, min) = (parsed(&item.max), parsed(&item.min));
        let (def, def_req) = (parsed(&item.default), parsed(&item.default_request));
        let ratio = parsed(&item.max_limit_request_ratio);
        let keys: BTreeSet<&str> = [&max, &min, &def, &def_req, &ratio]
            .iter()
            .flat_map(|m| m.keys().copied())
            .collect();
        for k in keys {
            let q = |m: &BTreeMap<&str, Quantity>| m.get(k).cloned();
            let (mn, mx, d, dr, r) = (q(&min), q(&max), q(&def), q(&def_req), q(&ratio));
            let inv = |field: &str, v: &Quantity, msg: String| {
                FieldError::invalid(&ip.child(field).key(k), v.as_str(), msg)
            };
            if let (Some(mn), Some(mx)) = (&mn, &mx)
                && mn > mx
            {
                errs.push(inv(
                    "min",
                    mn,
                    format!(
                        "min value {} is greater than max value {}",
                        mn.as_str(),
                        mx.as_str()
                    ),
                ));
            }
            if let (Some(dr), Some(mn)) = (&dr, &mn)
                && mn > dr
            {
                errs.push(inv(
                    "defaultRequest",
                    dr,
                    format!(
                        "min value {} is greater than default request value {}",
                        mn.as_str(),
                        dr.as_str()
                    ),
                ));
            }
            if let (Some(dr), Some(mx)) = (&dr, &mx)
                && dr > mx
            {
                errs.push(inv(
                    "defaultRequest",
                    dr,
                    format!(
                        "default request value {} is greater than max value {}",
                        dr.as_str(),
                        mx.as_str()
                    ),
                ));
            }
            if let (Some(dr), Some(d)) = (&dr, &d)
                && dr > d
            {
                errs.push(inv(
                    "defaultRequest",
                    dr,
                    format!(
                        "default request value {} is greater than default limit value {}",
                        dr.as_str(),
                        d.as_str()
                    ),
                ));
            }
            if let (Some(d), Some(mn)) = (&d, &mn)
                && mn > d
            {
                errs.push(inv(
                    "default",
                    mn,
                    format!(
                        "min value {} is greater than default value {}",
                        mn.as_str(),
                        d.as_str()
                    ),
                ));
            }
            if let (Some(d), Some(mx)) = (&d, &mx)
                && d > mx
            {
                errs.push(inv(
                    "default",
                    mx,
                    format!(
                        "default value {} is greater than max value {}",
                        d.as_str(),
                        mx.as_str()
                    ),
                ));
            }
            if let Some(r) = &r
                && r.nanos() < 1_000_000_000
            {
                errs.push(inv(
                    "maxLimitRequestRatio",
                    r,
                    format!("ratio {} is less than 1", r.as_str()),
                ));
            }
        }
    }
    errs
}

const QUOTA_SCOPES: &[&str] = &[
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
    "VolumeAttributesClass",
];

const QUOTA_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "persistentvolumeclaims",
    "configmaps",
    "services.nodeports",
    "services.loadbalancers",
];

fn quota_resources(m: &Option<Quantities>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, q) in m.iter().flatten() {
        let p = path.key(k);
        let name_errs = validate_resource_name(k, &p);
        let standard = QUOTA_RESOURCES.contains(&k.as_str())
            || k.starts_with("hugepages-")
            || k.starts_with("requests.hugepages-");
        if name_errs.is_empty() && !k.contains('/') && !standard {
            errs.push(FieldError::invalid(
                &p,
                k.as_str(),
                "must be a standard resource for quota",
            ));
        }
        errs.extend(name_errs);
        errs.extend(validate_quantity_value(k, q, &p));
    }
    errs
}

/// A ResourceQuota.
pub fn validate_resource_quota(rq: &ResourceQuota, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &rq.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let spec = rq.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    errs.extend(quota_resources(&spec.hard, &sp.child("hard")));
    let scopes = spec.scopes.clone().unwrap_or_default();
    if scopes.iter().any(|sc| !QUOTA_SCOPES.contains(&sc.as_str())) {
        errs.push(FieldError::invalid(
            &sp.child("scopes"),
            serde_json::to_value(&scopes).unwrap_or(Value::Null),
            "unsupported scope",
        ));
    }
    let has = |n: &str| scopes.iter().any(|sc| sc == n);
    if (has("Terminating") && has("NotTerminating")) || (has("BestEffort") && has("NotBestEffort"))
    {
        errs.push(FieldError::invalid(
            &sp.child("scopes"),
            serde_json::to_value(&scopes).unwrap_or(Value::Null),
            "conflicting scopes",
        ));
    }
    for (i, r) in spec
        .scope_selector
        .iter()
        .flat_map(|sel| sel.match_expressions.iter().flatten())
        .enumerate()
    {
        let ip = sp.child("scopeSelector").child("matchExpressions").index(i);
        if !QUOTA_SCOPES.contains(&r.scope_name.as_str()) {
            errs.push(FieldError::invalid(
                &ip.child("scopeName"),
                r.scope_name.as_str(),
                "unsupported scope",
            ));
        }
        if !["In", "NotIn", "Exists", "DoesNotExist"].contains(&r.operator.as_str()) {
            errs.push(FieldError::invalid(
                &ip.child("operator"),
                r.operator.as_str(),
                "not a valid selector operator",
            ));
        }
    }
    if let Some(st) = &rq.status {
        let stp = Path::new("status");
        errs.extend(quota_resources(&st.hard, &stp.child("hard")));
        errs.extend(quota_resources(&st.used, &stp.child("used")));
    }
    errs
}

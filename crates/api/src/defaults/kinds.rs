//! Defaults of the kinds besides pods and workloads: Services, Secrets,
//! Namespaces, Nodes, Endpoints, EndpointSlices, LimitRanges, RBAC
//! bindings and APIServices.

use base64::Engine;
use serde_json::{Map, Value, json};

use super::{child, child_or_insert, each, has_entries, set, set_str, str_of};
use crate::validation::rbac::RBAC_GROUP;

type Obj = Map<String, Value>;

/// Seconds a ClientIP session sticks by default (3 hours).
const CLIENT_IP_TIMEOUT: i64 = 10800;

/// A Service: ClusterIP type, no affinity, TCP ports targeting themselves,
/// single-stack IPv4, Cluster traffic policies; plus the clusterIP and
/// clusterIPs fields kept in step, as upstream's strategy keeps them.
pub(crate) fn service(o: &mut Obj) {
    let Some(spec) = child_or_insert(o, "spec") else {
        return;
    };
    set_str(spec, "sessionAffinity", "None");
    match str_of(spec, "sessionAffinity") {
        "None" => {
            spec.remove("sessionAffinityConfig");
        }
        "ClientIP" => {
            let has_timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .is_some_and(|t| !t.is_null());
            if !has_timeout {
                spec.insert(
                    "sessionAffinityConfig".into(),
                    json!({"clientIP": {"timeoutSeconds": CLIENT_IP_TIMEOUT}}),
                );
            }
        }
        _ => {}
    }
    set_str(spec, "type", "ClusterIP");
    for p in each(spec, "ports") {
        set_str(p, "protocol", "TCP");
        let unset = p
            .get("targetPort")
            .is_none_or(|t| t.is_null() || t.as_i64() == Some(0) || t.as_str() == Some(""));
        if unset && let Some(port) = p.get("port").cloned() {
            p.insert("targetPort".into(), port);
        }
    }
    let ty = str_of(spec, "type").to_string();
    let external_ips = spec
        .get("externalIPs")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let externally =
        ty == "LoadBalancer" || ty == "NodePort" || (ty == "ClusterIP" && external_ips);
    if externally {
        set_str(spec, "externalTrafficPolicy", "Cluster");
    }
    if matches!(ty.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
        set(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        set(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if ty == "ExternalName" {
        return;
    }
    // clusterIP and clusterIPs[0] name the same address.
    let cluster_ip = str_of(spec, "clusterIP").to_string();
    let first = spec
        .get("clusterIPs")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .map(str::to_string);
    let ips_empty = spec
        .get("clusterIPs")
        .is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty));
    if !cluster_ip.is_empty() && ips_empty {
        spec.insert("clusterIPs".into(), json!([cluster_ip]));
    } else if cluster_ip.is_empty()
        && let Some(f) = first
    {
        spec.insert("clusterIP".into(), json!(f));
    }
    let headless = str_of(spec, "clusterIP") == "None";
    let policy = if headless && !has_entries(spec, "selector") {
        "RequireDualStack"
    } else {
        "SingleStack"
    };
    set(spec, "ipFamilyPolicy", json!(policy));
    let families_unset = spec
        .get("ipFamilies")
        .is_none_or(|f| f.is_null() || f.as_array().is_some_and(Vec::is_empty));
    if families_unset {
        spec.insert("ipFamilies".into(), json!(["IPv4"]));
    }
}

/// A Secret: type Opaque; `stringData` (write-only) merged into `data`.
pub(crate) fn secret(o: &mut Obj) {
    set_str(o, "type", "Opaque");
    let all_strings = o
        .get("stringData")
        .and_then(Value::as_object)
        .is_some_and(|m| m.values().all(Value::is_string));
    let data_ok = o.get("data").is_none_or(|d| d.is_null() || d.is_object());
    if !all_strings || !data_ok {
        // Leave malformed fields for validation to report.
        if o.get("stringData").is_some_and(Value::is_null) {
            o.remove("stringData");
        }
        return;
    }
    let Some(Value::Object(string_data)) = o.remove("stringData") else {
        return;
    };
    if string_data.is_empty() {
        return;
    }
    let Some(data) = child_or_insert(o, "data") else {
        return;
    };
    for (k, v) in string_data {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(v.as_str().unwrap_or("").as_bytes());
        data.insert(k, Value::String(encoded));
    }
}

/// A Namespace: the `kubernetes.io/metadata.name` label, the `kubernetes`
/// finalizer and the Active phase.
pub(crate) fn namespace(o: &mut Obj) {
    let name = o
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let deleting = o
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some_and(|d| !d.is_null());
    if !name.is_empty()
        && let Some(labels) =
            child_or_insert(o, "metadata").and_then(|m| child_or_insert(m, "labels"))
    {
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
    if let Some(spec) = child_or_insert(o, "spec") {
        set(spec, "finalizers", json!(["kubernetes"]));
    }
    // A namespace being deleted keeps the Terminating phase it was given.
    if !deleting && let Some(status) = child_or_insert(o, "status") {
        set_str(status, "phase", "Active");
    }
}

/// A Node: allocatable defaults to capacity.
pub(crate) fn node(o: &mut Obj) {
    if let Some(status) = child(o, "status")
        && status.get("allocatable").is_none_or(Value::is_null)
        && let Some(cap) = status.get("capacity").filter(|c| c.is_object()).cloned()
    {
        status.insert("allocatable".into(), cap);
    }
}

/// Endpoints: ports are TCP unless said otherwise.
pub(crate) fn endpoints(o: &mut Obj) {
    for subset in each(o, "subsets") {
        for p in each(subset, "ports") {
            set_str(p, "protocol", "TCP");
        }
    }
}

/// An EndpointSlice: ports are named "" and TCP unless said otherwise.
pub(crate) fn endpoint_slice(o: &mut Obj) {
    for p in each(o, "ports") {
        set(p, "name", json!(""));
        set(p, "protocol", json!("TCP"));
    }
}

/// A LimitRange: container limits default to max, default requests to the
/// default limit, then to min.
pub(crate) fn limit_range(o: &mut Obj) {
    let Some(spec) = child(o, "spec") else { return };
    for item in each(spec, "limits") {
        if str_of(item, "type") != "Container" {
            continue;
        }
        let get = |item: &Obj, k: &str| {
            item.get(k)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let (max, min) = (get(item, "max"), get(item, "min"));
        let mut default = get(item, "default");
        for (k, v) in max {
            default.entry(k).or_insert(v);
        }
        let mut default_request = get(item, "defaultRequest");
        for (k, v) in default.iter().chain(min.iter()) {
            default_request.entry(k.clone()).or_insert(v.clone());
        }
        // Empty maps stay absent, as upstream omits them.
        for (k, m) in [("default", default), ("defaultRequest", default_request)] {
            let well_typed = item.get(k).is_none_or(|v| v.is_null() || v.is_object());
            if !m.is_empty() && well_typed {
                item.insert(k.into(), Value::Object(m));
            }
        }
    }
}

/// A RoleBinding or ClusterRoleBinding: the RBAC group on the roleRef and
/// on User and Group subjects.
pub(crate) fn binding(o: &mut Obj) {
    if let Some(r) = child(o, "roleRef") {
        set_str(r, "apiGroup", RBAC_GROUP);
    }
    for sub in each(o, "subjects") {
        if matches!(str_of(sub, "kind"), "User" | "Group") {
            set_str(sub, "apiGroup", RBAC_GROUP);
        }
    }
}

/// An APIService: the service it names is reached on port 443.
pub(crate) fn api_service(o: &mut Obj) {
    if let Some(service) = child(o, "spec").and_then(|s| child(s, "service")) {
        set(service, "port", json!(443));
    }
}

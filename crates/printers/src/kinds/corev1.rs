//! Core kinds: services, endpoints, nodes, namespaces, config maps,
//! secrets, service accounts and resource quotas.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Printer, Row};
use crate::column::{Column, age, core, doc, name, text};
use crate::format::{format_labels, since};
use crate::value::{
    array_at, bool_at, created, int_at, map_at, map_len, name_of, opt_str_at, str_at,
};

/// Load-balancer ingress points: IPs, else hostnames, sorted and unique.
/// The server renders wide, so the list is never clipped.
pub(crate) fn load_balancer_ingress(obj: &Value) -> String {
    let points: BTreeSet<&str> = array_at(obj, &["status", "loadBalancer", "ingress"])
        .iter()
        .filter_map(|i| {
            let ip = str_at(i, &["ip"]);
            let host = str_at(i, &["hostname"]);
            if !ip.is_empty() {
                Some(ip)
            } else if !host.is_empty() {
                Some(host)
            } else {
                None
            }
        })
        .collect();
    points.into_iter().collect::<Vec<_>>().join(",")
}

fn strings(obj: &Value, path: &[&str]) -> Vec<String> {
    array_at(obj, path)
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect()
}

/// The service type, which upstream's defaulting sets to ClusterIP.
fn service_type(svc: &Value) -> &str {
    opt_str_at(svc, &["spec", "type"]).unwrap_or("ClusterIP")
}

fn external_ip(svc: &Value) -> String {
    let external_ips = strings(svc, &["spec", "externalIPs"]);
    match service_type(svc) {
        "ClusterIP" | "NodePort" if !external_ips.is_empty() => external_ips.join(","),
        "ClusterIP" | "NodePort" => "<none>".to_string(),
        "LoadBalancer" => {
            let lb = load_balancer_ingress(svc);
            if !external_ips.is_empty() {
                let mut all: Vec<String> = if lb.is_empty() {
                    Vec::new()
                } else {
                    lb.split(',').map(str::to_string).collect()
                };
                all.extend(external_ips);
                all.join(",")
            } else if !lb.is_empty() {
                lb
            } else {
                "<pending>".to_string()
            }
        }
        "ExternalName" => str_at(svc, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

fn ports(svc: &Value) -> String {
    let pieces: Vec<String> = array_at(svc, &["spec", "ports"])
        .iter()
        .map(|p| {
            let port = int_at(p, &["port"]);
            let protocol = opt_str_at(p, &["protocol"]).unwrap_or("TCP");
            match int_at(p, &["nodePort"]) {
                n if n > 0 => format!("{port}:{n}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect();
    if pieces.is_empty() {
        "<none>".to_string()
    } else {
        pieces.join(",")
    }
}

pub(crate) const SERVICE: Printer = Printer {
    columns: || {
        let spec = core("ServiceSpec");
        vec![
            name(),
            Column::new("Type", "string", doc(&spec, "type")),
            Column::new("Cluster-IP", "string", doc(&spec, "clusterIP")),
            Column::new("External-IP", "string", doc(&spec, "externalIPs")),
            Column::new("Port(s)", "string", doc(&spec, "ports")),
            age(),
            Column::new("Selector", "string", doc(&spec, "selector")).wide(),
        ]
    },
    row: |svc, now| {
        let cluster_ip = array_at(svc, &["spec", "clusterIPs"])
            .first()
            .and_then(Value::as_str)
            .or_else(|| opt_str_at(svc, &["spec", "clusterIP"]).filter(|ip| !ip.is_empty()))
            .unwrap_or("<none>");
        Row::cells(vec![
            json!(name_of(svc)),
            json!(service_type(svc)),
            json!(cluster_ip),
            json!(external_ip(svc)),
            json!(ports(svc)),
            json!(since(created(svc), now)),
            json!(format_labels(svc, &["spec", "selector"])),
        ])
    },
};

/// Up to three `ip:port` endpoints (bare IPs for port-less subsets).
fn format_endpoints(ep: &Value) -> String {
    let subsets = array_at(ep, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut count = 0;
    for ss in subsets {
        let addresses = array_at(ss, &["addresses"]);
        let ports = array_at(ss, &["ports"]);
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses.iter().take(MAX.saturating_sub(list.len())) {
                list.push(str_at(a, &["ip"]).to_string());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for a in addresses.iter().take(MAX.saturating_sub(list.len())) {
                let ip = str_at(a, &["ip"]);
                let port = int_at(port, &["port"]);
                // net.JoinHostPort brackets IPv6 addresses.
                list.push(if ip.contains(':') {
                    format!("[{ip}]:{port}")
                } else {
                    format!("{ip}:{port}")
                });
            }
        }
    }
    let ret = list.join(",");
    if count > MAX {
        return format!("{ret} + {} more...", count - MAX);
    }
    ret
}

pub(crate) const ENDPOINTS: Printer = Printer {
    columns: || {
        vec![
            name(),
            Column::new("Endpoints", "string", doc(&core("Endpoints"), "subsets")),
            age(),
        ]
    },
    row: |ep, now| {
        Row::cells(vec![
            json!(name_of(ep)),
            json!(format_endpoints(ep)),
            json!(since(created(ep), now)),
        ])
    },
};

fn node_status(node: &Value) -> String {
    // The last Ready condition wins, as upstream indexes them by type.
    let ready = array_at(node, &["status", "conditions"])
        .iter()
        .rfind(|c| str_at(c, &["type"]) == "Ready");
    let mut status = vec![match ready {
        Some(c) if str_at(c, &["status"]) == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if bool_at(node, &["spec", "unschedulable"]) {
        status.push("SchedulingDisabled");
    }
    status.join(",")
}

/// Roles from `node-role.kubernetes.io/<role>` keys and the
/// `kubernetes.io/role` value.
fn node_roles(node: &Value) -> String {
    let mut roles = BTreeSet::new();
    for (k, v) in map_at(node, &["metadata", "labels"]).into_iter().flatten() {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.insert(role.to_string());
            }
        } else if k == "kubernetes.io/role" {
            let role = v.as_str().unwrap_or_default();
            if !role.is_empty() {
                roles.insert(role.to_string());
            }
        }
    }
    if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    }
}

fn node_address(node: &Value, kind: &str) -> String {
    array_at(node, &["status", "addresses"])
        .iter()
        .find(|a| str_at(a, &["type"]) == kind)
        .map_or("<none>", |a| str_at(a, &["address"]))
        .to_string()
}

fn or_unknown(s: &str) -> String {
    if s.is_empty() { "<unknown>" } else { s }.to_string()
}

pub(crate) const NODE: Printer = Printer {
    columns: || {
        let info = core("NodeSystemInfo");
        let status = core("NodeStatus");
        vec![
            name(),
            text("Status", "string", "The status of the node"),
            text("Roles", "string", "The roles of the node"),
            age(),
            Column::new("Version", "string", doc(&info, "kubeletVersion")),
            Column::new("Internal-IP", "string", doc(&status, "addresses")).wide(),
            Column::new("External-IP", "string", doc(&status, "addresses")).wide(),
            Column::new("OS-Image", "string", doc(&info, "osImage")).wide(),
            Column::new("Kernel-Version", "string", doc(&info, "kernelVersion")).wide(),
            Column::new(
                "Container-Runtime",
                "string",
                doc(&info, "containerRuntimeVersion"),
            )
            .wide(),
        ]
    },
    row: |node, now| {
        let info = |field: &str| str_at(node, &["status", "nodeInfo", field]);
        Row::cells(vec![
            json!(name_of(node)),
            json!(node_status(node)),
            json!(node_roles(node)),
            json!(since(created(node), now)),
            json!(info("kubeletVersion")),
            json!(node_address(node, "InternalIP")),
            json!(node_address(node, "ExternalIP")),
            json!(or_unknown(info("osImage"))),
            json!(or_unknown(info("kernelVersion"))),
            json!(or_unknown(info("containerRuntimeVersion"))),
        ])
    },
};

pub(crate) const NAMESPACE: Printer = Printer {
    columns: || {
        vec![
            name(),
            text("Status", "string", "The status of the namespace"),
            age(),
        ]
    },
    row: |ns, now| {
        Row::cells(vec![
            json!(name_of(ns)),
            json!(str_at(ns, &["status", "phase"])),
            json!(since(created(ns), now)),
        ])
    },
};

pub(crate) const CONFIG_MAP: Printer = Printer {
    columns: || {
        vec![
            name(),
            Column::new("Data", "string", doc(&core("ConfigMap"), "data")),
            age(),
        ]
    },
    row: |cm, now| {
        Row::cells(vec![
            json!(name_of(cm)),
            json!(map_len(cm, &["data"]) + map_len(cm, &["binaryData"])),
            json!(since(created(cm), now)),
        ])
    },
};

/// Keys of `data` and of the write-only `stringData`, which upstream
/// merges into `data`.
fn secret_keys(secret: &Value) -> usize {
    let mut keys: BTreeSet<&String> = BTreeSet::new();
    for path in [&["data"], &["stringData"]] {
        keys.extend(map_at(secret, path).into_iter().flat_map(|m| m.keys()));
    }
    keys.len()
}

pub(crate) const SECRET: Printer = Printer {
    columns: || {
        let secret = core("Secret");
        vec![
            name(),
            Column::new("Type", "string", doc(&secret, "type")),
            Column::new("Data", "string", doc(&secret, "data")),
            age(),
        ]
    },
    row: |secret, now| {
        Row::cells(vec![
            json!(name_of(secret)),
            json!(str_at(secret, &["type"])),
            json!(secret_keys(secret)),
            json!(since(created(secret), now)),
        ])
    },
};

pub(crate) const SERVICE_ACCOUNT: Printer = Printer {
    columns: || {
        vec![
            name(),
            Column::new("Secrets", "string", doc(&core("ServiceAccount"), "secrets")),
            age(),
        ]
    },
    row: |sa, now| {
        Row::cells(vec![
            json!(name_of(sa)),
            json!(array_at(sa, &["secrets"]).len()),
            json!(since(created(sa), now)),
        ])
    },
};

/// REQUEST and LIMIT: `resource: used/hard` for every hard limit, sorted,
/// `limits.*` resources in the second column.
fn quota_columns(quota: &Value) -> (String, String) {
    let mut request = Vec::new();
    let mut limit = Vec::new();
    let mut resources: Vec<&String> = map_at(quota, &["status", "hard"])
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    resources.sort();
    for resource in resources {
        let quantity = |which: &str| {
            map_at(quota, &["status", which])
                .and_then(|m| m.get(resource.as_str()))
                .and_then(Value::as_str)
                .unwrap_or("0")
                .to_string()
        };
        let entry = format!("{resource}: {}/{}", quantity("used"), quantity("hard"));
        let pieces: Vec<&str> = resource.split('.').collect();
        if pieces.len() > 1 && pieces[0] == "limits" {
            limit.push(entry);
        } else {
            request.push(entry);
        }
    }
    (request.join(", "), limit.join(", "))
}

pub(crate) const RESOURCE_QUOTA: Printer = Printer {
    columns: || {
        vec![
            name(),
            text(
                "Request",
                "string",
                "Request represents a minimum amount of cpu/memory that a container may consume.",
            ),
            text(
                "Limit",
                "string",
                "Limits control the maximum amount of cpu/memory that a container may use \
                 independent of contention on the node.",
            ),
            age(),
        ]
    },
    row: |quota, now| {
        let (request, limit) = quota_columns(quota);
        Row::cells(vec![
            json!(name_of(quota)),
            json!(request),
            json!(limit),
            json!(since(created(quota), now)),
        ])
    },
};

#[cfg(test)]
mod tests;

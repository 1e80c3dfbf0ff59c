//! Networking and discovery kinds: ingresses and endpoint slices.

use serde_json::{Value, json};

use super::corev1::load_balancer_ingress;
use super::{Printer, Row};
use crate::column::{Column, age, doc, name, text};
use crate::format::{list_with_more, since};
use crate::value::{array_at, at, created, name_of, opt_str_at, str_at};

/// Up to three hosts of the rules, `*` when none names one.
fn hosts(ing: &Value) -> String {
    const MAX: usize = 3;
    let rules = array_at(ing, &["spec", "rules"]);
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        let host = str_at(rule, &["host"]);
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".to_string();
    }
    let ret = list.join(",");
    if more {
        return format!("{ret} + {} more...", rules.len() - MAX);
    }
    ret
}

pub(crate) const INGRESS: Printer = Printer {
    columns: || {
        vec![
            name(),
            text(
                "Class",
                "string",
                "The name of the IngressClass resource that should be used for additional \
                 configuration",
            ),
            text(
                "Hosts",
                "string",
                "Hosts that incoming requests are matched against before the ingress rule",
            ),
            text(
                "Address",
                "string",
                "Address is a list containing ingress points for the load-balancer",
            ),
            text("Ports", "string", "Ports of TLS configurations that open"),
            age(),
        ]
    },
    row: |ing, now| {
        let ports = if array_at(ing, &["spec", "tls"]).is_empty() {
            "80"
        } else {
            "80, 443"
        };
        Row::cells(vec![
            json!(name_of(ing)),
            json!(opt_str_at(ing, &["spec", "ingressClassName"]).unwrap_or("<none>")),
            json!(hosts(ing)),
            json!(load_balancer_ingress(ing)),
            json!(ports),
            json!(since(created(ing), now)),
        ])
    },
};

const ENDPOINT_SLICE_DEF: &str = "io.k8s.api.discovery.v1.EndpointSlice";

fn slice_ports(slice: &Value) -> String {
    let ports = array_at(slice, &["ports"]);
    let list: Vec<String> = ports
        .iter()
        .map(|p| match at(p, &["port"]).and_then(Value::as_i64) {
            Some(port) => port.to_string(),
            None => opt_str_at(p, &["name"]).unwrap_or("*").to_string(),
        })
        .collect();
    list_with_more(&list, ports.len())
}

fn slice_endpoints(slice: &Value) -> String {
    let addresses: Vec<String> = array_at(slice, &["endpoints"])
        .iter()
        .flat_map(|e| array_at(e, &["addresses"]))
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect();
    list_with_more(&addresses, addresses.len())
}

pub(crate) const ENDPOINT_SLICE: Printer = Printer {
    columns: || {
        vec![
            name(),
            Column::new(
                "AddressType",
                "string",
                doc(ENDPOINT_SLICE_DEF, "addressType"),
            ),
            Column::new("Ports", "string", doc(ENDPOINT_SLICE_DEF, "ports")),
            Column::new("Endpoints", "string", doc(ENDPOINT_SLICE_DEF, "endpoints")),
            age(),
        ]
    },
    row: |slice, now| {
        Row::cells(vec![
            json!(name_of(slice)),
            json!(str_at(slice, &["addressType"])),
            json!(slice_ports(slice)),
            json!(slice_endpoints(slice)),
            json!(since(created(slice), now)),
        ])
    },
};

#[cfg(test)]
mod tests;

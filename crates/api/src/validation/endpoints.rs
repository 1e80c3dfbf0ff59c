//! Endpoints and EndpointSlices.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Endpoints;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::error::{FieldError, Path};
use super::fields::{PROTOCOLS, dns_label, qualified_name};
use super::meta::{FIELD_IMMUTABLE, s, validate_labels, validate_object_meta};
use super::names::{dns1123_subdomain_errors, name_is_dns_subdomain, port_num_errors};
use super::net::{family_of, parse_ip, validate_endpoint_ip, validate_ip};

/// Endpoints.
pub fn validate_endpoints(ep: &Endpoints, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &ep.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    for (i, ss) in ep.subsets.iter().flatten().enumerate() {
        let ip = Path::new("subsets").index(i);
        let addresses = ss.addresses.as_deref().unwrap_or_default();
        let not_ready = ss.not_ready_addresses.as_deref().unwrap_or_default();
        if addresses.is_empty() && not_ready.is_empty() {
            errs.push(FieldError::required(
                &ip,
                "must specify `addresses` or `notReadyAddresses`",
            ));
        }
        for (field, list) in [("addresses", addresses), ("notReadyAddresses", not_ready)] {
            for (j, a) in list.iter().enumerate() {
                let ap = ip.child(field).index(j);
                let e = validate_ip(&ap.child("ip"), &a.ip);
                if e.is_empty() {
                    errs.extend(validate_endpoint_ip(&ap.child("ip"), &a.ip));
                } else {
                    errs.extend(e);
                }
                if let Some(h) = a.hostname.as_deref().filter(|h| !h.is_empty()) {
                    errs.extend(dns_label(h, &ap.child("hostname")));
                }
                if let Some(n) = a.node_name.as_deref() {
                    for m in name_is_dns_subdomain(n, false) {
                        errs.push(FieldError::invalid(&ap.child("nodeName"), n, m));
                    }
                }
            }
        }
        let ports = ss.ports.as_deref().unwrap_or_default();
        for (j, p) in ports.iter().enumerate() {
            let pp = ip.child("ports").index(j);
            let name = s(&p.name);
            if ports.len() > 1 && name.is_empty() {
                errs.push(FieldError::required(&pp.child("name"), ""));
            } else if !name.is_empty() {
                errs.extend(dns_label(name, &pp.child("name")));
            }
            for m in port_num_errors(i64::from(p.port)) {
                errs.push(FieldError::invalid(&pp.child("port"), p.port, m));
            }
            let proto = s(&p.protocol);
            if proto.is_empty() {
                errs.push(FieldError::required(&pp.child("protocol"), ""));
            } else if !PROTOCOLS.contains(&proto) {
                errs.push(FieldError::not_supported(
                    &pp.child("protocol"),
                    proto,
                    PROTOCOLS,
                ));
            }
            if let Some(a) = &p.app_protocol {
                errs.extend(qualified_name(a, &pp.child("appProtocol")));
            }
        }
    }
    errs
}

/// An EndpointSlice.
pub fn validate_endpoint_slice(es: &EndpointSlice, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &es.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let at = es.address_type.as_str();
    let at_path = Path::new("addressType");
    if at.is_empty() {
        errs.push(FieldError::required(&at_path, ""));
    } else if !["FQDN", "IPv4", "IPv6"].contains(&at) {
        errs.push(FieldError::not_supported(
            &at_path,
            at,
            &["FQDN", "IPv4", "IPv6"],
        ));
    }
    let ep_path = Path::new("endpoints");
    if es.endpoints.len() > 1000 {
        errs.push(FieldError::too_many(&ep_path, es.endpoints.len(), 1000));
    }
    for (i, e) in es.endpoints.iter().enumerate() {
        let ip = ep_path.index(i);
        let ap = ip.child("addresses");
        if e.addresses.is_empty() {
            errs.push(FieldError::required(&ap, "must contain at least 1 address"));
        } else if e.addresses.len() > 100 {
            errs.push(FieldError::too_many(&ap, e.addresses.len(), 100));
        }
        for (j, a) in e.addresses.iter().enumerate() {
            match at {
                "IPv4" | "IPv6" => match parse_ip(a) {
                    None => errs.extend(validate_ip(&ap.index(j), a)),
                    Some(addr) => {
                        if family_of(&addr) != at {
                            errs.push(FieldError::invalid(
                                &ap,
                                a.as_str(),
                                format!("must be an {at} address"),
                            ));
                        }
                        errs.extend(validate_endpoint_ip(&ap.index(j), a));
                    }
                },
                "FQDN" => {
                    let name = a.strip_suffix('.').unwrap_or(a);
                    let e = dns1123_subdomain_errors(name);
                    if !e.is_empty() {
                        errs.push(FieldError::invalid(&ap.index(j), name, e.join(",")));
                    } else if !name.contains('.') {
                        errs.push(FieldError::invalid(
                            &ap.index(j),
                            name,
                            "should be a domain with at least two segments separated by dots",
                        ));
                    }
                }
                _ => {}
            }
        }
        if let Some(n) = e.node_name.as_deref() {
            for m in name_is_dns_subdomain(n, false) {
                errs.push(FieldError::invalid(&ip.child("nodeName"), n, m));
            }
        }
        let topo = ip.child("deprecatedTopology");
        if let Some(t) = &e.deprecated_topology {
            if t.len() > 16 {
                errs.push(FieldError::too_many(&topo, t.len(), 16));
            }
            errs.extend(validate_labels(Some(t), &topo));
        }
        if let Some(h) = e.hostname.as_deref() {
            errs.extend(dns_label(h, &ip.child("hostname")));
        }
    }
    let ports = es.ports.as_deref().unwrap_or_default();
    let pp = Path::new("ports");
    if ports.len() > 20000 {
        errs.push(FieldError::too_many(&pp, ports.len(), 20000));
    }
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let ip = pp.index(i);
        let name = s(&p.name);
        if !name.is_empty() {
            errs.extend(dns_label(name, &ip.child("name")));
        }
        if !names.insert(name) {
            errs.push(FieldError::duplicate(&ip.child("name"), name));
        }
        match p.protocol.as_deref() {
            None => errs.push(FieldError::required(&ip.child("protocol"), "")),
            Some(proto) if !PROTOCOLS.contains(&proto) => {
                errs.push(FieldError::not_supported(
                    &ip.child("protocol"),
                    proto,
                    PROTOCOLS,
                ));
            }
            Some(_) => {}
        }
        if let Some(port) = p.port {
            for m in port_num_errors(i64::from(port)) {
                errs.push(FieldError::invalid(&ip.child("port"), port, m));
            }
        }
        if let Some(a) = &p.app_protocol {
            errs.extend(qualified_name(a, &ip.child("appProtocol")));
        }
    }
    errs
}

/// An EndpointSlice update: the address type is immutable.
pub fn validate_endpoint_slice_update(new: &EndpointSlice, old: &EndpointSlice) -> Vec<FieldError> {
    if new.address_type != old.address_type {
        return vec![FieldError::invalid(
            &Path::new("addressType"),
            new.address_type.as_str(),
            FIELD_IMMUTABLE,
        )];
    }
    Vec::new()
}

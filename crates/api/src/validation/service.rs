//! Services.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use serde_json::{Value, json};

use super::error::{FieldError, Path};
use super::fields::{PROTOCOLS, dns_label, port_num_or_name, qualified_name};
use super::meta::{immutable, s, validate_labels, validate_object_meta};
use super::names::{dns1123_subdomain_errors, name_is_dns1035_label, port_num_errors};
use super::net::{family_of, parse_ip, validate_cidr, validate_ip, validate_non_special_ip};

const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

fn validate_service_port(
    p: &ServicePort,
    require_name: bool,
    names: &mut BTreeSet<String>,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = s(&p.name);
    if require_name && name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else if !name.is_empty() {
        errs.extend(dns_label(name, &path.child("name")));
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(&path.child("name"), name));
        }
    }
    for m in port_num_errors(i64::from(p.port)) {
        errs.push(FieldError::invalid(&path.child("port"), p.port, m));
    }
    let proto = s(&p.protocol);
    if proto.is_empty() {
        errs.push(FieldError::required(&path.child("protocol"), ""));
    } else if !PROTOCOLS.contains(&proto) {
        errs.push(FieldError::not_supported(
            &path.child("protocol"),
            proto,
            PROTOCOLS,
        ));
    }
    match &p.target_port {
        Some(t) => errs.extend(port_num_or_name(t, &path.child("targetPort"))),
        None => errs.extend(
            port_num_errors(0)
                .into_iter()
                .map(|m| FieldError::invalid(&path.child("targetPort"), 0, m)),
        ),
    }
    if let Some(a) = &p.app_protocol {
        errs.extend(qualified_name(a, &path.child("appProtocol")));
    }
    errs
}

fn validate_cluster_ips(spec: &ServiceSpec, sp: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let ips = spec.cluster_ips.as_deref().unwrap_or_default();
    let ips_path = sp.child("clusterIPs");
    let ips_json = || serde_json::to_value(ips).unwrap_or(Value::Null);
    let cluster_ip = s(&spec.cluster_ip);
    if !cluster_ip.is_empty() {
        match ips.first() {
            None => errs.push(FieldError::required(&ips_path, "")),
            Some(first) if first != cluster_ip => {
                errs.push(FieldError::invalid(
                    &ips_path,
                    ips_json(),
                    "first value must match `clusterIP`",
                ));
            }
            Some(_) => {}
        }
    } else if !ips.is_empty() {
        errs.push(FieldError::invalid(
            &ips_path,
            ips_json(),
            "must be empty when `clusterIP` is not specified",
        ));
    }
    let families = spec.ip_families.as_deref().unwrap_or_default();
    let fam_path = sp.child("ipFamilies");
    let mut seen = BTreeSet::new();
    for (i, f) in families.iter().enumerate() {
        if f != "IPv4" && f != "IPv6" {
            errs.push(FieldError::not_supported(
                &fam_path.index(i),
                f.as_str(),
                &["IPv4", "IPv6"],
            ));
        }
        if !seen.insert(f.as_str()) {
            errs.push(FieldError::duplicate(&fam_path.index(i), f.as_str()));
        }
    }
    if families.len() > 2 {
        errs.push(FieldError::invalid(
            &fam_path,
            serde_json::to_value(families).unwrap_or(Value::Null),
            "may specify no more than one IP for each IP family",
        ));
    }
    let policy = spec.ip_family_policy.as_deref();
    if let Some(p) = policy
        && !["PreferDualStack", "RequireDualStack", "SingleStack"].contains(&p)
    {
        errs.push(FieldError::not_supported(
            &sp.child("ipFamilyPolicy"),
            p,
            &["PreferDualStack", "RequireDualStack", "SingleStack"],
        ));
    }
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                errs.push(FieldError::invalid(
                    &ips_path,
                    ips_json(),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        match parse_ip(ip) {
            None => errs.extend(validate_ip(&ips_path.index(i), ip)),
            Some(addr) => {
                if let Some(f) = families.get(i)
                    && f != family_of(&addr)
                {
                    errs.push(FieldError::invalid(
                        &ips_path.index(i),
                        ip.as_str(),
                        format!("expected an {f} value as indicated by `ipFamilies[{i}]`"),
                    ));
                }
            }
        }
    }
    if ips.len() > 2 {
        errs.push(FieldError::invalid(
            &ips_path,
            ips_json(),
            "may only hold up to 2 values",
        ));
    }
    if policy == Some("SingleStack") {
        if ips.len() == 2 {
            errs.push(FieldError::invalid(
                &ips_path,
                ips_json(),
                "must be at most one value when `ipFamilyPolicy` is 'SingleStack'",
            ));
        }
        if families.len() == 2 {
            errs.push(FieldError::invalid(
                &fam_path,
                serde_json::to_value(families).unwrap_or(Value::Null),
                "must be at most one value when `ipFamilyPolicy` is 'SingleStack'",
            ));
        }
    }
    errs
}

/// A Service.
pub fn validate_service(svc: &Service, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &svc.metadata,
        namespaced,
        name_is_dns1035_label,
        &Path::new("metadata"),
    );
    let spec = svc.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let ty = s(&spec.type_);
    let ports = spec.ports.as_deref().unwrap_or_default();
    let headless = s(&spec.cluster_ip) == "None";
    if ports.is_empty() && !headless && ty != "ExternalName" {
        errs.push(FieldError::required(&sp.child("ports"), ""));
    }
    match ty {
        "LoadBalancer" | "NodePort" if headless => errs.push(FieldError::invalid(
            &sp.child("clusterIPs").index(0),
            "None",
            format!("may not be set to 'None' for {ty} services"),
        )),
        "ExternalName" => {
            for (field, set) in [
                // Upstream's strategy copies clusterIP into clusterIPs first.
                (
                    "clusterIPs",
                    spec.cluster_ips.as_ref().is_some_and(|v| !v.is_empty())
                        || !s(&spec.cluster_ip).is_empty(),
                ),
                (
                    "ipFamilies",
                    spec.ip_families.as_ref().is_some_and(|v| !v.is_empty()),
                ),
                ("ipFamilyPolicy", spec.ip_family_policy.is_some()),
            ] {
                if set {
                    errs.push(FieldError::forbidden(
                        &sp.child(field),
                        "may not be set for ExternalName services",
                    ));
                }
            }
            let cname = s(&spec.external_name);
            let cname = cname.strip_suffix('.').unwrap_or(cname);
            if cname.is_empty() {
                errs.push(FieldError::required(&sp.child("externalName"), ""));
            } else {
                for m in dns1123_subdomain_errors(cname) {
                    errs.push(FieldError::invalid(&sp.child("externalName"), cname, m));
                }
            }
        }
        _ => {}
    }
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        errs.extend(validate_service_port(
            p,
            ports.len() > 1,
            &mut names,
            &sp.child("ports").index(i),
        ));
    }
    errs.extend(validate_labels(
        spec.selector.as_ref(),
        &sp.child("selector"),
    ));
    let affinity = s(&spec.session_affinity);
    let sac = sp.child("sessionAffinityConfig");
    match affinity {
        "" => errs.push(FieldError::required(&sp.child("sessionAffinity"), "")),
        "None" => {
            if spec.session_affinity_config.is_some() {
                errs.push(FieldError::forbidden(
                    &sac,
                    "must not be set when session affinity is None",
                ));
            }
        }
        "ClientIP" => {
            let when = "when session affinity type is ClientIP";
            match spec
                .session_affinity_config
                .as_ref()
                .map(|c| c.client_ip.as_ref())
            {
                None => errs.push(FieldError::required(&sac, when)),
                Some(None) => errs.push(FieldError::required(&sac.child("clientIP"), when)),
                Some(Some(c)) => match c.timeout_seconds {
                    None => errs.push(FieldError::required(
                        &sac.child("clientIP").child("timeoutSeconds"),
                        when,
                    )),
                    Some(t) if !(1..=86400).contains(&t) => errs.push(FieldError::invalid(
                        &sac.child("clientIP").child("timeoutSeconds"),
                        t,
                        "must be greater than 0 and less than 86400",
                    )),
                    Some(_) => {}
                },
            }
        }
        other => errs.push(FieldError::not_supported(
            &sp.child("sessionAffinity"),
            other,
            &["ClientIP", "None"],
        )),
    }
    if ty != "ExternalName" {
        errs.extend(validate_cluster_ips(&spec, &sp));
    }
    for (i, ip) in spec.external_ips.iter().flatten().enumerate() {
        let ip_path = sp.child("externalIPs").index(i);
        let e = validate_ip(&ip_path, ip);
        if e.is_empty() {
            errs.extend(validate_non_special_ip(&ip_path, ip));
        } else {
            errs.extend(e);
        }
    }
    if ty.is_empty() {
        errs.push(FieldError::required(&sp.child("type"), ""));
    } else if !SERVICE_TYPES.contains(&ty) {
        errs.push(FieldError::not_supported(
            &sp.child("type"),
            ty,
            SERVICE_TYPES,
        ));
    }
    let mut node_ports = BTreeSet::new();
    let mut port_keys = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = sp.child("ports").index(i);
        let node_port = p.node_port.unwrap_or(0);
        if ty == "ClusterIP" && node_port != 0 {
            errs.push(FieldError::forbidden(
                &pp.child("nodePort"),
                "may not be used when `type` is 'ClusterIP'",
            ));
        }
        if node_port != 0 && !node_ports.insert((s(&p.protocol), node_port)) {
            errs.push(FieldError::duplicate(&pp.child("nodePort"), node_port));
        }
        if !port_keys.insert((s(&p.protocol), p.port)) {
            errs.push(FieldError::duplicate(
                &pp,
                json!({"port": p.port, "protocol": s(&p.protocol)}),
            ));
        }
    }
    let ranges = spec
        .load_balancer_source_ranges
        .as_deref()
        .unwrap_or_default();
    if !ranges.is_empty() {
        let rp = sp.child("LoadBalancerSourceRanges");
        if ty != "LoadBalancer" {
            errs.push(FieldError::forbidden(
                &rp,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        for (i, r) in ranges.iter().enumerate() {
            errs.extend(validate_cidr(&rp.index(i), r.trim()));
        }
    }
    let externally = ty == "LoadBalancer"
        || ty == "NodePort"
        || (ty == "ClusterIP" && spec.external_ips.as_ref().is_some_and(|v| !v.is_empty()));
    let etp = s(&spec.external_traffic_policy);
    let etp_path = sp.child("externalTrafficPolicy");
    if externally {
        if etp.is_empty() {
            errs.push(FieldError::required(&etp_path, ""));
        } else if etp != "Cluster" && etp != "Local" {
            errs.push(FieldError::not_supported(
                &etp_path,
                etp,
                &["Cluster", "Local"],
            ));
        }
    } else if !etp.is_empty() {
        errs.push(FieldError::invalid(
            &etp_path,
            etp,
            "may only be set for externally-accessible services",
        ));
    }
    let hc = spec.health_check_node_port.unwrap_or(0);
    if hc != 0 && !(ty == "LoadBalancer" && etp == "Local") {
        errs.push(FieldError::invalid(
            &sp.child("healthCheckNodePort"),
            hc,
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ));
    }
    let itp_path = sp.child("internalTrafficPolicy");
    match spec.internal_traffic_policy.as_deref() {
        None if matches!(ty, "ClusterIP" | "NodePort" | "LoadBalancer") => {
            errs.push(FieldError::required(&itp_path, "must be specified"));
        }
        Some(p) if p != "Cluster" && p != "Local" => {
            errs.push(FieldError::not_supported(
                &itp_path,
                p,
                &["Cluster", "Local"],
            ));
        }
        _ => {}
    }
    if let Some(td) = spec.traffic_distribution.as_deref()
        && td != "PreferClose"
    {
        errs.push(FieldError::not_supported(
            &sp.child("trafficDistribution"),
            td,
            &["PreferClose"],
        ));
    }
    errs
}

/// A Service update: an assigned cluster IP stays.
pub fn validate_service_update(new: &Service, old: &Service) -> Vec<FieldError> {
    let (n, o) = (
        new.spec.clone().unwrap_or_default(),
        old.spec.clone().unwrap_or_default(),
    );
    let mut errs = Vec::new();
    if s(&n.type_) != "ExternalName"
        && s(&o.type_) != "ExternalName"
        && !s(&o.cluster_ip).is_empty()
    {
        errs.extend(immutable(
            &s(&n.cluster_ip),
            &s(&o.cluster_ip),
            &Path::new("spec").child("clusterIP"),
        ));
    }
    errs
}

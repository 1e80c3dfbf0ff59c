//! Ingresses.

use k8s_openapi::api::networking::v1::{Ingress, IngressBackend};
use serde_json::Value;

use super::error::{FieldError, Path};
use super::meta::{s, validate_object_meta};
use super::names::{
    dns1123_subdomain_errors, name_is_dns_subdomain, name_is_dns1035_label, port_name_errors,
    port_num_errors, wildcard_dns1123_subdomain_errors,
};
use super::net::parse_ip;

const PATH_TYPES: &[&str] = &["Exact", "ImplementationSpecific", "Prefix"];

fn host_errors(host: &str, path: &Path) -> Vec<FieldError> {
    let msgs = if host.contains('*') {
        wildcard_dns1123_subdomain_errors(host)
    } else {
        dns1123_subdomain_errors(host)
    };
    msgs.into_iter()
        .map(|m| FieldError::invalid(path, host, m))
        .collect()
}

fn validate_backend(b: &IngressBackend, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match (&b.resource, &b.service) {
        (Some(_), Some(_)) => errs.push(FieldError::invalid(
            path,
            "",
            "cannot set both resource and service backends",
        )),
        (Some(r), None) => {
            let rp = path.child("resource");
            if r.kind.is_empty() {
                errs.push(FieldError::required(&rp.child("kind"), "kind is required"));
            }
            if r.name.is_empty() {
                errs.push(FieldError::required(&rp.child("name"), "name is required"));
            }
        }
        (None, Some(svc)) => {
            let sp = path.child("service");
            if svc.name.is_empty() {
                errs.push(FieldError::required(&sp.child("name"), ""));
            } else {
                for m in name_is_dns1035_label(&svc.name, false) {
                    errs.push(FieldError::invalid(&sp.child("name"), svc.name.as_str(), m));
                }
            }
            let port = svc.port.clone().unwrap_or_default();
            let name = s(&port.name);
            let number = port.number.unwrap_or(0);
            match (name.is_empty(), number == 0) {
                (false, false) => errs.push(FieldError::invalid(
                    path,
                    "",
                    "cannot set both port name & port number",
                )),
                (false, true) => {
                    for m in port_name_errors(name) {
                        errs.push(FieldError::invalid(
                            &sp.child("port").child("name"),
                            name,
                            m,
                        ));
                    }
                }
                (true, false) => {
                    for m in port_num_errors(i64::from(number)) {
                        errs.push(FieldError::invalid(
                            &sp.child("port").child("number"),
                            number,
                            m,
                        ));
                    }
                }
                (true, true) => errs.push(FieldError::required(
                    path,
                    "port name or number is required",
                )),
            }
        }
        (None, None) => errs.push(FieldError::invalid(
            path,
            "",
            "resource or service backend is required",
        )),
    }
    errs
}

fn validate_http_path(
    p: &k8s_openapi::api::networking::v1::HTTPIngressPath,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let value = s(&p.path);
    let pp = path.child("path");
    match p.path_type.as_str() {
        "" => {
            return vec![FieldError::required(
                &path.child("pathType"),
                "pathType must be specified",
            )];
        }
        "Exact" | "Prefix" => {
            if !value.starts_with('/') {
                errs.push(FieldError::invalid(&pp, value, "must be an absolute path"));
            }
            for seq in ["//", "/./", "/../", "%2f", "%2F"] {
                if value.contains(seq) {
                    errs.push(FieldError::invalid(
                        &pp,
                        value,
                        format!("must not contain '{seq}'"),
                    ));
                }
            }
            for suffix in ["/..", "/."] {
                if value.ends_with(suffix) {
                    errs.push(FieldError::invalid(
                        &pp,
                        value,
                        format!("cannot end with '{suffix}'"),
                    ));
                }
            }
        }
        "ImplementationSpecific" => {
            if !value.is_empty() && !value.starts_with('/') {
                errs.push(FieldError::invalid(&pp, value, "must be an absolute path"));
            }
        }
        other => errs.push(FieldError::not_supported(
            &path.child("pathType"),
            other,
            PATH_TYPES,
        )),
    }
    errs.extend(validate_backend(&p.backend, &path.child("backend")));
    errs
}

/// An Ingress.
pub fn validate_ingress(ing: &Ingress, namespaced: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &ing.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let spec = ing.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let rules = spec.rules.as_deref().unwrap_or_default();
    if rules.is_empty() && spec.default_backend.is_none() {
        errs.push(FieldError::invalid(
            &sp,
            Value::Null,
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(b) = &spec.default_backend {
        errs.extend(validate_backend(b, &sp.child("defaultBackend")));
    }
    for (i, r) in rules.iter().enumerate() {
        let rp = sp.child("rules").index(i);
        let host = s(&r.host);
        if !host.is_empty() {
            if parse_ip(host).is_some() {
                errs.push(FieldError::invalid(
                    &rp.child("host"),
                    host,
                    "must be a DNS name, not an IP address",
                ));
            }
            errs.extend(host_errors(host, &rp.child("host")));
        }
        if let Some(http) = &r.http {
            let hp = rp.child("http");
            if http.paths.is_empty() {
                errs.push(FieldError::required(&hp.child("paths"), ""));
            }
            for (j, p) in http.paths.iter().enumerate() {
                errs.extend(validate_http_path(p, &hp.child("paths").index(j)));
            }
        }
    }
    for (i, tls) in spec.tls.iter().flatten().enumerate() {
        for (j, h) in tls.hosts.iter().flatten().enumerate() {
            errs.extend(host_errors(
                h,
                &sp.child("tls").index(i).child("hosts").index(j),
            ));
        }
    }
    if let Some(c) = spec.ingress_class_name.as_deref() {
        for m in name_is_dns_subdomain(c, false) {
            errs.push(FieldError::invalid(&sp.child("ingressClassName"), c, m));
        }
    }
    errs
}

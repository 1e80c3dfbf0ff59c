//! Probes and lifecycle hooks: exactly one action each, valid ports,
//! sensible timings.

use k8s_openapi::api::core::v1::{HTTPGetAction, LifecycleHandler, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::error::{FieldError, Path};
use super::fields::{nonnegative, port_num_or_name};
use super::meta::s;
use super::names::port_num_errors;

/// A probe or lifecycle handler has exactly one action.
fn validate_handler(
    actions: &[(&str, bool)],
    path: &Path,
    http: Option<&HTTPGetAction>,
    tcp: Option<&IntOrString>,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let set: Vec<&str> = actions
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| *n)
        .collect();
    if set.is_empty() {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
    for extra in set.iter().skip(1) {
        errs.push(FieldError::forbidden(
            &path.child(extra),
            "may not specify more than 1 handler type",
        ));
    }
    if let Some(h) = http {
        let hp = path.child("httpGet");
        errs.extend(port_num_or_name(&h.port, &hp.child("port")));
        let scheme = s(&h.scheme);
        if !scheme.is_empty() && scheme != "HTTP" && scheme != "HTTPS" {
            errs.push(FieldError::not_supported(
                &hp.child("scheme"),
                scheme,
                &["HTTP", "HTTPS"],
            ));
        }
    }
    if let Some(port) = tcp {
        errs.extend(port_num_or_name(
            port,
            &path.child("tcpSocket").child("port"),
        ));
    }
    errs
}

pub(crate) fn validate_probe(p: &Probe, path: &Path, single_success: bool) -> Vec<FieldError> {
    let mut errs = validate_handler(
        &[
            ("exec", p.exec.is_some()),
            ("httpGet", p.http_get.is_some()),
            ("tcpSocket", p.tcp_socket.is_some()),
            ("grpc", p.grpc.is_some()),
        ],
        path,
        p.http_get.as_ref(),
        p.tcp_socket.as_ref().map(|t| &t.port),
    );
    if let Some(g) = &p.grpc {
        for m in port_num_errors(i64::from(g.port)) {
            errs.push(FieldError::invalid(
                &path.child("grpc").child("port"),
                g.port,
                m,
            ));
        }
    }
    for (name, v) in [
        ("initialDelaySeconds", p.initial_delay_seconds),
        ("timeoutSeconds", p.timeout_seconds),
        ("periodSeconds", p.period_seconds),
        ("successThreshold", p.success_threshold),
        ("failureThreshold", p.failure_threshold),
    ] {
        errs.extend(nonnegative(i64::from(v.unwrap_or(0)), &path.child(name)));
    }
    if single_success && p.success_threshold.is_some_and(|v| v != 1) {
        errs.push(FieldError::invalid(
            &path.child("successThreshold"),
            p.success_threshold.unwrap_or(0),
            "must be 1",
        ));
    }
    if let Some(t) = p.termination_grace_period_seconds
        && t <= 0
    {
        errs.push(FieldError::invalid(
            &path.child("terminationGracePeriodSeconds"),
            t,
            "must be greater than 0",
        ));
    }
    errs
}

pub(crate) fn validate_lifecycle_handler(h: &LifecycleHandler, path: &Path) -> Vec<FieldError> {
    let mut errs = validate_handler(
        &[
            ("exec", h.exec.is_some()),
            ("httpGet", h.http_get.is_some()),
            ("tcpSocket", h.tcp_socket.is_some()),
            ("sleep", h.sleep.is_some()),
        ],
        path,
        h.http_get.as_ref(),
        h.tcp_socket.as_ref().map(|t| &t.port),
    );
    if let Some(sl) = &h.sleep
        && sl.seconds < 0
    {
        errs.push(FieldError::invalid(
            &path.child("sleep").child("seconds"),
            sl.seconds,
            "must be greater than or equal to 0",
        ));
    }
    errs
}

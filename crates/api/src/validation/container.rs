//! Containers of a pod spec: names, images, ports, environment, volume
//! mounts, and (through `resources` and `probe`) resources and probes.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Container, ContainerPort, EnvFromSource, EnvVar, VolumeMount};

use super::error::{FieldError, Path};
use super::fields::{PROTOCOLS, dns_label, local_descending_path};
use super::meta::s;
use super::names::{env_var_name_errors, name_is_dns_subdomain, port_name_errors, port_num_errors};
use super::probe::{validate_lifecycle_handler, validate_probe};
use super::resources::validate_resources;

/// Unique host ports across the pod: (protocol/hostIP/hostPort).
pub(crate) type HostPorts = BTreeSet<String>;

fn validate_ports(
    ports: &[ContainerPort],
    host_ports: &mut HostPorts,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let ip = path.index(i);
        let name = s(&p.name);
        if !name.is_empty() {
            let msgs = port_name_errors(name);
            if !msgs.is_empty() {
                errs.extend(
                    msgs.into_iter()
                        .map(|m| FieldError::invalid(&ip.child("name"), name, m)),
                );
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(&ip.child("name"), name));
            }
        }
        if p.container_port == 0 {
            errs.push(FieldError::required(&ip.child("containerPort"), ""));
        } else {
            for m in port_num_errors(i64::from(p.container_port)) {
                errs.push(FieldError::invalid(
                    &ip.child("containerPort"),
                    p.container_port,
                    m,
                ));
            }
        }
        let host_port = p.host_port.unwrap_or(0);
        if host_port != 0 {
            for m in port_num_errors(i64::from(host_port)) {
                errs.push(FieldError::invalid(&ip.child("hostPort"), host_port, m));
            }
        }
        let proto = s(&p.protocol);
        if proto.is_empty() {
            errs.push(FieldError::required(&ip.child("protocol"), ""));
        } else if !PROTOCOLS.contains(&proto) {
            errs.push(FieldError::not_supported(
                &ip.child("protocol"),
                proto,
                PROTOCOLS,
            ));
        }
        if host_port != 0 {
            let key = format!("{proto}/{}/{host_port}", s(&p.host_ip));
            if !host_ports.insert(key.clone()) {
                errs.push(FieldError::duplicate(&ip.child("hostPort"), key));
            }
        }
    }
    errs
}

fn validate_env(env: &[EnvVar], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, e) in env.iter().enumerate() {
        let ip = path.index(i);
        if e.name.is_empty() {
            errs.push(FieldError::required(&ip.child("name"), ""));
        }
        for m in env_var_name_errors(&e.name) {
            errs.push(FieldError::invalid(&ip.child("name"), e.name.as_str(), m));
        }
        let Some(from) = &e.value_from else { continue };
        let fp = ip.child("valueFrom");
        let mut n = 0;
        if let Some(f) = &from.field_ref {
            n += 1;
            if f.field_path.is_empty() {
                errs.push(FieldError::required(
                    &fp.child("fieldRef").child("fieldPath"),
                    "",
                ));
            }
        }
        if let Some(r) = &from.resource_field_ref {
            n += 1;
            if r.resource.is_empty() {
                errs.push(FieldError::required(
                    &fp.child("resourceFieldRef").child("resource"),
                    "",
                ));
            }
        }
        if let Some(c) = &from.config_map_key_ref {
            n += 1;
            errs.extend(key_selector(&c.name, &c.key, &fp.child("configMapKeyRef")));
        }
        if let Some(c) = &from.secret_key_ref {
            n += 1;
            errs.extend(key_selector(&c.name, &c.key, &fp.child("secretKeyRef")));
        }
        if n == 0 {
            errs.push(FieldError::invalid(
                &fp,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if !s(&e.value).is_empty() {
            errs.push(FieldError::invalid(
                &fp,
                "",
                "may not be specified when `value` is not empty",
            ));
        } else if n > 1 {
            errs.push(FieldError::invalid(
                &fp,
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
    errs
}

fn key_selector(name: &str, key: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    }
    if key.is_empty() {
        errs.push(FieldError::required(&path.child("key"), ""));
    } else {
        for m in super::names::config_map_key_errors(key) {
            errs.push(FieldError::invalid(&path.child("key"), key, m));
        }
    }
    errs
}

fn validate_env_from(env_from: &[EnvFromSource], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, e) in env_from.iter().enumerate() {
        let ip = path.index(i);
        let prefix = s(&e.prefix);
        if !prefix.is_empty() {
            for m in env_var_name_errors(prefix) {
                errs.push(FieldError::invalid(&ip.child("prefix"), prefix, m));
            }
        }
        let refs = [
            (
                "configMapRef",
                e.config_map_ref.as_ref().map(|r| r.name.as_str()),
            ),
            ("secretRef", e.secret_ref.as_ref().map(|r| r.name.as_str())),
        ];
        let set: Vec<_> = refs.iter().filter(|(_, r)| r.is_some()).collect();
        match set.len() {
            0 => errs.push(FieldError::invalid(
                &ip,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            )),
            1 => {
                let (field, name) = set[0];
                let name = name.unwrap_or("");
                let np = ip.child(field).child("name");
                if name.is_empty() {
                    errs.push(FieldError::required(&np, ""));
                } else {
                    for m in name_is_dns_subdomain(name, true) {
                        errs.push(FieldError::invalid(&np, name, m));
                    }
                }
            }
            _ => errs.push(FieldError::invalid(
                &ip,
                "",
                "may not have more than one field specified at a time",
            )),
        }
    }
    errs
}

fn validate_mounts(
    mounts: &[VolumeMount],
    volumes: &BTreeSet<String>,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut points = BTreeSet::new();
    for (i, m) in mounts.iter().enumerate() {
        let ip = path.index(i);
        if m.name.is_empty() {
            errs.push(FieldError::required(&ip.child("name"), ""));
        }
        if !volumes.contains(&m.name) {
            errs.push(FieldError::not_found(&ip.child("name"), m.name.as_str()));
        }
        if m.mount_path.is_empty() {
            errs.push(FieldError::required(&ip.child("mountPath"), ""));
        }
        if !points.insert(m.mount_path.as_str()) {
            errs.push(FieldError::invalid(
                &ip.child("mountPath"),
                m.mount_path.as_str(),
                "must be unique",
            ));
        }
        let sub = s(&m.sub_path);
        if !sub.is_empty() {
            errs.extend(local_descending_path(sub, &ip.child("subPath")));
        }
        let sub_expr = s(&m.sub_path_expr);
        if !sub.is_empty() && !sub_expr.is_empty() {
            errs.push(FieldError::invalid(
                &ip.child("subPathExpr"),
                sub_expr,
                "subPathExpr and subPath are mutually exclusive",
            ));
        }
        if !sub_expr.is_empty() {
            errs.extend(local_descending_path(sub_expr, &ip.child("subPathExpr")));
        }
        let prop = s(&m.mount_propagation);
        if !prop.is_empty() && !["None", "HostToContainer", "Bidirectional"].contains(&prop) {
            errs.push(FieldError::not_supported(
                &ip.child("mountPropagation"),
                prop,
                &["Bidirectional", "HostToContainer", "None"],
            ));
        }
    }
    errs
}

/// Which list a container sits in; the rules differ.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Regular,
    Init,
}

/// The checks every container gets; `in_pod` adds the pod-only ones.
pub(crate) fn validate_container(
    c: &Container,
    role: Role,
    volumes: &BTreeSet<String>,
    host_ports: &mut HostPorts,
    in_pod: bool,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if c.name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else {
        errs.extend(dns_label(&c.name, &path.child("name")));
    }
    let image = s(&c.image);
    if image.is_empty() {
        errs.push(FieldError::required(&path.child("image"), ""));
    } else if in_pod && image.trim() != image {
        errs.push(FieldError::invalid(
            &path.child("image"),
            image,
            "must not have leading or trailing whitespace",
        ));
    }
    match s(&c.termination_message_policy) {
        "File" | "FallbackToLogsOnError" => {}
        "" => errs.push(FieldError::required(
            &path.child("terminationMessagePolicy"),
            "",
        )),
        other => errs.push(FieldError::not_supported(
            &path.child("terminationMessagePolicy"),
            other,
            &["File", "FallbackToLogsOnError"],
        )),
    }
    errs.extend(validate_ports(
        c.ports.as_deref().unwrap_or_default(),
        host_ports,
        &path.child("ports"),
    ));
    errs.extend(validate_env(
        c.env.as_deref().unwrap_or_default(),
        &path.child("env"),
    ));
    errs.extend(validate_env_from(
        c.env_from.as_deref().unwrap_or_default(),
        &path.child("envFrom"),
    ));
    errs.extend(validate_mounts(
        c.volume_mounts.as_deref().unwrap_or_default(),
        volumes,
        &path.child("volumeMounts"),
    ));
    match s(&c.image_pull_policy) {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errs.push(FieldError::required(&path.child("imagePullPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            &path.child("imagePullPolicy"),
            other,
            &["Always", "IfNotPresent", "Never"],
        )),
    }
    if let Some(r) = &c.resources {
        errs.extend(validate_resources(r, &path.child("resources")));
    }
    let mut resized = BTreeSet::new();
    for (i, rp) in c.resize_policy.iter().flatten().enumerate() {
        let ip = path.child("resizePolicy").index(i);
        if !["cpu", "memory"].contains(&rp.resource_name.as_str()) {
            errs.push(FieldError::not_supported(
                &ip.child("resourceName"),
                rp.resource_name.as_str(),
                &["cpu", "memory"],
            ));
        } else if !resized.insert(rp.resource_name.as_str()) {
            errs.push(FieldError::duplicate(
                &ip.child("resourceName"),
                rp.resource_name.as_str(),
            ));
        }
        if !["NotRequired", "RestartContainer"].contains(&rp.restart_policy.as_str()) {
            errs.push(FieldError::not_supported(
                &ip.child("restartPolicy"),
                rp.restart_policy.as_str(),
                &["NotRequired", "RestartContainer"],
            ));
        }
    }
    let sidecar = match (role, c.restart_policy.as_deref()) {
        (Role::Regular, Some(_)) => {
            errs.push(FieldError::forbidden(
                &path.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
            false
        }
        (Role::Init, Some("Always")) => true,
        (Role::Init, Some(other)) => {
            errs.push(FieldError::not_supported(
                &path.child("restartPolicy"),
                other,
                &["Always"],
            ));
            false
        }
        (_, None) => false,
    };
    let plain_init = role == Role::Init && !sidecar;
    let probes = [
        ("livenessProbe", &c.liveness_probe, true),
        ("readinessProbe", &c.readiness_probe, false),
        ("startupProbe", &c.startup_probe, true),
    ];
    for (name, probe, single) in probes {
        let Some(p) = probe else { continue };
        if plain_init {
            errs.push(FieldError::forbidden(
                &path.child(name),
                "may not be set for init containers without restartPolicy=Always",
            ));
        } else {
            errs.extend(validate_probe(p, &path.child(name), single));
        }
    }
    if let Some(l) = &c.lifecycle {
        if plain_init {
            errs.push(FieldError::forbidden(
                &path.child("lifecycle"),
                "may not be set for init containers without restartPolicy=Always",
            ));
        } else {
            let lp = path.child("lifecycle");
            if let Some(h) = &l.post_start {
                errs.extend(validate_lifecycle_handler(h, &lp.child("postStart")));
            }
            if let Some(h) = &l.pre_stop {
                errs.extend(validate_lifecycle_handler(h, &lp.child("preStop")));
            }
        }
    }
    errs
}

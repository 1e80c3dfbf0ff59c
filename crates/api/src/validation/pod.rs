//! Pods, pod specs and pod templates (the template rules apply inside every
//! workload kind).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Pod, PodSpec, PodTemplateSpec, Toleration};
use serde_json::Value;

use super::container::{HostPorts, Role, validate_container};
use super::error::{FieldError, Path};
use super::fields::dns_label;
use super::meta::{
    s, validate_annotations, validate_label_name, validate_labels, validate_object_meta,
};
use super::names::{label_value_errors, name_is_dns_subdomain, qualified_name_errors};
use super::net::validate_ip;
use super::volume::validate_volumes;

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

fn subdomain_field(v: &str, path: &Path) -> Vec<FieldError> {
    name_is_dns_subdomain(v, false)
        .into_iter()
        .map(|m| FieldError::invalid(path, v, m))
        .collect()
}

/// A taint effect (`allow_empty` for tolerations, which match all effects).
pub fn validate_taint_effect(effect: &str, allow_empty: bool, path: &Path) -> Option<FieldError> {
    if effect.is_empty() {
        return (!allow_empty).then(|| FieldError::required(path, ""));
    }
    (!TAINT_EFFECTS.contains(&effect))
        .then(|| FieldError::not_supported(path, effect, TAINT_EFFECTS))
}

/// Pod tolerations.
pub fn validate_tolerations(tolerations: &[Toleration], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, t) in tolerations.iter().enumerate() {
        let ip = path.index(i);
        let key = s(&t.key);
        let op = s(&t.operator);
        let effect = s(&t.effect);
        if !key.is_empty() {
            errs.extend(validate_label_name(key, &ip.child("key")));
        }
        if key.is_empty() && op != "Exists" {
            errs.push(FieldError::invalid(
                &ip.child("operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if t.toleration_seconds.is_some() && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                &ip.child("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match op {
            "Equal" | "" => {
                let msgs = label_value_errors(s(&t.value));
                if !msgs.is_empty() {
                    errs.push(FieldError::invalid(
                        &ip.child("operator"),
                        s(&t.value),
                        msgs.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !s(&t.value).is_empty() {
                    errs.push(FieldError::invalid(
                        &ip.child("operator"),
                        serde_json::to_value(t).unwrap_or(Value::Null),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                &ip.child("operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        errs.extend(validate_taint_effect(effect, true, &ip.child("effect")));
    }
    errs
}

fn validate_dns(spec: &PodSpec, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let policy = s(&spec.dns_policy);
    match policy {
        "" => errs.push(FieldError::required(&path.child("dnsPolicy"), "")),
        p if !DNS_POLICIES.contains(&p) => {
            errs.push(FieldError::not_supported(
                &path.child("dnsPolicy"),
                p,
                DNS_POLICIES,
            ));
        }
        _ => {}
    }
    let cp = path.child("dnsConfig");
    if policy == "None" {
        match &spec.dns_config {
            None => {
                errs.push(FieldError::required(
                    &cp,
                    "must provide `dnsConfig` when `dnsPolicy` is None",
                ));
                return errs;
            }
            Some(c) if c.nameservers.as_ref().is_none_or(Vec::is_empty) => {
                errs.push(FieldError::required(
                    &cp.child("nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                ));
                return errs;
            }
            _ => {}
        }
    }
    let Some(c) = &spec.dns_config else {
        return errs;
    };
    let servers = c.nameservers.as_deref().unwrap_or_default();
    if servers.len() > 3 {
        errs.push(FieldError::invalid(
            &cp.child("nameservers"),
            serde_json::to_value(servers).unwrap_or(Value::Null),
            "must not have more than 3 nameservers",
        ));
    }
    for (i, ns) in servers.iter().enumerate() {
        errs.extend(validate_ip(&cp.child("nameservers").index(i), ns));
    }
    let searches = c.searches.as_deref().unwrap_or_default();
    if searches.len() > 32 {
        errs.push(FieldError::invalid(
            &cp.child("searches"),
            serde_json::to_value(searches).unwrap_or(Value::Null),
            "must not have more than 32 search paths",
        ));
    }
    if searches.join(" ").len() > 2048 {
        errs.push(FieldError::invalid(
            &cp.child("searches"),
            serde_json::to_value(searches).unwrap_or(Value::Null),
            "must not have more than 2048 characters (including spaces) in the search list",
        ));
    }
    for (i, search) in searches.iter().enumerate() {
        let trimmed = search.strip_suffix('.').unwrap_or(search);
        if search != "." {
            errs.extend(subdomain_field(trimmed, &cp.child("searches").index(i)));
        }
    }
    for (i, o) in c.options.iter().flatten().enumerate() {
        if o.name.as_deref().unwrap_or("").is_empty() {
            errs.push(FieldError::required(
                &cp.child("options").index(i),
                "must not be empty",
            ));
        }
    }
    errs
}

fn validate_spread(spec: &PodSpec, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let constraints = spec
        .topology_spread_constraints
        .as_deref()
        .unwrap_or_default();
    for (i, c) in constraints.iter().enumerate() {
        let ip = path.index(i);
        if c.max_skew <= 0 {
            errs.push(FieldError::invalid(
                &ip.child("maxSkew"),
                c.max_skew,
                "must be greater than zero",
            ));
        }
        if c.topology_key.is_empty() {
            errs.push(FieldError::required(
                &ip.child("topologyKey"),
                "can not be empty",
            ));
        } else {
            errs.extend(validate_label_name(
                &c.topology_key,
                &ip.child("topologyKey"),
            ));
        }
        let when = c.when_unsatisfiable.as_str();
        if when != "DoNotSchedule" && when != "ScheduleAnyway" {
            errs.push(FieldError::not_supported(
                &ip.child("whenUnsatisfiable"),
                when,
                &["DoNotSchedule", "ScheduleAnyway"],
            ));
        }
        let repeated = constraints[i + 1..].iter().any(|o| {
            o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable
        });
        if repeated {
            errs.push(FieldError::duplicate(
                &ip.child("{topologyKey, whenUnsatisfiable}"),
                format!("{{{}, {}}}", c.topology_key, when),
            ));
        }
        if let Some(sel) = &c.label_selector {
            errs.extend(super::selector::validate_label_selector(
                sel,
                &ip.child("labelSelector"),
            ));
        }
    }
    errs
}

/// A pod spec. `in_pod` adds the checks upstream applies to pods but not
/// to templates.
pub fn validate_pod_spec(spec: &PodSpec, in_pod: bool, path: &Path) -> Vec<FieldError> {
    let (mut errs, volumes) = validate_volumes(
        spec.volumes.as_deref().unwrap_or_default(),
        &path.child("volumes"),
    );
    let mut host_ports = HostPorts::new();
    let mut names = BTreeSet::new();
    let cp = path.child("containers");
    if spec.containers.is_empty() {
        errs.push(FieldError::required(&cp, ""));
    }
    for (i, c) in spec.containers.iter().enumerate() {
        let ip = cp.index(i);
        errs.extend(validate_container(
            c,
            Role::Regular,
            &volumes,
            &mut host_ports,
            in_pod,
            &ip,
        ));
        if !names.insert(c.name.as_str()) {
            errs.push(FieldError::duplicate(&ip.child("name"), c.name.as_str()));
        }
    }
    let ip_path = path.child("initContainers");
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        let ip = ip_path.index(i);
        errs.extend(validate_container(
            c,
            Role::Init,
            &volumes,
            &mut host_ports,
            in_pod,
            &ip,
        ));
        if names.contains(c.name.as_str()) {
            errs.push(FieldError::duplicate(&ip.child("name"), c.name.as_str()));
        } else if !c.name.is_empty() {
            names.insert(c.name.as_str());
        }
    }
    match s(&spec.restart_policy) {
        "" => errs.push(FieldError::required(&path.child("restartPolicy"), "")),
        p if !RESTART_POLICIES.contains(&p) => {
            errs.push(FieldError::not_supported(
                &path.child("restartPolicy"),
                p,
                RESTART_POLICIES,
            ));
        }
        _ => {}
    }
    errs.extend(validate_dns(spec, path));
    errs.extend(validate_labels(
        spec.node_selector.as_ref(),
        &path.child("nodeSelector"),
    ));
    for (field, v) in [
        ("serviceAccountName", s(&spec.service_account_name)),
        ("nodeName", s(&spec.node_name)),
        ("priorityClassName", s(&spec.priority_class_name)),
    ] {
        if !v.is_empty() {
            errs.extend(subdomain_field(v, &path.child(field)));
        }
    }
    if let Some(a) = spec.active_deadline_seconds
        && !(1..=i64::from(i32::MAX)).contains(&a)
    {
        errs.push(FieldError::invalid(
            &path.child("activeDeadlineSeconds"),
            a,
            super::names::inclusive_range_error(1, i64::from(i32::MAX)),
        ));
    }
    for (field, v) in [
        ("hostname", s(&spec.hostname)),
        ("subdomain", s(&spec.subdomain)),
    ] {
        if !v.is_empty() {
            errs.extend(dns_label(v, &path.child(field)));
        }
    }
    errs.extend(validate_tolerations(
        spec.tolerations.as_deref().unwrap_or_default(),
        &path.child("tolerations"),
    ));
    for (i, h) in spec.host_aliases.iter().flatten().enumerate() {
        let ip = path.child("hostAliases").index(i);
        errs.extend(validate_ip(&ip.child("ip"), &h.ip));
        for (j, name) in h.hostnames.iter().flatten().enumerate() {
            errs.extend(subdomain_field(name, &ip.child("hostnames").index(j)));
        }
    }
    errs.extend(validate_spread(
        spec,
        &path.child("topologySpreadConstraints"),
    ));
    if let Some(p) = spec.preemption_policy.as_deref()
        && p != "PreemptLowerPriority"
        && p != "Never"
    {
        errs.push(FieldError::not_supported(
            &path.child("preemptionPolicy"),
            p,
            &["Never", "PreemptLowerPriority"],
        ));
    }
    let mut gates = BTreeSet::new();
    for (i, g) in spec.scheduling_gates.iter().flatten().enumerate() {
        let ip = path.child("schedulingGates").index(i);
        for m in qualified_name_errors(&g.name) {
            errs.push(FieldError::invalid(&ip, g.name.as_str(), m));
        }
        if !gates.insert(g.name.as_str()) {
            errs.push(FieldError::duplicate(&ip, g.name.as_str()));
        }
    }
    for (i, g) in spec.readiness_gates.iter().flatten().enumerate() {
        for m in qualified_name_errors(&g.condition_type) {
            errs.push(FieldError::invalid(
                &path.child("readinessGates").index(i).child("conditionType"),
                g.condition_type.as_str(),
                m,
            ));
        }
    }
    if let Some(os) = &spec.os
        && os.name != "linux"
        && os.name != "windows"
    {
        errs.push(FieldError::not_supported(
            &path.child("os").child("name"),
            os.name.as_str(),
            &["linux", "windows"],
        ));
    }
    errs
}

/// The spec to validate; a missing one is checked as upstream checks it:
/// empty but for the fields its defaulting fills in.
pub(crate) fn spec_or_default(spec: Option<&PodSpec>) -> PodSpec {
    spec.cloned().unwrap_or_else(|| PodSpec {
        restart_policy: Some("Always".into()),
        dns_policy: Some("ClusterFirst".into()),
        ..PodSpec::default()
    })
}

/// A pod template (`spec.template` of workloads, `template` of PodTemplate).
pub fn validate_pod_template_spec(t: &PodTemplateSpec, path: &Path) -> Vec<FieldError> {
    let meta = t.metadata.as_ref();
    let mut errs = validate_labels(meta.and_then(|m| m.labels.as_ref()), &path.child("labels"));
    errs.extend(validate_annotations(
        meta.and_then(|m| m.annotations.as_ref()),
        &path.child("annotations"),
    ));
    let spec = spec_or_default(t.spec.as_ref());
    errs.extend(validate_pod_spec(&spec, false, &path.child("spec")));
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|e| !e.is_empty())
    {
        errs.push(FieldError::forbidden(
            &path.child("spec").child("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errs
}

/// A pod (create and the common part of update).
pub fn validate_pod(pod: &Pod, namespaced: bool, create: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &pod.metadata,
        namespaced,
        name_is_dns_subdomain,
        &Path::new("metadata"),
    );
    let spec = spec_or_default(pod.spec.as_ref());
    let sp = Path::new("spec");
    errs.extend(validate_pod_spec(&spec, true, &sp));
    if create {
        if spec
            .ephemeral_containers
            .as_ref()
            .is_some_and(|e| !e.is_empty())
        {
            errs.push(FieldError::forbidden(
                &sp.child("ephemeralContainers"),
                "cannot be set on create",
            ));
        }
        if !s(&spec.node_name).is_empty()
            && spec
                .scheduling_gates
                .as_ref()
                .is_some_and(|g| !g.is_empty())
        {
            errs.push(FieldError::forbidden(
                &sp.child("nodeName"),
                "cannot be set until all schedulingGates have been cleared",
            ));
        }
    }
    errs
}

//! APIServices (kube-aggregator's `ValidateAPIService`): the name is
//! `<version>.<group>` (`v1.` for the legacy core group), the priorities
//! are bounded, and a local APIService (no service) carries no TLS
//! settings.

use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;

use super::error::{FieldError, Path, go_quote};
use super::meta::{s, validate_object_meta};
use super::names::{
    dns1035_label_errors, dns1123_subdomain_errors, name_is_path_segment, path_segment_errors,
    port_num_errors,
};

/// The port of a service that names none.
const DEFAULT_PORT: i32 = 443;

/// The name (or generateName) must be the one the spec implies. Upstream
/// checks it inside the metadata checks, which report generateName first,
/// then the name: each error goes right after its field's other errors.
fn name_matches_spec(errs: &mut Vec<FieldError>, a: &APIService, required: &str) {
    let meta = Path::new("metadata");
    let mut at = 0;
    for (field, value) in [
        ("generateName", s(&a.metadata.generate_name)),
        ("name", s(&a.metadata.name)),
    ] {
        let path = meta.child(field);
        at += errs[at..]
            .iter()
            .take_while(|e| e.field == path.as_str())
            .count();
        // A name that is no path segment gets only those messages.
        if value.is_empty() || value == required || !path_segment_errors(value).is_empty() {
            continue;
        }
        let detail = format!(
            "must be `spec.version+\".\"+spec.group`: {}",
            go_quote(required)
        );
        errs.insert(at, FieldError::invalid(&path, value, detail));
        at += 1;
    }
}

/// An APIService (create, and the new object of an update).
pub fn validate_api_service(a: &APIService) -> Vec<FieldError> {
    let spec = a.spec.clone().unwrap_or_default();
    let group = s(&spec.group);
    let version = s(&spec.version);
    let mut errs = validate_object_meta(
        &a.metadata,
        false,
        name_is_path_segment,
        &Path::new("metadata"),
    );
    name_matches_spec(&mut errs, a, &format!("{version}.{group}"));
    let sp = Path::new("spec");
    if group.is_empty() && version != "v1" {
        errs.push(FieldError::required(
            &sp.child("group"),
            "only v1 may have an empty group and it better be legacy kube",
        ));
    }
    if !group.is_empty() {
        for m in dns1123_subdomain_errors(group) {
            errs.push(FieldError::invalid(&sp.child("group"), group, m));
        }
    }
    for m in dns1035_label_errors(version) {
        errs.push(FieldError::invalid(&sp.child("version"), version, m));
    }
    let gpm = spec.group_priority_minimum;
    if !(1..=20000).contains(&gpm) {
        errs.push(FieldError::invalid(
            &sp.child("groupPriorityMinimum"),
            gpm,
            "must be positive and less than 20000",
        ));
    }
    let vp = spec.version_priority;
    if !(1..=1000).contains(&vp) {
        errs.push(FieldError::invalid(
            &sp.child("versionPriority"),
            vp,
            "must be positive and less than 1000",
        ));
    }
    let ca_len = spec.ca_bundle.as_ref().map_or(0, |b| b.0.len());
    let insecure = spec.insecure_skip_tls_verify.unwrap_or(false);
    let Some(service) = &spec.service else {
        if ca_len != 0 {
            errs.push(FieldError::invalid(
                &sp.child("caBundle"),
                format!("{ca_len} bytes"),
                "local APIServices may not have a caBundle",
            ));
        }
        if insecure {
            errs.push(FieldError::invalid(
                &sp.child("insecureSkipTLSVerify"),
                true,
                "local APIServices may not have insecureSkipTLSVerify",
            ));
        }
        return errs;
    };
    let svc = sp.child("service");
    for field in ["namespace", "name"] {
        let v = if field == "name" {
            &service.name
        } else {
            &service.namespace
        };
        if s(v).is_empty() {
            errs.push(FieldError::required(&svc.child(field), ""));
        }
    }
    let port = service.port.unwrap_or(DEFAULT_PORT);
    let port_errs = port_num_errors(i64::from(port));
    if !port_errs.is_empty() {
        errs.push(FieldError::invalid(
            &svc.child("port"),
            port,
            format!("port is not valid: {}", port_errs.join(", ")),
        ));
    }
    if insecure && ca_len > 0 {
        errs.push(FieldError::invalid(
            &sp.child("insecureSkipTLSVerify"),
            true,
            "may not be true if caBundle is present",
        ));
    }
    errs
}

/// An APIService's status: conditions are True, False or Unknown.
pub fn validate_api_service_status(a: &APIService) -> Vec<FieldError> {
    let conditions = a
        .status
        .as_ref()
        .and_then(|st| st.conditions.as_deref())
        .unwrap_or_default();
    conditions
        .iter()
        .enumerate()
        .filter(|(_, c)| !matches!(c.status.as_str(), "True" | "False" | "Unknown"))
        .map(|(i, c)| {
            FieldError::not_supported(
                &Path::new("status")
                    .child("conditions")
                    .index(i)
                    .child("status"),
                c.status.as_str(),
                &["True", "False", "Unknown"],
            )
        })
        .collect()
}

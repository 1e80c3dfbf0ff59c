//! Small checks shared by many kinds: non-negative numbers, DNS-label
//! fields, ports given by number or name, relative paths.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::error::{FieldError, Path};
use super::names::{
    dns1123_label_errors, port_name_errors, port_num_errors, qualified_name_errors,
};

/// Port protocols a container or service port may use.
pub const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

/// `must be greater than or equal to 0` on negative values.
pub fn nonnegative(v: i64, path: &Path) -> Option<FieldError> {
    (v < 0).then(|| FieldError::invalid(path, v, "must be greater than or equal to 0"))
}

/// A DNS-1123 label field.
pub fn dns_label(v: &str, path: &Path) -> Vec<FieldError> {
    dns1123_label_errors(v)
        .into_iter()
        .map(|m| FieldError::invalid(path, v, m))
        .collect()
}

/// A port given as a number or an IANA service name.
pub fn port_num_or_name(port: &IntOrString, path: &Path) -> Vec<FieldError> {
    match port {
        IntOrString::Int(n) => port_num_errors(i64::from(*n))
            .into_iter()
            .map(|m| FieldError::invalid(path, *n, m))
            .collect(),
        IntOrString::String(name) => port_name_errors(name)
            .into_iter()
            .map(|m| FieldError::invalid(path, name.as_str(), m))
            .collect(),
    }
}

/// A relative path that stays below its root (no `..` elements).
pub fn local_descending_path(p: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if p.starts_with('/') {
        errs.push(FieldError::invalid(path, p, "must be a relative path"));
    }
    if p.split(['/', '\\']).any(|part| part == "..") {
        errs.push(FieldError::invalid(path, p, "must not contain '..'"));
    }
    errs
}

/// A qualified-name field (`appProtocol`).
pub fn qualified_name(v: &str, path: &Path) -> Vec<FieldError> {
    qualified_name_errors(v)
        .into_iter()
        .map(|m| FieldError::invalid(path, v, m))
        .collect()
}

//! CertificateSigningRequests (upstream's
//! `pkg/apis/certificates/validation`): `spec.request` is a PEM
//! `CERTIFICATE REQUEST` whose signature verifies, `spec.signerName` a
//! `domain/path` name, usages from the known set without repeats,
//! `expirationSeconds` at least 600; conditions of known shape (Approved,
//! Denied and Failed only True, Approved and Denied never together), and
//! `status.certificate` PEM `CERTIFICATE` blocks.
//!
//! On update, conditions Approved, Denied and Failed may not be removed
//! and an issued certificate may not change. What each write path may
//! touch at all (the approval conditions only through `/approval`, the
//! certificate only through `/status`) is the strategy's business
//! ([`crate::certificates::prepare_update`]), which runs before this. The
//! spec never changes: a main-resource update that changes it is refused
//! here (upstream silently keeps the old spec; the strategy does too when
//! the server applies it to main-resource updates).

use std::collections::HashSet;

use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition,
};

use super::error::{ErrorKind, FieldError, Path};
use super::meta::validate_object_meta;
use super::names::{
    DNS1123_LABEL_MAX, DNS1123_SUBDOMAIN_MAX, dns1123_label_errors, dns1123_subdomain_errors,
    name_is_path_segment,
};
use crate::certificates::{APPROVED, DENIED, FAILED, LEGACY_UNKNOWN_SIGNER, USAGES, pem};

/// Shortest certificate lifetime a request may ask for.
pub const MIN_EXPIRATION_SECONDS: i32 = 600;

/// A request (create, and the new object of an update).
pub fn validate_csr(csr: &CertificateSigningRequest) -> Vec<FieldError> {
    let mut errs = validate_object_meta(
        &csr.metadata,
        false,
        name_is_path_segment,
        &Path::new("metadata"),
    );
    let spec = &csr.spec;
    let sp = Path::new("spec");
    if let Err(e) = crate::certificates::verify_csr(&spec.request.0) {
        errs.push(FieldError {
            kind: ErrorKind::Invalid,
            field: sp.child("request").to_string(),
            value: None,
            detail: format!("{}: {e}", go_bytes(&spec.request.0)),
        });
    }
    let usages = spec.usages.as_deref().unwrap_or_default();
    if usages.is_empty() {
        errs.push(FieldError::required(&sp.child("usages"), ""));
    }
    for (i, u) in usages.iter().enumerate() {
        if !USAGES.contains(&u.as_str()) {
            errs.push(FieldError::not_supported(
                &sp.child("usages").index(i),
                u.as_str(),
                USAGES,
            ));
        }
    }
    let mut seen = HashSet::new();
    for (i, u) in usages.iter().enumerate() {
        if !seen.insert(u) {
            errs.push(FieldError::duplicate(
                &sp.child("usages").index(i),
                u.as_str(),
            ));
        }
    }
    if spec.signer_name == LEGACY_UNKNOWN_SIGNER {
        errs.push(FieldError::invalid(
            &sp.child("signerName"),
            spec.signer_name.as_str(),
            "the legacy signerName is not allowed via this API version",
        ));
    } else {
        errs.extend(validate_signer_name(
            &sp.child("signerName"),
            &spec.signer_name,
        ));
    }
    if let Some(secs) = spec.expiration_seconds
        && secs < MIN_EXPIRATION_SECONDS
    {
        errs.push(FieldError::invalid(
            &sp.child("expirationSeconds"),
            secs,
            "may not specify a duration less than 600 seconds (10 minutes)",
        ));
    }
    let status = csr.status.clone().unwrap_or_default();
    errs.extend(validate_conditions(
        status.conditions.as_deref().unwrap_or_default(),
    ));
    if let Some(cert) = &status.certificate
        && let Err(detail) = validate_certificate(&cert.0)
    {
        errs.push(FieldError::invalid(
            &Path::new("status").child("certificate"),
            "<certificate data>",
            detail,
        ));
    }
    errs
}

/// What an update may not do: change the spec, remove an Approved,
/// Denied or Failed condition, or change an issued certificate.
pub fn validate_csr_update(
    new: &CertificateSigningRequest,
    old: &CertificateSigningRequest,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if new.spec != old.spec {
        errs.push(FieldError::forbidden(
            &Path::new("spec"),
            super::meta::FIELD_IMMUTABLE,
        ));
    }
    let conditions = Path::new("status").child("conditions");
    for t in [APPROVED, DENIED, FAILED] {
        if count(new, t) < count(old, t) {
            errs.push(FieldError::forbidden(
                &conditions,
                format!("updates may not remove a condition of type \"{t}\""),
            ));
        }
    }
    let cert = |c: &CertificateSigningRequest| {
        c.status
            .as_ref()
            .and_then(|s| s.certificate.as_ref())
            .map(|b| b.0.clone())
            .unwrap_or_default()
    };
    let (new_cert, old_cert) = (cert(new), cert(old));
    if new_cert != old_cert && !old_cert.is_empty() {
        errs.push(FieldError::forbidden(
            &Path::new("status").child("certificate"),
            "updates may not modify existing certificate content",
        ));
    }
    errs
}

fn count(csr: &CertificateSigningRequest, t: &str) -> usize {
    csr.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .map_or(0, |c| c.iter().filter(|c| c.type_ == t).count())
}

/// Upstream's `validateConditions`.
fn validate_conditions(conds: &[CertificateSigningRequestCondition]) -> Vec<FieldError> {
    let path = Path::new("status").child("conditions");
    let mut errs = Vec::new();
    let mut seen = HashSet::new();
    let (mut approved, mut denied) = (false, false);
    for (i, c) in conds.iter().enumerate() {
        let at = path.index(i);
        if c.type_.is_empty() {
            errs.push(FieldError::required(&at.child("type"), ""));
        }
        let allowed: &[&str] = if [APPROVED, DENIED, FAILED].contains(&c.type_.as_str()) {
            &["True"]
        } else {
            &["False", "True", "Unknown"]
        };
        if c.status.is_empty() {
            errs.push(FieldError::required(&at.child("status"), ""));
        } else if !allowed.contains(&c.status.as_str()) {
            errs.push(FieldError::not_supported(
                &at.child("status"),
                c.status.as_str(),
                allowed,
            ));
        }
        let exclusive = match c.type_.as_str() {
            APPROVED => {
                approved = true;
                denied
            }
            DENIED => {
                denied = true;
                approved
            }
            _ => false,
        };
        if exclusive {
            errs.push(FieldError::invalid(
                &at.child("type"),
                c.type_.as_str(),
                "Approved and Denied conditions are mutually exclusive",
            ));
        }
        if !seen.insert(c.type_.as_str()) {
            errs.push(FieldError::duplicate(&at.child("type"), c.type_.as_str()));
        }
    }
    errs
}

/// Upstream's `validateCertificate`: empty, or only PEM `CERTIFICATE`
/// blocks without headers, each holding certificates that parse.
pub fn validate_certificate(data: &[u8]) -> Result<(), String> {
    if data.is_empty() {
        return Ok(());
    }
    let mut rest = data;
    let mut blocks = 0;
    while let Some((block, after)) = pem::decode(rest) {
        if block.kind != "CERTIFICATE" {
            return Err(format!(
                "only CERTIFICATE PEM blocks are allowed, found {:?}",
                block.kind
            ));
        }
        if !block.headers.is_empty() {
            return Err("no PEM block headers are permitted".into());
        }
        blocks += 1;
        let mut der = &block.bytes[..];
        if der.is_empty() {
            return Err("found CERTIFICATE PEM block containing 0 certificates".into());
        }
        while !der.is_empty() {
            match x509_parser::parse_x509_certificate(der) {
                Ok((next, _)) => der = next,
                Err(e) => return Err(format!("x509: malformed certificate: {e}")),
            }
        }
        rest = after;
    }
    if blocks == 0 {
        return Err("must contain at least one CERTIFICATE PEM block".into());
    }
    Ok(())
}

/// Upstream's `ValidateSignerName`: `<domain>/<path>`, the domain at least
/// two DNS labels, the path dot-separated DNS subdomains, within length.
pub fn validate_signer_name(path: &Path, name: &str) -> Vec<FieldError> {
    if name.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let segments: Vec<&str> = name.split('/').collect();
    let [domain, signer] = segments[..] else {
        return vec![FieldError::invalid(
            path,
            name,
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        )];
    };
    let mut errs = Vec::new();
    if domain.len() > DNS1123_SUBDOMAIN_MAX {
        errs.push(FieldError::too_long(path, DNS1123_SUBDOMAIN_MAX));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if let Some((label, msgs)) = labels
        .iter()
        .map(|l| (l, dns1123_label_errors(l)))
        .find(|(_, m)| !m.is_empty())
    {
        for m in msgs {
            errs.push(FieldError::invalid(
                path,
                domain,
                format!("validating label \"{label}\": {m}"),
            ));
        }
    }
    if labels.len() < 2 {
        errs.push(FieldError::invalid(
            path,
            domain,
            "should be a domain with at least two segments separated by dots",
        ));
    }
    if let Some((label, msgs)) = signer
        .split('.')
        .map(|l| (l, dns1123_subdomain_errors(l)))
        .find(|(_, m)| !m.is_empty())
    {
        for m in msgs {
            errs.push(FieldError::invalid(
                path,
                signer,
                format!("validating label \"{label}\": {m}"),
            ));
        }
    }
    let max = DNS1123_SUBDOMAIN_MAX + (DNS1123_SUBDOMAIN_MAX + DNS1123_LABEL_MAX + 1) + 1;
    if name.len() > max {
        errs.push(FieldError::too_long(path, max));
    }
    errs
}

/// Go's `%#v` of a byte slice, as upstream prints an invalid request.
fn go_bytes(b: &[u8]) -> String {
    if b.is_empty() {
        return "[]byte(nil)".into();
    }
    let items: Vec<String> = b.iter().map(|x| format!("{x:#x}")).collect();
    format!("[]byte{{{}}}", items.join(", "))
}

#[cfg(test)]
mod tests;

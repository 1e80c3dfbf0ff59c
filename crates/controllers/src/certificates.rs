//! The CertificateSigningRequest controllers: [`approver`] (upstream's
//! csrapproving) approves kubelets' client certificate requests that a
//! SubjectAccessReview allows, and [`signer`] (upstream's csrsigning)
//! issues the certificates of approved requests for the built-in
//! `kubernetes.io` signers through a [`CsrSigner`].

pub mod approver;
pub mod signer;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use ironclad_api::certificates::{APPROVED, DENIED};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition,
};

/// Issues certificates with the cluster's CA (implemented where the CA
/// lives; the controllers only call it).
pub trait CsrSigner: Send + Sync {
    /// Signs the PEM certificate request `csr_pem` as a client
    /// (`client`) or serving certificate valid for `validity`, returning
    /// the certificate (PEM), or why it could not.
    fn sign(&self, csr_pem: &str, client: bool, validity: Duration) -> Result<String, String>;
}

/// The request's conditions.
pub fn conditions(csr: &CertificateSigningRequest) -> &[CertificateSigningRequestCondition] {
    csr.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
}

/// Whether a condition of type `t` is True.
pub fn has_true_condition(csr: &CertificateSigningRequest, t: &str) -> bool {
    conditions(csr)
        .iter()
        .any(|c| c.type_ == t && c.status == "True")
}

/// Upstream's `GetCertApprovalCondition`: whether the request carries an
/// Approved and whether it carries a Denied condition.
pub fn approval(csr: &CertificateSigningRequest) -> (bool, bool) {
    let conds = conditions(csr);
    (
        conds.iter().any(|c| c.type_ == APPROVED),
        conds.iter().any(|c| c.type_ == DENIED),
    )
}

/// Whether a certificate was issued.
pub fn has_certificate(csr: &CertificateSigningRequest) -> bool {
    csr.status
        .as_ref()
        .and_then(|s| s.certificate.as_ref())
        .is_some_and(|c| !c.0.is_empty())
}

/// The requested usages.
pub fn usages(csr: &CertificateSigningRequest) -> impl Iterator<Item = &str> {
    csr.spec.usages.iter().flatten().map(String::as_str)
}

/// Per-request retry delays: 200 ms doubling to 5 minutes, as upstream's
/// queue backs off.
#[derive(Default)]
pub(crate) struct Backoff {
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    /// The delay before retrying `name` after one more failure.
    pub(crate) fn next(&self, name: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let n = failures.entry(name.to_string()).or_insert(0);
        let delay = Duration::from_millis(200)
            .saturating_mul(2u32.saturating_pow(*n))
            .min(Duration::from_secs(300));
        *n = n.saturating_add(1);
        delay
    }

    /// Forgets the failures of `name`.
    pub(crate) fn reset(&self, name: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_conditions_and_certificate() {
        let csr: CertificateSigningRequest = serde_json::from_value(json!({
            "metadata": {"name": "c"},
            "spec": {"request": "", "signerName": "x/y", "usages": ["client auth"]},
            "status": {"conditions": [{"type": "Approved", "status": "True"},
                                      {"type": "Failed", "status": "False"}]}
        }))
        .unwrap();
        assert_eq!(approval(&csr), (true, false));
        assert!(has_true_condition(&csr, "Approved"));
        assert!(!has_true_condition(&csr, "Failed"));
        assert!(!has_certificate(&csr));
        assert_eq!(usages(&csr).collect::<Vec<_>>(), ["client auth"]);
    }

    #[test]
    fn backoff_doubles_and_resets() {
        let b = Backoff::default();
        assert_eq!(b.next("a"), Duration::from_millis(200));
        assert_eq!(b.next("a"), Duration::from_millis(400));
        assert_eq!(b.next("b"), Duration::from_millis(200));
        b.reset("a");
        assert_eq!(b.next("a"), Duration::from_millis(200));
        for _ in 0..40 {
            b.next("c");
        }
        assert_eq!(b.next("c"), Duration::from_secs(300));
    }
}

//! CertificateSigningRequests (certificates.k8s.io/v1): the names upstream
//! gives the built-in signers, the key usages and the condition types; the
//! PEM and PKCS#10 parsing that validation, approvers and signers share;
//! the kubelet request rules; and what each write path may change.

pub mod kubelet;
pub mod pem;
pub mod request;
pub mod strategy;

pub use kubelet::{
    KubeletCsrError, is_kubelet_client_csr, validate_kubelet_client_csr,
    validate_kubelet_serving_csr,
};
pub use request::{CertificateRequest, RequestError, parse_csr, verify_csr};
pub use strategy::{Requester, prepare_update, set_requester};

/// Client certificates for the API server, approved by people.
pub const KUBE_APISERVER_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client";
/// Kubelets' client certificates for the API server, auto-approved.
pub const KUBE_APISERVER_CLIENT_KUBELET_SIGNER: &str =
    "kubernetes.io/kube-apiserver-client-kubelet";
/// Kubelets' serving certificates.
pub const KUBELET_SERVING_SIGNER: &str = "kubernetes.io/kubelet-serving";
/// The v1beta1 default, which v1 refuses.
pub const LEGACY_UNKNOWN_SIGNER: &str = "kubernetes.io/legacy-unknown";

/// Condition type: the request was approved.
pub const APPROVED: &str = "Approved";
/// Condition type: the request was denied.
pub const DENIED: &str = "Denied";
/// Condition type: signing failed.
pub const FAILED: &str = "Failed";

/// Every key usage a request may name, sorted.
pub const USAGES: &[&str] = &[
    "any",
    "cert sign",
    "client auth",
    "code signing",
    "content commitment",
    "crl sign",
    "data encipherment",
    "decipher only",
    "digital signature",
    "email protection",
    "encipher only",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "key agreement",
    "key encipherment",
    "microsoft sgc",
    "netscape sgc",
    "ocsp signing",
    "s/mime",
    "server auth",
    "signing",
    "timestamping",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usages_are_sorted_and_unique() {
        assert!(USAGES.windows(2).all(|w| w[0] < w[1]));
    }
}

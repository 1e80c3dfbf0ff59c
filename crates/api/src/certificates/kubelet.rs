//! What a kubelet's requests must look like (upstream's
//! `ValidateKubeletClientCSR` and `ValidateKubeletServingCSR`): subject
//! organization exactly `system:nodes`, common name `system:node:<name>`,
//! the usages of a client or a serving certificate, and only the subject
//! alternative names such a certificate carries.

use std::collections::BTreeSet;

use super::request::CertificateRequest;

/// The organization of every node.
pub const NODES_GROUP: &str = "system:nodes";
/// The prefix of a node's user name.
pub const NODE_USER_PREFIX: &str = "system:node:";

const CLIENT_USAGES: &[&str] = &["client auth", "digital signature", "key encipherment"];
const CLIENT_USAGES_NO_RSA: &[&str] = &["client auth", "digital signature"];
const SERVING_USAGES: &[&str] = &["digital signature", "key encipherment", "server auth"];
const SERVING_USAGES_NO_RSA: &[&str] = &["digital signature", "server auth"];

/// Why a request is not a kubelet's; the messages are upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeletCsrError {
    /// O is not exactly `system:nodes`.
    #[error("subject organization is not system:nodes")]
    OrganizationNotSystemNodes,
    /// CN does not start with `system:node:`.
    #[error("subject common name does not begin with system:node:")]
    CommonNameNotSystemNode,
    /// A client certificate with DNS names.
    #[error("DNS subjectAltNames are not allowed")]
    DnsSanNotAllowed,
    /// E-mail names.
    #[error("Email subjectAltNames are not allowed")]
    EmailSanNotAllowed,
    /// A client certificate with IP addresses.
    #[error("IP subjectAltNames are not allowed")]
    IpSanNotAllowed,
    /// URI names.
    #[error("URI subjectAltNames are not allowed")]
    UriSanNotAllowed,
    /// A serving certificate without a DNS name or IP address.
    #[error("DNS or IP subjectAltName is required")]
    DnsOrIpSanRequired,
    /// The usages are not those of the certificate kind (upstream prints
    /// the set it wanted, with key encipherment).
    #[error("usages did not match [{}]", .0.join(" "))]
    Usages(&'static [&'static str]),
}

fn usage_set<'a>(usages: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    usages.into_iter().collect()
}

fn matches_either(usages: &BTreeSet<&str>, a: &[&str], b: &[&str]) -> bool {
    *usages == usage_set(a.iter().copied()) || *usages == usage_set(b.iter().copied())
}

/// Checks a kubelet client certificate request with `usages` (as a set:
/// repeats do not matter).
pub fn validate_kubelet_client_csr<'a>(
    req: &CertificateRequest,
    usages: impl IntoIterator<Item = &'a str>,
) -> Result<(), KubeletCsrError> {
    if req.organizations != [NODES_GROUP] {
        return Err(KubeletCsrError::OrganizationNotSystemNodes);
    }
    if !req.dns_names.is_empty() {
        return Err(KubeletCsrError::DnsSanNotAllowed);
    }
    if !req.email_addresses.is_empty() {
        return Err(KubeletCsrError::EmailSanNotAllowed);
    }
    if !req.ip_addresses.is_empty() {
        return Err(KubeletCsrError::IpSanNotAllowed);
    }
    if !req.uris.is_empty() {
        return Err(KubeletCsrError::UriSanNotAllowed);
    }
    if !req.common_name.starts_with(NODE_USER_PREFIX) {
        return Err(KubeletCsrError::CommonNameNotSystemNode);
    }
    if !matches_either(&usage_set(usages), CLIENT_USAGES, CLIENT_USAGES_NO_RSA) {
        return Err(KubeletCsrError::Usages(CLIENT_USAGES));
    }
    Ok(())
}

/// Whether the request is a valid kubelet client certificate request.
pub fn is_kubelet_client_csr<'a>(
    req: &CertificateRequest,
    usages: impl IntoIterator<Item = &'a str>,
) -> bool {
    validate_kubelet_client_csr(req, usages).is_ok()
}

/// Checks a kubelet serving certificate request with `usages`.
pub fn validate_kubelet_serving_csr<'a>(
    req: &CertificateRequest,
    usages: impl IntoIterator<Item = &'a str>,
) -> Result<(), KubeletCsrError> {
    if req.organizations != [NODES_GROUP] {
        return Err(KubeletCsrError::OrganizationNotSystemNodes);
    }
    if req.dns_names.is_empty() && req.ip_addresses.is_empty() {
        return Err(KubeletCsrError::DnsOrIpSanRequired);
    }
    if !req.email_addresses.is_empty() {
        return Err(KubeletCsrError::EmailSanNotAllowed);
    }
    if !req.uris.is_empty() {
        return Err(KubeletCsrError::UriSanNotAllowed);
    }
    if !matches_either(&usage_set(usages), SERVING_USAGES, SERVING_USAGES_NO_RSA) {
        return Err(KubeletCsrError::Usages(SERVING_USAGES));
    }
    if !req.common_name.starts_with(NODE_USER_PREFIX) {
        return Err(KubeletCsrError::CommonNameNotSystemNode);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(cn: &str) -> CertificateRequest {
        CertificateRequest {
            common_name: cn.into(),
            organizations: vec![NODES_GROUP.into()],
            ..Default::default()
        }
    }

    const CLIENT: [&str; 2] = ["digital signature", "client auth"];

    #[test]
    fn client_requests() {
        let ok = node("system:node:n1");
        assert_eq!(validate_kubelet_client_csr(&ok, CLIENT), Ok(()));
        assert!(is_kubelet_client_csr(
            &ok,
            [
                "key encipherment",
                "client auth",
                "digital signature",
                "client auth"
            ]
        ));
        let cases: Vec<(CertificateRequest, &[&str], KubeletCsrError)> = vec![
            (
                CertificateRequest {
                    organizations: vec!["system:nodes".into(), "other".into()],
                    ..ok.clone()
                },
                &CLIENT,
                KubeletCsrError::OrganizationNotSystemNodes,
            ),
            (
                node("n1"),
                &CLIENT,
                KubeletCsrError::CommonNameNotSystemNode,
            ),
            (
                CertificateRequest {
                    dns_names: vec!["n1".into()],
                    ..ok.clone()
                },
                &CLIENT,
                KubeletCsrError::DnsSanNotAllowed,
            ),
            (
                CertificateRequest {
                    ip_addresses: vec!["10.0.0.1".parse().unwrap()],
                    ..ok.clone()
                },
                &CLIENT,
                KubeletCsrError::IpSanNotAllowed,
            ),
            (
                ok.clone(),
                &["digital signature", "client auth", "server auth"],
                KubeletCsrError::Usages(CLIENT_USAGES),
            ),
            (
                ok.clone(),
                &["client auth"],
                KubeletCsrError::Usages(CLIENT_USAGES),
            ),
        ];
        for (req, usages, want) in cases {
            assert_eq!(
                validate_kubelet_client_csr(&req, usages.iter().copied()),
                Err(want)
            );
        }
        assert_eq!(
            KubeletCsrError::Usages(CLIENT_USAGES).to_string(),
            "usages did not match [client auth digital signature key encipherment]"
        );
    }

    #[test]
    fn serving_requests() {
        let usages = ["digital signature", "key encipherment", "server auth"];
        let mut req = node("system:node:n1");
        assert_eq!(
            validate_kubelet_serving_csr(&req, usages),
            Err(KubeletCsrError::DnsOrIpSanRequired)
        );
        req.ip_addresses.push("10.0.0.1".parse().unwrap());
        assert_eq!(validate_kubelet_serving_csr(&req, usages), Ok(()));
        assert_eq!(
            validate_kubelet_serving_csr(&req, ["digital signature", "server auth"]),
            Ok(())
        );
        assert_eq!(
            validate_kubelet_serving_csr(&req, CLIENT),
            Err(KubeletCsrError::Usages(SERVING_USAGES))
        );
        req.uris.push("spiffe://x".into());
        assert_eq!(
            validate_kubelet_serving_csr(&req, usages),
            Err(KubeletCsrError::UriSanNotAllowed)
        );
    }
}

//! What to put in a leaf certificate, and what comes back.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use crate::usage::Usage;

/// A leaf certificate to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafSpec {
    /// Subject common name: the user name of a client certificate (e.g.
    /// `system:kube-scheduler`), a label for a serving one (e.g.
    /// `kube-apiserver`). Must not be empty.
    pub common_name: String,
    /// Subject organizations, one `O` attribute each: the groups of a client
    /// certificate (e.g. `system:masters`).
    pub organizations: Vec<String>,
    /// DNS subjectAltNames.
    pub dns_names: Vec<String>,
    /// IP subjectAltNames.
    pub ips: Vec<IpAddr>,
    /// The extended key usage.
    pub usage: Usage,
    /// How long the certificate is valid from now (capped at the CA's own
    /// expiry).
    pub validity: Duration,
}

impl LeafSpec {
    /// A client certificate spec for `user` in `groups`.
    pub fn client(user: &str, groups: &[String], validity: Duration) -> LeafSpec {
        LeafSpec {
            common_name: user.to_string(),
            organizations: groups.to_vec(),
            dns_names: Vec::new(),
            ips: Vec::new(),
            usage: Usage::Client,
            validity,
        }
    }
}

/// A freshly issued certificate with its new private key.
#[derive(Clone)]
pub struct Issued {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its ECDSA P-256 private key, PKCS#8 PEM ("PRIVATE KEY").
    pub key_pem: String,
    /// When the certificate expires.
    pub not_after: SystemTime,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .field("not_after", &self.not_after)
            .finish()
    }
}

//! What a certificate says: names, addresses, validity, usage.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

use crate::clock::from_unix;
use crate::error::{Error, Result};
use crate::pem;

/// The facts about a certificate this crate decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject's common name (the user name of a client certificate;
    /// the last one if there are several, as Go reads it), empty if none.
    pub common_name: String,
    /// The subject's organization values in order (the groups of a client
    /// certificate).
    pub organizations: Vec<String>,
    /// DNS names of the subjectAltName extension.
    pub dns_names: Vec<String>,
    /// IP addresses of the subjectAltName extension.
    pub ips: Vec<IpAddr>,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
    /// Whether basicConstraints says this is a CA.
    pub is_ca: bool,
    /// Whether the extended key usage allows TLS server authentication.
    pub server_auth: bool,
    /// Whether the extended key usage allows TLS client authentication.
    pub client_auth: bool,
    /// The serial number as lower-case hex bytes joined by `:`.
    pub serial: String,
}

impl CertInfo {
    /// Reads the first certificate of a PEM text.
    pub fn from_pem(pem: &str) -> Result<CertInfo> {
        CertInfo::from_der(&pem::certificate_der(pem)?)
    }

    /// Reads a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<CertInfo> {
        let cert = parse(der)?;
        CertInfo::of(&cert)
    }

    /// Reads a parsed certificate.
    pub(crate) fn of(cert: &X509Certificate<'_>) -> Result<CertInfo> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            Error::InvalidCertificate(format!("{what}: {e}"))
        };
        let subject = cert.subject();
        // Go keeps the last CN it meets, and Kubernetes reads that one.
        let common_name = match subject.iter_common_name().last() {
            Some(cn) => cn.as_str().map_err(|e| bad("common name", &e))?.to_string(),
            None => String::new(),
        };
        let organizations = subject
            .iter_organization()
            .map(|o| o.as_str().map(str::to_string))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad("organization", &e))?;
        let mut dns_names = Vec::new();
        let mut ips = Vec::new();
        let san = cert
            .subject_alternative_name()
            .map_err(|e| bad("subjectAltName", &e))?;
        for name in san.iter().flat_map(|s| s.value.general_names.iter()) {
            match name {
                GeneralName::DNSName(dns) => dns_names.push(dns.to_string()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        ips.push(ip);
                    }
                }
                _ => {}
            }
        }
        let eku = cert
            .extended_key_usage()
            .map_err(|e| bad("extendedKeyUsage", &e))?;
        let (server_auth, client_auth) = match eku {
            Some(eku) => (
                eku.value.server_auth || eku.value.any,
                eku.value.client_auth || eku.value.any,
            ),
            None => (false, false),
        };
        let validity = cert.validity();
        Ok(CertInfo {
            common_name,
            organizations,
            dns_names,
            ips,
            not_before: from_unix(validity.not_before.timestamp()),
            not_after: from_unix(validity.not_after.timestamp()),
            is_ca: cert.is_ca(),
            server_auth,
            client_auth,
            serial: cert.raw_serial_as_string(),
        })
    }

    /// Whether the certificate should be replaced at `now`: it expires
    /// within `renew_before` (or has expired), or is not valid yet (the
    /// clock went back, or it was made on a machine with a wrong clock).
    pub fn needs_renewal(&self, now: SystemTime, renew_before: Duration) -> bool {
        if now < self.not_before {
            return true;
        }
        match now.checked_add(renew_before) {
            Some(deadline) => deadline >= self.not_after,
            None => true,
        }
    }
}

/// Parses one DER certificate, refusing trailing bytes.
pub(crate) fn parse(der: &[u8]) -> Result<X509Certificate<'_>> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| Error::InvalidCertificate(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Error::InvalidCertificate(
            "trailing bytes after the certificate".into(),
        ));
    }
    Ok(cert)
}

/// An IP address from the 4 or 16 bytes of a subjectAltName entry.
pub(crate) fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn info(not_before: u64, not_after: u64) -> CertInfo {
        CertInfo {
            common_name: String::new(),
            organizations: vec![],
            dns_names: vec![],
            ips: vec![],
            not_before: UNIX_EPOCH + Duration::from_secs(not_before),
            not_after: UNIX_EPOCH + Duration::from_secs(not_after),
            is_ca: false,
            server_auth: false,
            client_auth: false,
            serial: String::new(),
        }
    }

    #[test]
    fn renewal_is_due_near_expiry_and_before_validity() {
        let c = info(1000, 2000);
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        assert!(!c.needs_renewal(at(1000), Duration::from_secs(100)));
        assert!(!c.needs_renewal(at(1899), Duration::from_secs(100)));
        assert!(c.needs_renewal(at(1900), Duration::from_secs(100)));
        assert!(c.needs_renewal(at(2500), Duration::ZERO));
        assert!(c.needs_renewal(at(999), Duration::ZERO));
        assert!(c.needs_renewal(at(1500), Duration::MAX));
    }

    #[test]
    fn ip_bytes_of_both_families() {
        assert_eq!(ip_from_bytes(&[10, 0, 0, 1]), "10.0.0.1".parse().ok());
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(ip_from_bytes(&v6), "::1".parse().ok());
        assert_eq!(ip_from_bytes(&[1, 2, 3]), None);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(matches!(
            CertInfo::from_pem("not pem"),
            Err(Error::InvalidCertificate(_))
        ));
        assert!(matches!(
            CertInfo::from_der(&[0x30, 0x03, 1, 2, 3]),
            Err(Error::InvalidCertificate(_))
        ));
    }
}

//! Signing PKCS#10 certificate signing requests (the
//! `certificates.k8s.io` CertificateSigningRequest API).

use std::time::{Duration, SystemTime};

use rcgen::string::Ia5String;
use rcgen::{KeyUsagePurpose, SanType, SubjectPublicKeyInfo};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;
use x509_parser::prelude::FromDer;

use crate::ca::{Ca, dns_san};
use crate::cert_info::ip_from_bytes;
use crate::clock::CLOCK_SKEW;
use crate::error::{Error, Result};
use crate::pem;
use crate::usage::Usage;

impl Ca {
    /// Signs a PEM certificate signing request, as the Kubernetes CSR
    /// signers do: the certificate gets the request's subject (all of it,
    /// byte for byte: CN is the user, each O a group) and its DNS, IP, URI
    /// and e-mail subjectAltNames; the key usage comes from `usage`, and any
    /// other extension the request asks for is ignored. The request's
    /// self-signature must verify. Returns the certificate, PEM.
    pub fn sign_csr(&self, csr_pem: &str, usage: Usage, validity: Duration) -> Result<String> {
        let now = SystemTime::now();
        let der = pem::csr_der(csr_pem)?;
        let der = self.sign_csr_der(&der, usage, now - CLOCK_SKEW, now + validity)?;
        Ok(pem::encode(pem::CERTIFICATE, &der))
    }

    /// [`Ca::sign_csr`] on DER, with explicit validity bounds.
    pub(crate) fn sign_csr_der(
        &self,
        csr_der: &[u8],
        usage: Usage,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<Vec<u8>> {
        let (rest, csr) = X509CertificationRequest::from_der(csr_der)
            .map_err(|e| Error::InvalidCsr(format!("cannot parse: {e}")))?;
        if !rest.is_empty() {
            return Err(Error::InvalidCsr("trailing bytes after the request".into()));
        }
        csr.verify_signature()
            .map_err(|e| Error::InvalidCsr(format!("the signature does not verify: {e}")))?;
        let info = &csr.certification_request_info;
        let public_key = SubjectPublicKeyInfo::from_der(info.subject_pki.raw)
            .map_err(|e| Error::InvalidCsr(format!("unsupported public key: {e}")))?;
        let mut sans = Vec::new();
        for ext in csr.requested_extensions().into_iter().flatten() {
            if let ParsedExtension::SubjectAlternativeName(san) = ext {
                for name in &san.general_names {
                    if let Some(san) = san_of(name)? {
                        sans.push(san);
                    }
                }
            }
        }
        let mut key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if info.subject_pki.algorithm.algorithm == OID_PKCS1_RSAENCRYPTION {
            key_usages.push(KeyUsagePurpose::KeyEncipherment);
        }
        self.sign(
            &public_key,
            info.subject.as_raw(),
            sans,
            &usage.purposes(),
            key_usages,
            not_before,
            not_after,
        )
    }
}

/// The subjectAltName to copy for a requested general name; `None` for
/// kinds Kubernetes signers do not copy either.
fn san_of(name: &GeneralName<'_>) -> Result<Option<SanType>> {
    let ia5 = |s: &str, what: &str| {
        Ia5String::try_from(s).map_err(|_| Error::InvalidCsr(format!("{what} {s:?} is not ASCII")))
    };
    Ok(match name {
        GeneralName::DNSName(dns) => Some(dns_san(dns).map_err(Error::InvalidCsr)?),
        GeneralName::IPAddress(bytes) => Some(SanType::IpAddress(
            ip_from_bytes(bytes)
                .ok_or_else(|| Error::InvalidCsr("an IP subjectAltName has a bad length".into()))?,
        )),
        GeneralName::URI(uri) => Some(SanType::URI(ia5(uri, "URI")?)),
        GeneralName::RFC822Name(email) => Some(SanType::Rfc822Name(ia5(email, "e-mail")?)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert_info::CertInfo;
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair,
    };
    use x509_parser::certificate::X509Certificate;

    const DAY: Duration = Duration::from_secs(86_400);

    /// A CSR for CN=alice, O=dev, O=ops (rcgen keeps one value per type, so
    /// the second O goes in under its OID as a custom type).
    fn csr(key: &KeyPair) -> String {
        let mut params =
            CertificateParams::new(vec!["alice.example".to_string(), "192.168.1.5".to_string()])
                .unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "dev");
        dn.push(DnType::CustomDnType(vec![2, 5, 4, 10]), "ops");
        dn.push(DnType::CommonName, "alice");
        params.distinguished_name = dn;
        // Asks for more than it will get.
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.serialize_request(key).unwrap().pem().unwrap()
    }

    #[test]
    fn signed_csr_keeps_subject_and_sans_and_gets_our_usage() {
        let ca = Ca::generate("test-ca", 365 * DAY).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert_pem = ca.sign_csr(&csr(&key), Usage::Client, DAY).unwrap();
        assert!(ca.verify_issued(&cert_pem));
        let info = CertInfo::from_pem(&cert_pem).unwrap();
        assert_eq!(info.common_name, "alice");
        assert_eq!(info.organizations, ["dev", "ops"]);
        assert_eq!(info.dns_names, ["alice.example"]);
        assert_eq!(
            info.ips,
            ["192.168.1.5".parse::<std::net::IpAddr>().unwrap()]
        );
        assert!(info.client_auth && !info.server_auth && !info.is_ca);
        let now = SystemTime::now();
        assert!(info.not_after > now + DAY - Duration::from_secs(5));
        assert!(info.not_after <= now + DAY);

        let der = pem::certificate_der(&cert_pem).unwrap();
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        assert_eq!(
            cert.public_key().subject_public_key.data.as_ref(),
            rcgen::PublicKeyData::der_bytes(&key)
        );
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && !ku.key_encipherment());
    }

    #[test]
    fn rsa_csr_gets_key_encipherment() {
        let ca = Ca::generate("test-ca", 365 * DAY).unwrap();
        let key =
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).unwrap();
        let cert_pem = ca.sign_csr(&csr(&key), Usage::Server, DAY).unwrap();
        let der = pem::certificate_der(&cert_pem).unwrap();
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && ku.key_encipherment());
        let info = CertInfo::from_der(&der).unwrap();
        assert!(info.server_auth && !info.client_auth);
    }

    #[test]
    fn tampered_csr_is_refused() {
        let ca = Ca::generate("test-ca", 365 * DAY).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut der = pem::csr_der(&csr(&key)).unwrap();
        let at = der.windows(5).position(|w| w == b"alice").unwrap();
        der[at] = b'm'; // "mlice"
        let now = SystemTime::now();
        let err = ca
            .sign_csr_der(&der, Usage::Client, now, now + DAY)
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidCsr(m) if m.contains("signature")),
            "{err}"
        );
    }

    #[test]
    fn garbage_csr_is_refused() {
        let ca = Ca::generate("test-ca", 365 * DAY).unwrap();
        assert!(matches!(
            ca.sign_csr("nothing here", Usage::Client, DAY),
            Err(Error::InvalidCsr(_))
        ));
        let bogus = pem::encode("CERTIFICATE REQUEST", &[0x30, 0x02, 0x05, 0x00]);
        assert!(matches!(
            ca.sign_csr(&bogus, Usage::Client, DAY),
            Err(Error::InvalidCsr(_))
        ));
        let key = KeyPair::generate().unwrap();
        let mut der = pem::csr_der(&csr(&key)).unwrap();
        der.push(0);
        let trailing = pem::encode("CERTIFICATE REQUEST", &der);
        assert!(matches!(
            ca.sign_csr(&trailing, Usage::Client, DAY),
            Err(Error::InvalidCsr(_))
        ));
    }
}

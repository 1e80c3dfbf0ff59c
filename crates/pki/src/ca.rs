//! The cluster certificate authority: makes and signs every certificate.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::string::Ia5String;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PublicKeyData, SanType,
};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;

use crate::cert_info::{CertInfo, parse};
use crate::clock::{CLOCK_SKEW, from_unix, to_offset};
use crate::der;
use crate::error::{Error, Result};
use crate::leaf::{Issued, LeafSpec};
use crate::pem;
use crate::random;

/// A certificate authority: its certificate and private key.
///
/// New CAs use ECDSA P-256; [`Ca::from_pem`] also takes RSA or other keys
/// rcgen can sign with (e.g. a kubeadm CA). Leaf keys are always P-256.
#[derive(Clone)]
pub struct Ca {
    cert_pem: String,
    key_pem: String,
    cert_der: Vec<u8>,
    key: Arc<KeyPair>,
    /// The CA's subject, byte for byte: issued certificates carry it as
    /// their issuer so that chain building matches it exactly.
    subject_der: Vec<u8>,
    /// Makes the authorityKeyIdentifier of issued certificates equal to the
    /// CA's subjectKeyIdentifier.
    key_id: KeyIdMethod,
    not_after: SystemTime,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .field("not_after", &self.not_after)
            .finish()
    }
}

impl Ca {
    /// Makes a new self-signed CA with an ECDSA P-256 key, valid from a
    /// little before now (see [`CLOCK_SKEW`]) for `validity`, with
    /// basicConstraints CA:TRUE and key usages keyCertSign, cRLSign and
    /// digitalSignature.
    pub fn generate(common_name: &str, validity: Duration) -> Result<Ca> {
        let now = SystemTime::now();
        Ca::generate_between(common_name, now - CLOCK_SKEW, now + validity)
    }

    /// [`Ca::generate`] with explicit validity bounds.
    pub(crate) fn generate_between(
        common_name: &str,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<Ca> {
        if common_name.is_empty() {
            return Err(Error::InvalidSpec("a CA needs a common name".into()));
        }
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(|e| Error::crypto("generate the CA key", e))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.not_before = to_offset(not_before);
        params.not_after = to_offset(not_after);
        params.serial_number = Some(random::serial()?);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        let cert = params
            .self_signed(&key)
            .map_err(|e| Error::crypto("sign the CA certificate", e))?;
        Ca::from_pem(&cert.pem(), &key.serialize_pem())
    }

    /// Loads a CA from its certificate and private key (PKCS#8, PKCS#1 or
    /// SEC1 PEM). Fails if the certificate is not a CA or the key is not
    /// the certificate's.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Ca> {
        let cert_der = pem::certificate_der(cert_pem)?;
        let key = KeyPair::from_pem(key_pem).map_err(|e| Error::InvalidKey(e.to_string()))?;
        let cert = parse(&cert_der)?;
        let info = CertInfo::of(&cert)?;
        if !info.is_ca || !can_sign_certificates(&cert)? {
            return Err(Error::NotCa(info.common_name));
        }
        check_key_matches(&cert, &key)?;
        let subject_der = cert.subject().as_raw().to_vec();
        let key_id = subject_key_id(&cert).map_or(KeyIdMethod::Sha256, KeyIdMethod::PreSpecified);
        let not_after = from_unix(cert.validity().not_after.timestamp());
        Ok(Ca {
            cert_pem: cert_pem.to_string(),
            key_pem: key_pem.to_string(),
            cert_der,
            key: Arc::new(key),
            subject_der,
            key_id,
            not_after,
        })
    }

    /// The CA certificate, PEM (what clients trust).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA private key, PEM.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// When the CA certificate expires; no issued certificate outlives it.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// Issues a leaf certificate with a new ECDSA P-256 key: random serial,
    /// valid from a little before now for `spec.validity` (at most until the
    /// CA expires), subject `O=<each organization>, CN=<common name>`, the
    /// spec's SANs and extended key usage.
    pub fn issue(&self, spec: &LeafSpec) -> Result<Issued> {
        let now = SystemTime::now();
        self.issue_between(spec, now - CLOCK_SKEW, now + spec.validity)
    }

    /// [`Ca::issue`] with explicit validity bounds (ignoring
    /// `spec.validity`).
    pub(crate) fn issue_between(
        &self,
        spec: &LeafSpec,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<Issued> {
        if spec.common_name.is_empty() {
            return Err(Error::InvalidSpec("the common name is empty".into()));
        }
        if spec.organizations.iter().any(String::is_empty) {
            return Err(Error::InvalidSpec("an organization is empty".into()));
        }
        let mut sans = Vec::with_capacity(spec.dns_names.len() + spec.ips.len());
        for name in &spec.dns_names {
            sans.push(dns_san(name).map_err(Error::InvalidSpec)?);
        }
        sans.extend(spec.ips.iter().copied().map(SanType::IpAddress));
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(|e| Error::crypto("generate a key", e))?;
        let subject = der::name(&spec.common_name, &spec.organizations);
        let purposes = spec.usage.purposes();
        let cert_der = self.sign(
            &key,
            &subject,
            sans,
            &purposes,
            vec![KeyUsagePurpose::DigitalSignature],
            not_before,
            not_after,
        )?;
        Ok(Issued {
            cert_pem: pem::encode(pem::CERTIFICATE, &cert_der),
            key_pem: key.serialize_pem(),
            not_after: CertInfo::from_der(&cert_der)?.not_after,
        })
    }

    /// Signs a leaf certificate for `public_key` with the given subject
    /// (DER name) and extensions; returns its DER.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sign(
        &self,
        public_key: &impl PublicKeyData,
        subject: &[u8],
        sans: Vec<SanType>,
        purposes: &[ExtendedKeyUsagePurpose],
        key_usages: Vec<KeyUsagePurpose>,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<Vec<u8>> {
        let not_after = not_after.min(self.not_after);
        if not_after <= not_before {
            return Err(Error::InvalidSpec(
                "the certificate would expire before it starts (the CA expires too soon?)".into(),
            ));
        }
        let mut params = CertificateParams::default();
        // rcgen writes this placeholder name, replaced below by the real
        // subject; it only has to be empty exactly when the real one is, as
        // rcgen then marks the subjectAltName critical (RFC 5280 4.2.1.6).
        let mut dn = DistinguishedName::new();
        if !der::is_empty_name(subject) {
            dn.push(DnType::CommonName, "placeholder");
        }
        params.distinguished_name = dn;
        params.subject_alt_names = sans;
        params.not_before = to_offset(not_before);
        params.not_after = to_offset(not_after);
        params.serial_number = Some(random::serial()?);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = key_usages;
        params.extended_key_usages = purposes.to_vec();
        params.use_authority_key_identifier_extension = true;
        let mut issuer_params = CertificateParams::default();
        issuer_params.key_identifier_method = self.key_id.clone();
        let issuer = Issuer::new(issuer_params, self.key.as_ref());
        let cert = params
            .signed_by(public_key, &issuer)
            .map_err(|e| Error::crypto("sign a certificate", e))?;
        der::replace_names(cert.der(), &self.subject_der, subject, self.key.as_ref())
    }

    /// Whether `cert_pem` was signed by this CA (issuer name and signature
    /// check out). Says nothing about validity dates.
    pub fn verify_issued(&self, cert_pem: &str) -> bool {
        let Ok(der) = pem::certificate_der(cert_pem) else {
            return false;
        };
        let (Ok(cert), Ok(ca)) = (parse(&der), parse(&self.cert_der)) else {
            return false;
        };
        cert.issuer().as_raw() == self.subject_der.as_slice()
            && cert.verify_signature(Some(ca.public_key())).is_ok()
    }
}

/// A DNS subjectAltName, refusing what rcgen cannot encode.
pub(crate) fn dns_san(name: &str) -> std::result::Result<SanType, String> {
    if name.is_empty() {
        return Err("empty DNS name".into());
    }
    if name.parse::<IpAddr>().is_ok() {
        return Err(format!("{name:?} is an IP address, not a DNS name"));
    }
    Ia5String::try_from(name)
        .map(SanType::DnsName)
        .map_err(|_| format!("{name:?} is not an ASCII DNS name"))
}

/// Fails unless `key` is the private half of the certificate's public key.
pub(crate) fn check_key_matches(cert: &X509Certificate<'_>, key: &KeyPair) -> Result<()> {
    if key.der_bytes() == cert.public_key().subject_public_key.data.as_ref() {
        Ok(())
    } else {
        Err(Error::KeyMismatch)
    }
}

/// The subjectKeyIdentifier of a certificate, if it has one.
fn subject_key_id(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.iter_extensions()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        })
}

/// False if a keyUsage extension is present without keyCertSign.
fn can_sign_certificates(cert: &X509Certificate<'_>) -> Result<bool> {
    let ku = cert
        .key_usage()
        .map_err(|e| Error::InvalidCertificate(format!("keyUsage: {e}")))?;
    Ok(ku.is_none_or(|ku| ku.value.key_cert_sign()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::Usage;
    use x509_parser::prelude::FromDer;

    const DAY: Duration = Duration::from_secs(86_400);

    fn server_spec() -> LeafSpec {
        LeafSpec {
            common_name: "kube-apiserver".into(),
            organizations: vec![],
            dns_names: vec!["kubernetes.default.svc".into(), "localhost".into()],
            ips: vec!["10.96.0.1".parse().unwrap(), "::1".parse().unwrap()],
            usage: Usage::Server,
            validity: 30 * DAY,
        }
    }

    fn secs(t: SystemTime) -> u64 {
        t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
    }

    #[test]
    fn generated_ca_is_a_self_signed_ca() {
        let ca = Ca::generate("test-ca", 10 * DAY).unwrap();
        let der = pem::certificate_der(ca.cert_pem()).unwrap();
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        assert!(cert.is_ca());
        let bc = cert.basic_constraints().unwrap().unwrap();
        assert!(bc.critical);
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.key_cert_sign() && ku.crl_sign());
        assert_eq!(cert.subject().as_raw(), cert.issuer().as_raw());
        assert!(cert.verify_signature(None).is_ok());
        assert!(subject_key_id(&cert).is_some());
        let info = CertInfo::from_pem(ca.cert_pem()).unwrap();
        assert_eq!(info.common_name, "test-ca");
        let now = secs(SystemTime::now());
        assert!(secs(info.not_before) <= now - 299 && secs(info.not_before) >= now - 301);
        assert!((secs(info.not_after) as i64 - (now + 10 * 86_400) as i64).abs() <= 2);
        assert!(ca.key_pem().contains("-----BEGIN PRIVATE KEY-----"));
        assert!(Ca::generate("", DAY).is_err());
    }

    #[test]
    fn issued_server_certificate_has_names_usage_and_dates() {
        let ca = Ca::generate("test-ca", 365 * DAY).unwrap();
        let issued = ca.issue(&server_spec()).unwrap();
        let der = pem::certificate_der(&issued.cert_pem).unwrap();
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        let ca_der = pem::certificate_der(ca.cert_pem()).unwrap();
        let (_, ca_cert) = X509Certificate::from_der(&ca_der).unwrap();

        assert_eq!(cert.issuer().as_raw(), ca_cert.subject().as_raw());
        assert!(cert.verify_signature(Some(ca_cert.public_key())).is_ok());
        assert!(!cert.is_ca());
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && !eku.client_auth);
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && !ku.key_cert_sign());
        let aki = cert
            .iter_extensions()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.clone(),
                _ => None,
            })
            .unwrap();
        assert_eq!(Some(aki.0.to_vec()), subject_key_id(&ca_cert));

        let info = CertInfo::from_pem(&issued.cert_pem).unwrap();
        assert_eq!(info.common_name, "kube-apiserver");
        assert!(info.organizations.is_empty());
        assert_eq!(info.dns_names, ["kubernetes.default.svc", "localhost"]);
        assert_eq!(info.ips, server_spec().ips);
        assert!(info.server_auth && !info.client_auth && !info.is_ca);
        assert_eq!(info.not_after, issued.not_after);
        let now = secs(SystemTime::now());
        assert!(secs(info.not_before) <= now - 299);
        assert!((secs(info.not_after) as i64 - (now + 30 * 86_400) as i64).abs() <= 2);

        let key = KeyPair::from_pem(&issued.key_pem).unwrap();
        check_key_matches(&cert, &key).unwrap();
        assert!(ca.verify_issued(&issued.cert_pem));
        // Serial numbers are random.
        let again = CertInfo::from_pem(&ca.issue(&server_spec()).unwrap().cert_pem).unwrap();
        assert_ne!(again.serial, info.serial);
    }

    #[test]
    fn client_certificate_carries_every_group() {
        let ca = Ca::generate("test-ca", 365 * DAY).unwrap();
        let groups = vec!["system:masters".to_string(), "dev".into(), "ops".into()];
        let issued = ca.issue(&LeafSpec::client("alice", &groups, DAY)).unwrap();
        let info = CertInfo::from_pem(&issued.cert_pem).unwrap();
        assert_eq!(info.common_name, "alice");
        assert_eq!(info.organizations, groups);
        assert!(info.client_auth && !info.server_auth);
        assert!(info.dns_names.is_empty() && info.ips.is_empty());

        let both = LeafSpec {
            usage: Usage::ServerAndClient,
            ..server_spec()
        };
        let info = CertInfo::from_pem(&ca.issue(&both).unwrap().cert_pem).unwrap();
        assert!(info.client_auth && info.server_auth);
    }

    #[test]
    fn leaf_never_outlives_the_ca() {
        let ca = Ca::generate("short-ca", DAY).unwrap();
        let issued = ca.issue(&LeafSpec::client("bob", &[], 365 * DAY)).unwrap();
        assert_eq!(issued.not_after, ca.not_after());
        let now = SystemTime::now();
        let expired = Ca::generate_between("old", now - 2 * DAY, now - DAY).unwrap();
        assert!(matches!(
            expired.issue(&LeafSpec::client("bob", &[], DAY)),
            Err(Error::InvalidSpec(_))
        ));
    }

    #[test]
    fn bad_specs_are_refused() {
        let ca = Ca::generate("test-ca", DAY).unwrap();
        let refuse = |spec: LeafSpec| {
            assert!(
                matches!(ca.issue(&spec), Err(Error::InvalidSpec(_))),
                "{spec:?}"
            );
        };
        refuse(LeafSpec::client("", &[], DAY));
        refuse(LeafSpec::client("bob", &["".into()], DAY));
        let mut spec = server_spec();
        spec.dns_names.push("bücher.example".into());
        refuse(spec);
        let mut spec = server_spec();
        spec.dns_names.push(String::new());
        refuse(spec);
        let mut spec = server_spec();
        spec.dns_names.push("10.0.0.1".into());
        refuse(spec);
    }

    #[test]
    fn from_pem_round_trips_and_detects_mismatch() {
        let ca = Ca::generate("test-ca", DAY).unwrap();
        let loaded = Ca::from_pem(ca.cert_pem(), ca.key_pem()).unwrap();
        assert_eq!(loaded.cert_pem(), ca.cert_pem());
        assert_eq!(loaded.key_pem(), ca.key_pem());
        let issued = loaded.issue(&LeafSpec::client("x", &[], DAY)).unwrap();
        assert!(ca.verify_issued(&issued.cert_pem));

        let other = Ca::generate("test-ca", DAY).unwrap();
        assert!(matches!(
            Ca::from_pem(ca.cert_pem(), other.key_pem()),
            Err(Error::KeyMismatch)
        ));
        // Same name, other key: not ours.
        let foreign = other.issue(&LeafSpec::client("x", &[], DAY)).unwrap();
        assert!(!ca.verify_issued(&foreign.cert_pem));
        assert!(!ca.verify_issued("garbage"));
        // A leaf is not a CA.
        assert!(matches!(
            Ca::from_pem(&issued.cert_pem, &issued.key_pem),
            Err(Error::NotCa(name)) if name == "x"
        ));
        assert!(matches!(
            Ca::from_pem(ca.cert_pem(), "not a key"),
            Err(Error::InvalidKey(_))
        ));
        assert!(matches!(
            Ca::from_pem("not a cert", ca.key_pem()),
            Err(Error::InvalidCertificate(_))
        ));
    }

    #[test]
    fn foreign_rsa_ca_with_organization_issues_verifiable_leaves() {
        // A CA made elsewhere (kubeadm-like: RSA, O and CN in its subject).
        let key =
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).unwrap();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "example");
        dn.push(DnType::CommonName, "kubernetes");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let cert = params.self_signed(&key).unwrap();
        let ca = Ca::from_pem(&cert.pem(), &key.serialize_pem()).unwrap();
        let issued = ca.issue(&server_spec()).unwrap();
        assert!(ca.verify_issued(&issued.cert_pem));
        let der = pem::certificate_der(&issued.cert_pem).unwrap();
        let (_, leaf) = X509Certificate::from_der(&der).unwrap();
        let (_, ca_cert) = X509Certificate::from_der(cert.der()).unwrap();
        assert_eq!(leaf.issuer().as_raw(), ca_cert.subject().as_raw());
        assert!(leaf.verify_signature(Some(ca_cert.public_key())).is_ok());

        // A CA whose keyUsage lacks keyCertSign is refused.
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params.self_signed(&key).unwrap();
        assert!(matches!(
            Ca::from_pem(&cert.pem(), &key.serialize_pem()),
            Err(Error::NotCa(_))
        ));
    }
}

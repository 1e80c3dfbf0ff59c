use super::*;
use crate::authn::timefmt;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SigningKey, date_time_ymd,
};

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let pem = params.self_signed(&key).unwrap().pem();
    Ca { params, key, pem }
}

fn leaf(
    issuer: &Ca,
    cn: Option<&str>,
    orgs: &[&str],
    usage: ExtendedKeyUsagePurpose,
    edit: impl FnOnce(&mut CertificateParams),
) -> Vec<u8> {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = DistinguishedName::new();
    if let Some(cn) = cn {
        params.distinguished_name.push(DnType::CommonName, cn);
    }
    for org in orgs {
        params
            .distinguished_name
            .push(DnType::OrganizationName, *org);
    }
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    edit(&mut params);
    let signer = Issuer::from_params(&issuer.params, &issuer.key);
    params.signed_by(&key, &signer).unwrap().der().to_vec()
}

/// A client certificate for `cn` in the organizations `orgs`. rcgen keeps
/// one value per attribute type, so the subject is rewritten with one RDN
/// per organization and the certificate signed again by the CA.
fn client(issuer: &Ca, cn: &str, orgs: &[&str]) -> Vec<u8> {
    let der = leaf(
        issuer,
        Some(cn),
        &[],
        ExtendedKeyUsagePurpose::ClientAuth,
        |_| {},
    );
    if orgs.is_empty() {
        return der;
    }
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let old_subject = cert.subject().as_raw().to_vec();
    let tbs = cert.tbs_certificate.as_ref().to_vec();
    drop(cert);
    // Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signature }
    let (_, outer) = split_tlv(&der);
    let after_tbs = &outer[tbs.len()..];
    let (header, value) = split_tlv(after_tbs);
    let signature_algorithm = after_tbs[..header.len() + value.len()].to_vec();

    // Name ::= SEQUENCE OF SET OF SEQUENCE { OID, UTF8String }
    const CN: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];
    const O: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x0a];
    let rdn = |oid: &[u8], value: &str| {
        let atv = tlv(0x30, &[oid, &tlv(0x0c, value.as_bytes())].concat());
        tlv(0x31, &atv)
    };
    let mut rdns = vec![rdn(CN, cn)];
    rdns.extend(orgs.iter().map(|o| rdn(O, o)));
    let subject = tlv(0x30, &rdns.concat());

    let at = tbs
        .windows(old_subject.len())
        .position(|w| w == old_subject.as_slice())
        .unwrap();
    let (_, tbs_body) = split_tlv(&tbs);
    let body_start = tbs.len() - tbs_body.len();
    let mut body = tbs[body_start..at].to_vec();
    body.extend_from_slice(&subject);
    body.extend_from_slice(&tbs[at + old_subject.len()..]);
    let tbs = tlv(0x30, &body);
    let signature = issuer.key.sign(&tbs).unwrap();
    let bits = [&[0u8][..], &signature].concat();
    tlv(
        0x30,
        &[tbs.as_slice(), &signature_algorithm, &tlv(0x03, &bits)].concat(),
    )
}

/// A DER tag-length-value.
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(value);
    out
}

/// The header and the value of the DER TLV at the start of `der`.
fn split_tlv(der: &[u8]) -> (&[u8], &[u8]) {
    let first = der[1];
    let (header, len) = if first < 0x80 {
        (2, first as usize)
    } else {
        let n = (first & 0x7f) as usize;
        let len = der[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (2 + n, len)
    };
    (&der[..header], &der[header..header + len])
}

fn at(s: &str) -> SystemTime {
    timefmt::parse(s).unwrap()
}

fn now() -> SystemTime {
    at("2025-06-01T00:00:00Z")
}

#[test]
fn good_client_certificate() {
    let ca = ca("ironclad-ca");
    let auth = ClientCertAuthenticator::new(&ca.pem).unwrap();
    assert_eq!(auth.ca_count(), 1);
    let der = client(&ca, "alice", &["dev", "ops"]);
    let user = auth.authenticate(&der, &[], now()).unwrap();
    assert_eq!(user.name, "alice");
    assert_eq!(user.groups, vec!["dev", "ops", AUTHENTICATED]);
    let three = client(&ca, "alice", &["b", "a", "system:masters"]);
    assert_eq!(
        auth.authenticate(&three, &[], now()).unwrap().groups,
        vec!["b", "a", "system:masters", AUTHENTICATED]
    );
    assert_eq!(user.uid, "");
    let id = &user.extra[CREDENTIAL_ID][0];
    let fingerprint = digest::digest(&digest::SHA256, &der);
    assert_eq!(id, &format!("X509SHA256={}", hex(fingerprint.as_ref())));
    assert_eq!(id.len(), "X509SHA256=".len() + 64);
}

#[test]
fn masters_and_no_organizations() {
    let ca = ca("ironclad-ca");
    let auth = ClientCertAuthenticator::new(&ca.pem).unwrap();
    let admin = client(&ca, "kubernetes-admin", &["system:masters"]);
    let user = auth.authenticate(&admin, &[], now()).unwrap();
    assert!(user.in_group(crate::user::MASTERS));
    let node = client(&ca, "system:node:n1", &["system:nodes"]);
    assert_eq!(
        auth.authenticate(&node, &[], now()).unwrap().node_name(),
        Some("n1")
    );
    let plain = client(&ca, "bob", &[]);
    assert_eq!(
        auth.authenticate(&plain, &[], now()).unwrap().groups,
        vec![AUTHENTICATED]
    );
}

#[test]
fn expired_and_not_yet_valid() {
    let ca = ca("ironclad-ca");
    let auth = ClientCertAuthenticator::new(&ca.pem).unwrap();
    let expired = leaf(
        &ca,
        Some("old"),
        &[],
        ExtendedKeyUsagePurpose::ClientAuth,
        |p| {
            p.not_before = date_time_ymd(2000, 1, 1);
            p.not_after = date_time_ymd(2001, 1, 1);
        },
    );
    let err = auth.authenticate(&expired, &[], now()).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("verifying certificate SN="), "{text}");
    assert!(
        text.ends_with(
            "failed: x509: certificate has expired or is not yet valid: current time \
             2025-06-01T00:00:00Z is after 2001-01-01T00:00:00Z"
        ),
        "{text}"
    );
    assert!(matches!(
        err,
        X509Error::Verify {
            reason: VerifyFailure::Expired { .. },
            ..
        }
    ));

    let future = leaf(
        &ca,
        Some("new"),
        &[],
        ExtendedKeyUsagePurpose::ClientAuth,
        |p| {
            p.not_before = date_time_ymd(2100, 1, 1);
            p.not_after = date_time_ymd(2101, 1, 1);
        },
    );
    let err = auth.authenticate(&future, &[], now()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("current time 2025-06-01T00:00:00Z is before 2100-01-01T00:00:00Z"),
        "{err}"
    );
    // Go compares instants: half a second after notAfter is too late.
    let err = auth
        .authenticate(
            &expired,
            &[],
            at("2001-01-01T00:00:00Z") + std::time::Duration::from_millis(500),
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("current time 2001-01-01T00:00:00Z is after 2001-01-01T00:00:00Z"),
        "{err}"
    );
    // The same certificate is fine once its time has come.
    assert!(
        auth.authenticate(&future, &[], at("2100-06-01T00:00:00Z"))
            .is_ok()
    );
}

#[test]
fn expired_and_from_another_ca_reports_expiry_first() {
    let ca = ca("ironclad-ca");
    let other = ca_named_other();
    let auth = ClientCertAuthenticator::new(&ca.pem).unwrap();
    let expired = leaf(
        &other,
        Some("old"),
        &[],
        ExtendedKeyUsagePurpose::ClientAuth,
        |p| {
            p.not_before = date_time_ymd(2000, 1, 1);
            p.not_after = date_time_ymd(2001, 1, 1);
        },
    );
    let err = auth.authenticate(&expired, &[], now()).unwrap_err();
    assert!(matches!(
        err,
        X509Error::Verify {
            reason: VerifyFailure::Expired { .. },
            ..
        }
    ));
}

fn ca_named_other() -> Ca {
    ca("somebody-else")
}

#[test]
fn unknown_authority() {
    let ca = ca("ironclad-ca");
    let other = ca_named_other();
    let auth = ClientCertAuthenticator::new(&ca.pem).unwrap();
    let stranger = client(&other, "mallory", &["system:masters"]);
    let err = auth.authenticate(&stranger, &[], now()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("failed: x509: certificate signed by unknown authority"),
        "{err}"
    );
    // A self-signed certificate is no better.
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "admin");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let own = params.self_signed(&key).unwrap();
    let err = auth.authenticate(own.der(), &[], now()).unwrap_err();
    assert!(matches!(
        err,
        X509Error::Verify {
            reason: VerifyFailure::UnknownAuthority,
            ..
        }
    ));
}

#[test]
fn bundle_with_several_cas() {
    let a = ca("ca-a");
    let b = ca("ca-b");
    let bundle = format!("{}\n{}", a.pem, b.pem);
    let auth = ClientCertAuthenticator::new(&bundle).unwrap();
    assert_eq!(auth.ca_count(), 2);
    for ca in [&a, &b] {
        let der = client(ca, "carol", &[]);
        assert_eq!(auth.authenticate(&der, &[], now()).unwrap().name, "carol");
    }
}

#[test]
fn server_only_certificate_is_refused() {
    let ca = ca("ironclad-ca");
    let auth = ClientCertAuthenticator::new(&ca.pem).unwrap();
    let server = leaf(
        &ca,
        Some("apiserver"),
        &[],
        ExtendedKeyUsagePurpose::ServerAuth,
        |_| {},
    );
    let err = auth.authenticate(&server, &[], now()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("x509: certificate specifies an incompatible key usage"),
        "{err}"
    );
}

#[test]
fn certificate_without_extended_key_usage_is_accepted() {
    // Go and webpki both accept a certificate with no EKU extension for
    // any usage.
    let ca = ca("ironclad-ca");
    let auth = ClientCertAuthenticator::new(&ca.pem).unwrap();
    let der = leaf(
        &ca,
        Some("dave"),
        &[],
        ExtendedKeyUsagePurpose::ClientAuth,
        |p| p.extended_key_usages.clear(),
    );
    assert_eq!(auth.authenticate(&der, &[], now()).unwrap().name, "dave");
}

#[test]
fn empty_common_name_is_refused() {
    let ca = ca("ironclad-ca");
    let auth = ClientCertAuthenticator::new(&ca.pem).unwrap();
    let der = leaf(
        &ca,
        None,
        &["system:masters"],
        ExtendedKeyUsagePurpose::ClientAuth,
        |_| {},
    );
    let err = auth.authenticate(&der, &[], now()).unwrap_err();
    assert_eq!(err, X509Error::EmptyCommonName);
    assert_eq!(
        err.to_string(),
        "common name of the provided certificate is empty"
    );
}

#[test]
fn chain_through_an_intermediate() {
    let root = ca("root");
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "intermediate");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let intermediate_der = params
        .signed_by(&key, &Issuer::from_params(&root.params, &root.key))
        .unwrap()
        .der()
        .to_vec();
    let intermediate = Ca {
        params,
        key,
        pem: String::new(),
    };
    let der = client(&intermediate, "erin", &["team"]);
    let auth = ClientCertAuthenticator::new(&root.pem).unwrap();
    let user = auth
        .authenticate(&der, &[intermediate_der.as_slice()], now())
        .unwrap();
    assert_eq!(user.name, "erin");
    // Without the intermediate the chain does not reach the root.
    assert!(matches!(
        auth.authenticate(&der, &[], now()),
        Err(X509Error::Verify {
            reason: VerifyFailure::UnknownAuthority,
            ..
        })
    ));
}

#[test]
fn identifier_names_serial_and_key_ids() {
    let ca = ca("ironclad-ca");
    let der = leaf(
        &ca,
        Some("frank"),
        &[],
        ExtendedKeyUsagePurpose::ClientAuth,
        |p| p.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x01, 0x00])),
    );
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let id = identifier(&cert);
    assert!(id.starts_with("SN=256, SKID="), "{id}");
    let akid = id.split("AKID=").nth(1).unwrap();
    assert_eq!(akid.len(), 20 * 3 - 1, "{id}");
    assert!(akid.chars().all(|c| c == ':' || c.is_ascii_hexdigit()));
}

#[test]
fn malformed_input() {
    let ca = ca("ironclad-ca");
    let auth = ClientCertAuthenticator::new(&ca.pem).unwrap();
    for garbage in [&b""[..], b"\x30\x03\x02\x01", b"not a certificate"] {
        assert!(matches!(
            auth.authenticate(garbage, &[], now()),
            Err(X509Error::Malformed(_))
        ));
    }
}

#[test]
fn bad_bundles() {
    assert_eq!(
        ClientCertAuthenticator::new("").unwrap_err(),
        X509Error::EmptyCaBundle
    );
    let key_only = KeyPair::generate().unwrap().serialize_pem();
    assert_eq!(
        ClientCertAuthenticator::new(&key_only).unwrap_err(),
        X509Error::EmptyCaBundle
    );
    let broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        ClientCertAuthenticator::new(broken),
        Err(X509Error::InvalidCa { index: 1, .. })
    ));
}

//! A PKCS#10 certificate request in `spec.request`, parsed (upstream's
//! `ParseCSR`) into what approvers and signers look at: the subject's
//! common name and organizations and the requested subject alternative
//! names. [`verify_csr`] also checks the request's self-signature, as
//! validation does.

use std::net::IpAddr;

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::error::X509Error;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION, OID_SIG_ED25519,
};
use x509_parser::prelude::FromDer;

use super::pem;

/// The PEM type of a certificate request.
pub const REQUEST_BLOCK: &str = "CERTIFICATE REQUEST";

/// Why a request is not a usable certificate request; the messages are
/// the ones upstream's Go code gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// No PEM block, or the first one is of another type.
    #[error("PEM block type must be CERTIFICATE REQUEST")]
    NotARequest,
    /// The DER inside does not parse as PKCS#10.
    #[error("x509: malformed certificate request: {0}")]
    Malformed(String),
    /// The signature does not verify with the request's own key.
    #[error("{0}")]
    BadSignature(&'static str),
}

/// What a certificate request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertificateRequest {
    /// The subject's common name (the last CN attribute, as Go keeps).
    pub common_name: String,
    /// The subject's organizations (O), in order.
    pub organizations: Vec<String>,
    /// Requested DNS subject alternative names.
    pub dns_names: Vec<String>,
    /// Requested e-mail subject alternative names.
    pub email_addresses: Vec<String>,
    /// Requested IP subject alternative names.
    pub ip_addresses: Vec<IpAddr>,
    /// Requested URI subject alternative names.
    pub uris: Vec<String>,
}

/// Parses the first PEM block of `pem_data`, which must be a certificate
/// request (upstream's `ParseCSR`); the signature is not checked.
pub fn parse_csr(pem_data: &[u8]) -> Result<CertificateRequest, RequestError> {
    let der = request_der(pem_data)?;
    let req = parse_der(&der)?;
    Ok(describe(&req))
}

/// [`parse_csr`], then checks the request's signature with its own public
/// key (what validation of `spec.request` does).
pub fn verify_csr(pem_data: &[u8]) -> Result<CertificateRequest, RequestError> {
    let der = request_der(pem_data)?;
    let req = parse_der(&der)?;
    check_signature(&req)?;
    Ok(describe(&req))
}

fn request_der(pem_data: &[u8]) -> Result<Vec<u8>, RequestError> {
    match pem::decode(pem_data) {
        Some((block, _)) if block.kind == REQUEST_BLOCK => Ok(block.bytes),
        _ => Err(RequestError::NotARequest),
    }
}

fn parse_der(der: &[u8]) -> Result<X509CertificationRequest<'_>, RequestError> {
    match X509CertificationRequest::from_der(der) {
        Ok((rest, _)) if !rest.is_empty() => Err(RequestError::Malformed("trailing data".into())),
        Ok((_, req)) => Ok(req),
        Err(e) => Err(RequestError::Malformed(e.to_string())),
    }
}

fn check_signature(req: &X509CertificationRequest<'_>) -> Result<(), RequestError> {
    match req.verify_signature() {
        Ok(()) => Ok(()),
        Err(X509Error::SignatureUnsupportedAlgorithm) => Err(RequestError::BadSignature(
            "x509: cannot verify signature: algorithm unimplemented",
        )),
        Err(_) => {
            let key = &req
                .certification_request_info
                .subject_pki
                .algorithm
                .algorithm;
            Err(RequestError::BadSignature(
                if *key == OID_PKCS1_RSAENCRYPTION {
                    "crypto/rsa: verification error"
                } else if *key == OID_KEY_TYPE_EC_PUBLIC_KEY {
                    "x509: ECDSA verification failure"
                } else if *key == OID_SIG_ED25519 {
                    "x509: Ed25519 verification failure"
                } else {
                    "x509: signature verification failure"
                },
            ))
        }
    }
}

fn describe(req: &X509CertificationRequest<'_>) -> CertificateRequest {
    let subject = &req.certification_request_info.subject;
    let text = |a: &x509_parser::x509::AttributeTypeAndValue<'_>| {
        a.as_str().map(str::to_string).unwrap_or_default()
    };
    let mut out = CertificateRequest {
        common_name: subject
            .iter_common_name()
            .last()
            .map(text)
            .unwrap_or_default(),
        organizations: subject.iter_organization().map(text).collect(),
        ..Default::default()
    };
    for ext in req.requested_extensions().into_iter().flatten() {
        let ParsedExtension::SubjectAlternativeName(san) = ext else {
            continue;
        };
        for name in &san.general_names {
            match name {
                GeneralName::DNSName(d) => out.dns_names.push((*d).to_string()),
                GeneralName::RFC822Name(e) => out.email_addresses.push((*e).to_string()),
                GeneralName::URI(u) => out.uris.push((*u).to_string()),
                GeneralName::IPAddress(b) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*b) {
                        out.ip_addresses.push(IpAddr::from(v4));
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*b) {
                        out.ip_addresses.push(IpAddr::from(v6));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

    fn csr(cn: &str, orgs: &[&str], sans: Vec<SanType>) -> String {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        for o in orgs {
            dn.push(DnType::OrganizationName, *o);
        }
        params.distinguished_name = dn;
        params.subject_alt_names = sans;
        let key = KeyPair::generate().unwrap();
        params.serialize_request(&key).unwrap().pem().unwrap()
    }

    #[test]
    fn reads_subject_and_alternative_names() {
        let pem = csr(
            "system:node:n1",
            &["system:nodes"],
            vec![
                SanType::DnsName("n1.example.com".try_into().unwrap()),
                SanType::IpAddress("10.0.0.1".parse().unwrap()),
                SanType::IpAddress("fd00::1".parse().unwrap()),
                SanType::Rfc822Name("a@example.com".try_into().unwrap()),
                SanType::URI("spiffe://x/y".try_into().unwrap()),
            ],
        );
        let r = verify_csr(pem.as_bytes()).unwrap();
        assert_eq!(r.common_name, "system:node:n1");
        assert_eq!(r.organizations, ["system:nodes"]);
        assert_eq!(r.dns_names, ["n1.example.com"]);
        assert_eq!(
            r.ip_addresses,
            vec![
                "10.0.0.1".parse::<IpAddr>().unwrap(),
                "fd00::1".parse().unwrap()
            ]
        );
        assert_eq!(r.email_addresses, ["a@example.com"]);
        assert_eq!(r.uris, ["spiffe://x/y"]);
        assert_eq!(parse_csr(pem.as_bytes()).unwrap(), r);
    }

    #[test]
    fn rejects_what_is_not_a_request() {
        assert_eq!(parse_csr(b"hello"), Err(RequestError::NotARequest));
        let cert = pem::encode("CERTIFICATE", b"whatever");
        assert_eq!(parse_csr(cert.as_bytes()), Err(RequestError::NotARequest));
        let junk = pem::encode(REQUEST_BLOCK, b"not DER at all");
        let e = parse_csr(junk.as_bytes()).unwrap_err();
        assert!(matches!(e, RequestError::Malformed(_)), "{e}");
        assert!(
            e.to_string()
                .starts_with("x509: malformed certificate request")
        );
    }

    #[test]
    fn a_tampered_request_fails_its_signature() {
        let pem = csr("me", &[], Vec::new());
        let (block, _) = pem::decode(pem.as_bytes()).unwrap();
        let mut der = block.bytes;
        // Flip a bit in the last byte: the signature's.
        let last = der.len() - 1;
        der[last] ^= 1;
        let bad = pem::encode(REQUEST_BLOCK, &der);
        assert!(parse_csr(bad.as_bytes()).is_ok());
        assert_eq!(
            verify_csr(bad.as_bytes()),
            Err(RequestError::BadSignature(
                "x509: ECDSA verification failure"
            ))
        );
    }
}

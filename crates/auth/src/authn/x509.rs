//! Client-certificate authentication: upstream's x509 request
//! authenticator with its `CommonNameUserConversion`.
//!
//! The TLS layer accepts any client certificate whose handshake signature
//! is valid and hands the chain here, so that a bad certificate is answered
//! with a 401 and one of Go's `crypto/x509` messages rather than a TLS
//! alert. The chain is verified against the client CA bundle with
//! rustls-webpki for the client-auth usage; the user is the subject's
//! common name, its groups every subject organization, plus
//! `system:authenticated`, and `extra` holds the certificate's credential
//! ID (`X509SHA256=<hex of the SHA-256 of its DER>`), as upstream.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::asn1_rs::Tag;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;
use x509_parser::x509::AttributeTypeAndValue;

use crate::authn::extra::CREDENTIAL_ID;
use crate::authn::timefmt::{format_unix, unix_nanos, unix_seconds};
use crate::user::{AUTHENTICATED, UserInfo};

/// Why a client certificate was refused, or a CA bundle not loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X509Error {
    /// The CA bundle holds no certificate.
    #[error("no CA certificate found in the client CA bundle")]
    EmptyCaBundle,
    /// A certificate of the CA bundle cannot be used as a trust anchor.
    #[error("client CA bundle: certificate #{index}: {reason}")]
    InvalidCa {
        /// Its position in the bundle, from 1.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The client certificate is not DER X.509.
    #[error("x509: malformed certificate: {0}")]
    Malformed(String),
    /// The chain does not verify; upstream's message names the certificate
    /// by serial number and key identifiers.
    #[error("verifying certificate {certificate} failed: {reason}")]
    Verify {
        /// `SN=<decimal>, SKID=<hex>, AKID=<hex>`, as upstream prints it.
        certificate: String,
        /// Go's `crypto/x509` error.
        reason: VerifyFailure,
    },
    /// The certificate verifies but has no common name. Upstream's
    /// `CommonNameUserConversion` has no opinion on such a certificate (the
    /// request goes on to the token authenticators, then anonymous); a
    /// caller that wants that behaviour treats this error as "no
    /// credential".
    #[error("common name of the provided certificate is empty")]
    EmptyCommonName,
}

/// Why a chain did not verify, in Go's `crypto/x509` words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyFailure {
    /// A certificate of the chain has expired.
    #[error(
        "x509: certificate has expired or is not yet valid: current time {} is after {}",
        format_unix(*now),
        format_unix(*not_after)
    )]
    Expired {
        /// The verification time (Unix seconds).
        now: i64,
        /// The certificate's notAfter (Unix seconds).
        not_after: i64,
    },
    /// A certificate of the chain is not valid yet.
    #[error(
        "x509: certificate has expired or is not yet valid: current time {} is before {}",
        format_unix(*now),
        format_unix(*not_before)
    )]
    NotYetValid {
        /// The verification time (Unix seconds).
        now: i64,
        /// The certificate's notBefore (Unix seconds).
        not_before: i64,
    },
    /// No chain leads to a CA of the bundle.
    #[error("x509: certificate signed by unknown authority")]
    UnknownAuthority,
    /// The certificate (or one above it) is not for client authentication.
    #[error("x509: certificate specifies an incompatible key usage")]
    IncompatibleUsage,
    /// Anything else webpki refuses.
    #[error("x509: {0}")]
    Other(String),
}

/// Verifies client certificates against a CA bundle and turns them into
/// users.
#[derive(Debug, Clone)]
pub struct ClientCertAuthenticator {
    anchors: Vec<TrustAnchor<'static>>,
}

impl ClientCertAuthenticator {
    /// An authenticator trusting every certificate of `ca_bundle_pem`
    /// (`--client-ca-file`: one or more PEM `CERTIFICATE` blocks; other
    /// blocks are skipped).
    pub fn new(ca_bundle_pem: &str) -> Result<Self, X509Error> {
        let mut anchors = Vec::new();
        for (i, cert) in CertificateDer::pem_slice_iter(ca_bundle_pem.as_bytes()).enumerate() {
            let index = i + 1;
            let cert = cert.map_err(|e| X509Error::InvalidCa {
                index,
                reason: e.to_string(),
            })?;
            let anchor =
                webpki::anchor_from_trusted_cert(&cert).map_err(|e| X509Error::InvalidCa {
                    index,
                    reason: format!("{e:?}"),
                })?;
            anchors.push(anchor.to_owned());
        }
        if anchors.is_empty() {
            return Err(X509Error::EmptyCaBundle);
        }
        Ok(ClientCertAuthenticator { anchors })
    }

    /// How many CA certificates are trusted.
    pub fn ca_count(&self) -> usize {
        self.anchors.len()
    }

    /// Verifies the client's certificate (DER) with the intermediates it
    /// sent, at `now`, for client authentication, and returns its user.
    pub fn authenticate(
        &self,
        end_entity_der: &[u8],
        intermediates: &[&[u8]],
        now: SystemTime,
    ) -> Result<UserInfo, X509Error> {
        let (_, cert) = X509Certificate::from_der(end_entity_der)
            .map_err(|e| X509Error::Malformed(e.to_string()))?;
        let fail = |reason: VerifyFailure| X509Error::Verify {
            certificate: identifier(&cert),
            reason,
        };

        // Go checks the leaf's validity period before it builds chains, so
        // an expired certificate is reported as expired whoever signed it.
        let now_secs = unix_seconds(now);
        let now_nanos = unix_nanos(now);
        let validity = cert.validity();
        let not_before = validity.not_before.timestamp();
        let not_after = validity.not_after.timestamp();
        let nanos = |secs: i64| i128::from(secs) * 1_000_000_000;
        if now_nanos < nanos(not_before) {
            return Err(fail(VerifyFailure::NotYetValid {
                now: now_secs,
                not_before,
            }));
        }
        if now_nanos > nanos(not_after) {
            return Err(fail(VerifyFailure::Expired {
                now: now_secs,
                not_after,
            }));
        }

        let leaf_der = CertificateDer::from(end_entity_der);
        let leaf = EndEntityCert::try_from(&leaf_der)
            .map_err(|e| fail(VerifyFailure::Other(format!("{e:?}"))))?;
        let intermediates: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|der| CertificateDer::from(*der))
            .collect();
        let time = UnixTime::since_unix_epoch(now.duration_since(UNIX_EPOCH).unwrap_or_default());
        leaf.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.anchors,
            &intermediates,
            time,
            KeyUsage::client_auth(),
            None,
            None,
        )
        .map_err(|e| fail(failure(e)))?;

        user_from_subject(&cert, end_entity_der)
    }
}

/// webpki's error in Go's words.
fn failure(e: webpki::Error) -> VerifyFailure {
    use webpki::Error as E;
    let secs = |t: UnixTime| i64::try_from(t.as_secs()).unwrap_or(i64::MAX);
    match e {
        E::CertExpired { time, not_after } => VerifyFailure::Expired {
            now: secs(time),
            not_after: secs(not_after),
        },
        E::CertNotValidYet { time, not_before } => VerifyFailure::NotYetValid {
            now: secs(time),
            not_before: secs(not_before),
        },
        // Go reports a CA whose signature does not verify as an unknown
        // authority too.
        E::UnknownIssuer | E::InvalidSignatureForPublicKey => VerifyFailure::UnknownAuthority,
        E::RequiredEkuNotFoundContext(_) => VerifyFailure::IncompatibleUsage,
        #[allow(deprecated)]
        E::RequiredEkuNotFound => VerifyFailure::IncompatibleUsage,
        other => VerifyFailure::Other(format!("{other:?}")),
    }
}

/// CN = user, every O = a group, as Go's `pkix.Name` reads them: the last
/// common name wins, organizations keep their order.
fn user_from_subject(cert: &X509Certificate<'_>, der: &[u8]) -> Result<UserInfo, X509Error> {
    let subject = cert.subject();
    let name = subject
        .iter_common_name()
        .filter_map(attribute_string)
        .last()
        .unwrap_or_default();
    if name.is_empty() {
        return Err(X509Error::EmptyCommonName);
    }
    let mut groups: Vec<String> = subject
        .iter_organization()
        .filter_map(attribute_string)
        .collect();
    if !groups.iter().any(|g| g == AUTHENTICATED) {
        groups.push(AUTHENTICATED.to_string());
    }
    let fingerprint = digest::digest(&digest::SHA256, der);
    let mut user = UserInfo {
        name,
        groups,
        ..Default::default()
    };
    user.extra.insert(
        CREDENTIAL_ID.to_string(),
        vec![format!("X509SHA256={}", hex(fingerprint.as_ref()))],
    );
    Ok(user)
}

/// An attribute's value if it is one of the string types Go reads
/// (BMPString included); other values are skipped, as Go skips them.
fn attribute_string(attr: &AttributeTypeAndValue<'_>) -> Option<String> {
    if let Ok(s) = attr.as_str() {
        return Some(s.to_string());
    }
    let value = attr.attr_value();
    match value.tag() {
        Tag::BmpString => {
            let bytes = value.as_bytes();
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        Tag::T61String => Some(value.as_bytes().iter().map(|b| char::from(*b)).collect()),
        _ => None,
    }
}

/// `SN=<decimal serial>, SKID=<AA:BB..>, AKID=<AA:BB..>`, upstream's
/// `certificateIdentifier`.
fn identifier(cert: &X509Certificate<'_>) -> String {
    let mut skid: &[u8] = &[];
    let mut akid: &[u8] = &[];
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => skid = id.0,
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                if let Some(id) = &aki.key_identifier {
                    akid = id.0;
                }
            }
            _ => {}
        }
    }
    format!(
        "SN={}, SKID={}, AKID={}",
        cert.tbs_certificate.serial,
        colon_hex(skid),
        colon_hex(akid)
    )
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn colon_hex(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    parts.join(":")
}

#[cfg(test)]
mod tests;

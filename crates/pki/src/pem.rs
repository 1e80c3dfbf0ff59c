//! PEM text: writing one block, reading the first block of a kind.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateSigningRequestDer, SubjectPublicKeyInfoDer};

use crate::error::{Error, Result};

/// PEM label of an X.509 certificate.
pub(crate) const CERTIFICATE: &str = "CERTIFICATE";
/// PEM label of a PKCS#8 private key.
pub(crate) const PRIVATE_KEY: &str = "PRIVATE KEY";
/// PEM label of an X.509 SubjectPublicKeyInfo.
pub(crate) const PUBLIC_KEY: &str = "PUBLIC KEY";

/// Encodes `der` as one PEM block with the given label (64-column lines, as
/// OpenSSL and Go write them).
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    // Base64 output is ASCII, so splitting at any byte offset is safe.
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// The DER of the first certificate in `pem`.
pub(crate) fn certificate_der(pem: &str) -> Result<Vec<u8>> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map(|der| der.as_ref().to_vec())
        .map_err(|e| Error::InvalidCertificate(format!("no PEM certificate found: {e}")))
}

/// The DER of the first certificate signing request in `pem`.
pub(crate) fn csr_der(pem: &str) -> Result<Vec<u8>> {
    CertificateSigningRequestDer::from_pem_slice(pem.as_bytes())
        .map(|der| der.as_ref().to_vec())
        .map_err(|e| Error::InvalidCsr(format!("no PEM certificate request found: {e}")))
}

/// The DER of the first public key (SubjectPublicKeyInfo) in `pem`.
pub(crate) fn public_key_der(pem: &str) -> Result<Vec<u8>> {
    SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes())
        .map(|der| der.as_ref().to_vec())
        .map_err(|e| Error::InvalidKey(format!("no PEM public key found: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_wraps_at_64_columns() {
        let pem = encode("THING", &[7u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN THING-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last().copied(), Some("-----END THING-----"));
        assert!(pem.ends_with('\n'));
    }

    #[test]
    fn decoders_reject_text_without_pem() {
        assert!(matches!(
            certificate_der("hello"),
            Err(Error::InvalidCertificate(_))
        ));
        assert!(matches!(csr_der(""), Err(Error::InvalidCsr(_))));
        assert!(matches!(public_key_der("x"), Err(Error::InvalidKey(_))));
    }

    #[test]
    fn certificate_round_trips_through_pem() {
        let pem = encode(CERTIFICATE, b"\x30\x03\x02\x01\x01");
        assert_eq!(
            certificate_der(&pem).ok(),
            Some(b"\x30\x03\x02\x01\x01".to_vec())
        );
    }
}

//! Service-account keys from PEM, as upstream's `keyutil` reads them, and
//! their key ids.
//!
//! A private key (`--service-account-signing-key-file`) is PKCS#1 RSA,
//! PKCS#8 RSA or EC, or SEC1 EC; the first private-key block counts. A
//! public key file (`--service-account-key-file`) may hold several blocks:
//! public keys (SPKI), certificates (their key) and private keys (their
//! public half); other blocks are skipped. RSA keys sign RS256, P-256 keys
//! ES256 and P-384 keys ES384, as upstream's signer picks.
//!
//! The key id (`kid`) is upstream's `keyIDFromPublicKey`: the unpadded
//! base64url SHA-256 of the public key's SPKI DER.

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
    EcdsaSigningAlgorithm, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use rustls_pki_types::pem::{PemObject, SectionKind};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::TokenError;

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";

/// A key to sign with.
pub(super) struct SigningKey {
    pub(super) algorithm: Algorithm,
    pub(super) kid: String,
    pub(super) encoding: EncodingKey,
}

/// A key to verify with.
#[derive(Clone)]
pub(super) struct VerifyingKey {
    pub(super) kid: String,
    pub(super) decoding: DecodingKey,
    /// Only the key's own algorithm, and none of the checks of claims (the
    /// verifier makes those itself, with upstream's rules).
    pub(super) validation: Validation,
}

/// upstream's `keyIDFromPublicKey`.
pub(super) fn key_id(spki_der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, spki_der))
}

fn pem_blocks(pem: &str) -> Result<Vec<(SectionKind, Vec<u8>)>, TokenError> {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TokenError::InvalidKey(format!("invalid PEM: {e}")))
}

/// `der` re-wrapped as PEM, for the parsers that only take PEM.
fn to_pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn ec_key_pair(der: &[u8]) -> Option<(Algorithm, EcdsaKeyPair)> {
    let curves: [(Algorithm, &'static EcdsaSigningAlgorithm); 2] = [
        (Algorithm::ES256, &ECDSA_P256_SHA256_FIXED_SIGNING),
        (Algorithm::ES384, &ECDSA_P384_SHA384_FIXED_SIGNING),
    ];
    curves.into_iter().find_map(|(alg, curve)| {
        EcdsaKeyPair::from_private_key_der(curve, der)
            .ok()
            .map(|pair| (alg, pair))
    })
}

fn spki_of(public: &impl AsDer<aws_lc_rs::encoding::PublicKeyX509Der<'static>>) -> Option<Vec<u8>> {
    public.as_der().ok().map(|der| der.as_ref().to_vec())
}

/// The signing key of a private-key block, `None` if the block is not a
/// private key.
fn private_key(kind: SectionKind, der: &[u8]) -> Option<Result<SigningKey, TokenError>> {
    let unusable = |what: &str| Some(Err(TokenError::InvalidKey(what.to_string())));
    match kind {
        SectionKind::RsaPrivateKey => {
            let Ok(pair) = rsa::KeyPair::from_der(der) else {
                return unusable("invalid RSA private key (PKCS#1)");
            };
            let Some(spki) = spki_of(pair.public_key()) else {
                return unusable("cannot encode the RSA public key");
            };
            Some(Ok(SigningKey {
                algorithm: Algorithm::RS256,
                kid: key_id(&spki),
                encoding: EncodingKey::from_rsa_der(der),
            }))
        }
        SectionKind::PrivateKey => {
            if let Ok(pair) = rsa::KeyPair::from_pkcs8(der) {
                let Some(spki) = spki_of(pair.public_key()) else {
                    return unusable("cannot encode the RSA public key");
                };
                return Some(
                    EncodingKey::from_rsa_pem(to_pem("PRIVATE KEY", der).as_bytes())
                        .map(|encoding| SigningKey {
                            algorithm: Algorithm::RS256,
                            kid: key_id(&spki),
                            encoding,
                        })
                        .map_err(|e| TokenError::InvalidKey(format!("invalid RSA key: {e}"))),
                );
            }
            ec_signing_key(der, der.to_vec())
        }
        SectionKind::EcPrivateKey => {
            let Some((_, pair)) = ec_key_pair(der) else {
                return unusable("invalid EC private key: the curve must be P-256 or P-384");
            };
            match pair.to_pkcs8v1() {
                Ok(pkcs8) => ec_signing_key(der, pkcs8.as_ref().to_vec()),
                Err(_) => unusable("cannot encode the EC private key"),
            }
        }
        _ => None,
    }
}

/// An EC signing key from `der` (PKCS#8 or SEC1), signing with its PKCS#8
/// form.
fn ec_signing_key(der: &[u8], pkcs8: Vec<u8>) -> Option<Result<SigningKey, TokenError>> {
    let Some((algorithm, pair)) = ec_key_pair(der) else {
        return Some(Err(TokenError::InvalidKey(
            "unsupported private key: must be RSA, or EC on P-256 or P-384".to_string(),
        )));
    };
    let Some(spki) = spki_of(pair.public_key()) else {
        return Some(Err(TokenError::InvalidKey(
            "cannot encode the EC public key".to_string(),
        )));
    };
    Some(Ok(SigningKey {
        algorithm,
        kid: key_id(&spki),
        encoding: EncodingKey::from_ec_der(&pkcs8),
    }))
}

/// The first private key of `pem`.
pub(super) fn signing_key(pem: &str) -> Result<SigningKey, TokenError> {
    for (kind, der) in pem_blocks(pem)? {
        if let Some(key) = private_key(kind, &der) {
            return key;
        }
    }
    Err(TokenError::InvalidKey(
        "data does not contain a valid RSA or ECDSA private key".to_string(),
    ))
}

/// A verifying key from an SPKI.
fn from_spki(spki_der: &[u8]) -> Result<VerifyingKey, TokenError> {
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|e| TokenError::InvalidKey(format!("invalid public key: {e}")))?;
    let point = spki.subject_public_key.data.as_ref();
    let (algorithm, decoding) = match spki.algorithm.algorithm.to_id_string().as_str() {
        RSA_ENCRYPTION => (Algorithm::RS256, DecodingKey::from_rsa_der(point)),
        EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string());
            match curve.as_deref() {
                Some(P256) => (Algorithm::ES256, DecodingKey::from_ec_der(point)),
                Some(P384) => (Algorithm::ES384, DecodingKey::from_ec_der(point)),
                _ => {
                    return Err(TokenError::InvalidKey(
                        "unsupported EC public key: the curve must be P-256 or P-384".to_string(),
                    ));
                }
            }
        }
        other => {
            return Err(TokenError::InvalidKey(format!(
                "unsupported public key algorithm {other}: must be RSA or ECDSA"
            )));
        }
    };
    let mut validation = Validation::new(algorithm);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    Ok(VerifyingKey {
        kid: key_id(spki_der),
        decoding,
        validation,
    })
}

/// Every public key of `pem`.
pub(super) fn verifying_keys(pem: &str) -> Result<Vec<VerifyingKey>, TokenError> {
    let mut keys = Vec::new();
    for (kind, der) in pem_blocks(pem)? {
        let spki = match kind {
            SectionKind::PublicKey => der,
            SectionKind::Certificate => {
                let (_, cert) = X509Certificate::from_der(&der)
                    .map_err(|e| TokenError::InvalidKey(format!("invalid certificate: {e}")))?;
                cert.public_key().raw.to_vec()
            }
            SectionKind::RsaPrivateKey | SectionKind::PrivateKey | SectionKind::EcPrivateKey => {
                match public_half(kind, &der) {
                    Some(spki) => spki,
                    None => {
                        return Err(TokenError::InvalidKey(
                            "invalid private key in the public key data".to_string(),
                        ));
                    }
                }
            }
            _ => continue,
        };
        keys.push(from_spki(&spki)?);
    }
    if keys.is_empty() {
        return Err(TokenError::InvalidKey(
            "data does not contain any valid RSA or ECDSA public keys".to_string(),
        ));
    }
    Ok(keys)
}

/// The SPKI of a private key's public half.
fn public_half(kind: SectionKind, der: &[u8]) -> Option<Vec<u8>> {
    let rsa = match kind {
        SectionKind::RsaPrivateKey => rsa::KeyPair::from_der(der).ok(),
        SectionKind::PrivateKey => rsa::KeyPair::from_pkcs8(der).ok(),
        _ => None,
    };
    if let Some(pair) = rsa {
        return spki_of(pair.public_key());
    }
    let (_, pair) = ec_key_pair(der)?;
    spki_of(pair.public_key())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::serviceaccount::testkeys;

    #[test]
    fn signer_and_verifier_agree_on_the_key_id() {
        for key in [testkeys::rsa(), testkeys::ec_p256()] {
            let signing = signing_key(&key.private_pem).unwrap();
            let verifying = verifying_keys(&key.public_pem).unwrap();
            assert_eq!(verifying.len(), 1);
            assert_eq!(signing.kid, verifying[0].kid);
            assert_eq!(signing.kid.len(), 43);
            // The public half of the private key is the same key.
            let derived = verifying_keys(&key.private_pem).unwrap();
            assert_eq!(derived[0].kid, signing.kid);
        }
        assert_eq!(
            signing_key(&testkeys::rsa().private_pem).unwrap().algorithm,
            Algorithm::RS256
        );
        assert_eq!(
            signing_key(&testkeys::ec_p256().private_pem)
                .unwrap()
                .algorithm,
            Algorithm::ES256
        );
    }

    #[test]
    fn pkcs1_and_sec1_keys() {
        let rsa = testkeys::rsa();
        let pair = rsa::KeyPair::from_pkcs8(&rsa.private_der).unwrap();
        // aws-lc-rs writes no PKCS#1, so rebuild it from the PKCS#8 (its
        // privateKey OCTET STRING is the RSAPrivateKey).
        let pkcs1 = testkeys::pkcs8_inner_key(&rsa.private_der);
        assert!(rsa::KeyPair::from_der(&pkcs1).is_ok());
        let signing = signing_key(&to_pem("RSA PRIVATE KEY", &pkcs1)).unwrap();
        assert_eq!(signing.kid, key_id(&spki_of(pair.public_key()).unwrap()));

        let ec = testkeys::ec_p256();
        let (_, pair) = ec_key_pair(&ec.private_der).unwrap();
        let sec1 = pair.private_key().as_der().unwrap();
        let signing = signing_key(&to_pem("EC PRIVATE KEY", sec1.as_ref())).unwrap();
        assert_eq!(signing.algorithm, Algorithm::ES256);
        assert_eq!(signing.kid, verifying_keys(&ec.public_pem).unwrap()[0].kid);
    }

    #[test]
    fn several_blocks_and_certificates() {
        let a = testkeys::rsa();
        let b = testkeys::ec_p256();
        let bundle = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}{}{}",
            a.public_pem, b.public_pem, b.cert_pem
        );
        let keys = verifying_keys(&bundle).unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[1].kid, keys[2].kid);
    }

    #[test]
    fn bad_keys() {
        for pem in [
            "",
            "not pem at all",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        ] {
            assert!(
                matches!(verifying_keys(pem), Err(TokenError::InvalidKey(_))),
                "{pem}"
            );
            assert!(
                matches!(signing_key(pem), Err(TokenError::InvalidKey(_))),
                "{pem}"
            );
        }
        // A public key is not a signing key.
        assert!(signing_key(&testkeys::rsa().public_pem).is_err());
        let garbage = to_pem("PRIVATE KEY", b"\x30\x03\x02\x01\x00");
        assert!(signing_key(&garbage).is_err());
        assert!(verifying_keys(&garbage).is_err());
    }
}

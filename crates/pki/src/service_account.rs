//! The service-account token signing key (RSA 2048; tokens are RS256).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use crate::error::{Error, Result};
use crate::pem;

/// The RSA key pair the API server signs service-account tokens with
/// (`--service-account-signing-key-file`) and verifies them with
/// (`--service-account-key-file`).
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceAccountKey {
    /// The private key, PKCS#8 PEM ("PRIVATE KEY").
    pub private_pem: String,
    /// The public key, SubjectPublicKeyInfo PEM ("PUBLIC KEY").
    pub public_pem: String,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("private_pem", &"<redacted>")
            .field("public_pem", &self.public_pem)
            .finish()
    }
}

impl ServiceAccountKey {
    /// A new RSA 2048 key pair.
    pub fn generate() -> Result<ServiceAccountKey> {
        let key = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|e| Error::crypto("generate the service-account key", e))?;
        ServiceAccountKey::from_key(&key)
    }

    /// Reads an RSA private key, PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA
    /// PRIVATE KEY", as kubeadm writes `sa.key`), and derives the public
    /// key. The result's `private_pem` is always PKCS#8.
    pub fn from_private_pem(private_pem: &str) -> Result<ServiceAccountKey> {
        let der = PrivateKeyDer::from_pem_slice(private_pem.as_bytes())
            .map_err(|e| Error::InvalidKey(format!("no PEM private key found: {e}")))?;
        let key = match &der {
            PrivateKeyDer::Pkcs8(d) => RsaKeyPair::from_pkcs8(d.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(d) => RsaKeyPair::from_der(d.secret_pkcs1_der()),
            _ => {
                return Err(Error::InvalidKey(
                    "the service-account key must be an RSA key".into(),
                ));
            }
        }
        .map_err(|e| Error::InvalidKey(format!("not a usable RSA private key: {e}")))?;
        ServiceAccountKey::from_key(&key)
    }

    fn from_key(key: &RsaKeyPair) -> Result<ServiceAccountKey> {
        let private = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'_>>::as_der(key)
            .map_err(|e| Error::crypto("encode the service-account key", e))?;
        let public = key
            .public_key()
            .as_der()
            .map_err(|e| Error::crypto("encode the service-account public key", e))?;
        Ok(ServiceAccountKey {
            private_pem: pem::encode(pem::PRIVATE_KEY, private.as_ref()),
            public_pem: pem::encode(pem::PUBLIC_KEY, public.as_ref()),
        })
    }

    /// Checks that `public_pem` is a public key and the private key's own.
    pub(crate) fn check(&self) -> Result<()> {
        let derived = ServiceAccountKey::from_private_pem(&self.private_pem)?;
        let given = pem::public_key_der(&self.public_pem)?;
        if pem::public_key_der(&derived.public_pem)? == given {
            Ok(())
        } else {
            Err(Error::InvalidKey(
                "the service-account public key does not match the private key".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Claims {
        sub: String,
        iss: String,
        aud: Vec<String>,
        exp: u64,
    }

    #[test]
    fn generated_key_signs_and_verifies_rs256_tokens() {
        let key = ServiceAccountKey::generate().unwrap();
        assert!(key.private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(key.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        key.check().unwrap();

        let claims = Claims {
            sub: "system:serviceaccount:default:builder".into(),
            iss: "https://kubernetes.default.svc.cluster.local".into(),
            aud: vec!["https://kubernetes.default.svc.cluster.local".into()],
            exp: 4_000_000_000,
        };
        let encoding = EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).unwrap();
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &encoding).unwrap();
        let decoding = DecodingKey::from_rsa_pem(key.public_pem.as_bytes()).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&claims.aud);
        let got = jsonwebtoken::decode::<Claims>(&token, &decoding, &validation).unwrap();
        assert_eq!(got.claims, claims);

        // Another key does not verify it.
        let other = ServiceAccountKey::generate().unwrap();
        let decoding = DecodingKey::from_rsa_pem(other.public_pem.as_bytes()).unwrap();
        assert!(jsonwebtoken::decode::<Claims>(&token, &decoding, &validation).is_err());
    }

    #[test]
    fn from_private_pem_round_trips_and_reads_pkcs1() {
        let key = ServiceAccountKey::generate().unwrap();
        assert_eq!(
            ServiceAccountKey::from_private_pem(&key.private_pem).unwrap(),
            key
        );
        // The same key as PKCS#1 "RSA PRIVATE KEY".
        let pkcs8 = PrivateKeyDer::from_pem_slice(key.private_pem.as_bytes()).unwrap();
        // PrivateKeyInfo ::= SEQUENCE { version, algorithm, OCTET STRING
        // holding the PKCS#1 RSAPrivateKey }.
        let info = crate::der::split_tlv(pkcs8.secret_der()).unwrap();
        let fields = crate::der::elements(info.content).unwrap();
        let pkcs1 = crate::der::split_tlv(fields[2]).unwrap().content;
        let pkcs1_pem = pem::encode("RSA PRIVATE KEY", pkcs1);
        assert_eq!(
            ServiceAccountKey::from_private_pem(&pkcs1_pem).unwrap(),
            key
        );
    }

    #[test]
    fn non_rsa_or_garbage_keys_are_refused() {
        let ec = rcgen::KeyPair::generate().unwrap().serialize_pem();
        assert!(matches!(
            ServiceAccountKey::from_private_pem(&ec),
            Err(Error::InvalidKey(_))
        ));
        assert!(matches!(
            ServiceAccountKey::from_private_pem("garbage"),
            Err(Error::InvalidKey(_))
        ));
        let mut key = ServiceAccountKey::generate().unwrap();
        key.public_pem = ServiceAccountKey::generate().unwrap().public_pem;
        assert!(matches!(key.check(), Err(Error::InvalidKey(_))));
    }
}

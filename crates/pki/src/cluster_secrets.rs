//! The secrets every server of one (HA) cluster must share, and sealing
//! them with the join token so they can travel through the store.

use std::num::NonZeroU32;
use std::time::Duration;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::pbkdf2;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::ca::Ca;
use crate::error::{Error, Result};
use crate::random;
use crate::service_account::ServiceAccountKey;

/// Common name of a cluster CA made by [`ClusterSecrets::generate`].
pub const CA_COMMON_NAME: &str = "ironclad-ca";
/// Validity of a cluster CA made by [`ClusterSecrets::generate`]: ten
/// years, as kubeadm's.
pub const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 86_400);

/// First bytes of a sealed blob.
const MAGIC: &[u8; 4] = b"ICSB";
/// Format version: PBKDF2-HMAC-SHA256 with [`ITERATIONS`], AES-256-GCM.
const VERSION: u8 = 1;
/// PBKDF2 iterations of version 1.
const ITERATIONS: u32 = 100_000;
const SALT_LEN: usize = 16;
const HEADER_LEN: usize = MAGIC.len() + 1 + SALT_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;

/// What all servers of a cluster must have in common: the CA that signs
/// every certificate, the service-account token key, and the key that
/// encrypts Secrets at rest. Its `Debug` hides the private parts.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterSecrets {
    /// The cluster CA certificate, PEM.
    pub ca_cert_pem: String,
    /// The cluster CA private key, PEM.
    pub ca_key_pem: String,
    /// The service-account signing key, PKCS#8 PEM.
    pub sa_private_pem: String,
    /// The service-account verification key, SubjectPublicKeyInfo PEM.
    pub sa_public_pem: String,
    /// The AES-256 key for encryption at rest.
    pub encryption_key: [u8; 32],
}

impl std::fmt::Debug for ClusterSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterSecrets")
            .field("ca_cert_pem", &self.ca_cert_pem)
            .field("ca_key_pem", &"<redacted>")
            .field("sa_private_pem", &"<redacted>")
            .field("sa_public_pem", &self.sa_public_pem)
            .field("encryption_key", &"<redacted>")
            .finish()
    }
}

/// The JSON inside a sealed blob.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Wire {
    ca_cert_pem: String,
    ca_key_pem: String,
    sa_private_pem: String,
    sa_public_pem: String,
    /// Base64 of the 32 bytes.
    encryption_key: String,
}

impl ClusterSecrets {
    /// New secrets for a new cluster: a CA named [`CA_COMMON_NAME`] valid
    /// for [`CA_VALIDITY`], an RSA 2048 service-account key and a random
    /// encryption key.
    pub fn generate() -> Result<ClusterSecrets> {
        let ca = Ca::generate(CA_COMMON_NAME, CA_VALIDITY)?;
        let sa = ServiceAccountKey::generate()?;
        Ok(ClusterSecrets {
            ca_cert_pem: ca.cert_pem().to_string(),
            ca_key_pem: ca.key_pem().to_string(),
            sa_private_pem: sa.private_pem,
            sa_public_pem: sa.public_pem,
            encryption_key: random::bytes()?,
        })
    }

    /// The CA.
    pub fn ca(&self) -> Result<Ca> {
        Ca::from_pem(&self.ca_cert_pem, &self.ca_key_pem)
    }

    /// The service-account key pair.
    pub fn service_account_key(&self) -> ServiceAccountKey {
        ServiceAccountKey {
            private_pem: self.sa_private_pem.clone(),
            public_pem: self.sa_public_pem.clone(),
        }
    }

    /// Checks that the CA key matches its certificate and the
    /// service-account keys match each other.
    pub fn validate(&self) -> Result<()> {
        self.ca()?;
        self.service_account_key().check()
    }

    /// Encrypts these secrets under `token` (the join token text): AES-256-GCM
    /// with a key derived by PBKDF2-HMAC-SHA256 (100 000 iterations, random
    /// salt). The blob is `"ICSB" | version 1 | salt(16) | nonce(12) |
    /// ciphertext+tag`, the header authenticated too.
    pub fn seal(&self, token: &str) -> Result<Vec<u8>> {
        if token.is_empty() {
            return Err(Error::InvalidToken);
        }
        let wire = Wire {
            ca_cert_pem: self.ca_cert_pem.clone(),
            ca_key_pem: self.ca_key_pem.clone(),
            sa_private_pem: self.sa_private_pem.clone(),
            sa_public_pem: self.sa_public_pem.clone(),
            encryption_key: STANDARD.encode(self.encryption_key),
        };
        let mut data =
            serde_json::to_vec(&wire).map_err(|e| Error::crypto("encode cluster secrets", e))?;
        let salt: [u8; SALT_LEN] = random::bytes()?;
        let nonce: [u8; NONCE_LEN] = random::bytes()?;
        let mut out = Vec::with_capacity(HEADER_LEN + data.len() + TAG_LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&salt);
        out.extend_from_slice(&nonce);
        key_for(token, &salt)?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&out[..]),
                &mut data,
            )
            .map_err(|e| Error::crypto("encrypt cluster secrets", e))?;
        out.extend_from_slice(&data);
        Ok(out)
    }

    /// Decrypts what [`ClusterSecrets::seal`] made. A wrong token (or an
    /// altered blob) gives [`Error::WrongToken`]; something that is not a
    /// sealed blob at all gives [`Error::MalformedSealed`].
    pub fn open(sealed: &[u8], token: &str) -> Result<ClusterSecrets> {
        let malformed = |m: &str| Error::MalformedSealed(m.to_string());
        if sealed.len() < MAGIC.len() + 1 || &sealed[..MAGIC.len()] != MAGIC {
            return Err(malformed("not sealed cluster secrets (bad magic)"));
        }
        let version = sealed[MAGIC.len()];
        if version != VERSION {
            return Err(Error::MalformedSealed(format!(
                "unsupported version {version} (this build reads version {VERSION})"
            )));
        }
        if sealed.len() < HEADER_LEN + TAG_LEN {
            return Err(malformed("truncated"));
        }
        let (header, ciphertext) = sealed.split_at(HEADER_LEN);
        let salt = &header[MAGIC.len() + 1..MAGIC.len() + 1 + SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&header[MAGIC.len() + 1 + SALT_LEN..]);
        let mut data = ciphertext.to_vec();
        let plain = key_for(token, salt)?
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(header),
                &mut data,
            )
            .map_err(|_| Error::WrongToken)?;
        let wire: Wire = serde_json::from_slice(plain)
            .map_err(|e| Error::MalformedSealed(format!("bad content: {e}")))?;
        let key = STANDARD
            .decode(&wire.encryption_key)
            .ok()
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
            .ok_or_else(|| malformed("the encryption key is not 32 bytes of base64"))?;
        let secrets = ClusterSecrets {
            ca_cert_pem: wire.ca_cert_pem,
            ca_key_pem: wire.ca_key_pem,
            sa_private_pem: wire.sa_private_pem,
            sa_public_pem: wire.sa_public_pem,
            encryption_key: key,
        };
        secrets.validate()?;
        Ok(secrets)
    }
}

/// The AES-256-GCM key derived from a token and salt.
fn key_for(token: &str, salt: &[u8]) -> Result<LessSafeKey> {
    let mut key = [0u8; 32];
    let iterations = NonZeroU32::new(ITERATIONS)
        .ok_or_else(|| Error::crypto("derive a key", "zero iterations"))?;
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        token.as_bytes(),
        &mut key,
    );
    let key = UnboundKey::new(&AES_256_GCM, &key).map_err(|e| Error::crypto("derive a key", e))?;
    Ok(LessSafeKey::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    const TOKEN: &str = "abcdef.0123456789abcdef";

    /// RSA key generation is slow in debug builds: make the secrets once.
    fn secrets() -> &'static ClusterSecrets {
        static S: OnceLock<ClusterSecrets> = OnceLock::new();
        S.get_or_init(|| ClusterSecrets::generate().unwrap())
    }

    #[test]
    fn generated_secrets_are_consistent() {
        let s = secrets();
        s.validate().unwrap();
        let ca = s.ca().unwrap();
        let info = crate::CertInfo::from_pem(ca.cert_pem()).unwrap();
        assert_eq!(info.common_name, CA_COMMON_NAME);
        assert!(info.is_ca);
        assert_ne!(s.encryption_key, [0u8; 32]);
        let shown = format!("{s:?}");
        assert!(!shown.contains("PRIVATE KEY"));
    }

    #[test]
    fn seal_open_round_trip() {
        let s = secrets();
        let sealed = s.seal(TOKEN).unwrap();
        assert_eq!(&sealed[..4], b"ICSB");
        assert_eq!(sealed[4], 1);
        assert_eq!(&ClusterSecrets::open(&sealed, TOKEN).unwrap(), s);
        // Fresh salt and nonce every time.
        assert_ne!(s.seal(TOKEN).unwrap(), sealed);
    }

    #[test]
    fn wrong_token_is_a_clear_error() {
        let sealed = secrets().seal(TOKEN).unwrap();
        let err = ClusterSecrets::open(&sealed, "abcdef.0123456789abcdee").unwrap_err();
        assert!(matches!(err, Error::WrongToken));
        assert!(err.to_string().contains("wrong join token"));
        assert!(matches!(secrets().seal(""), Err(Error::InvalidToken)));
    }

    #[test]
    fn garbage_truncation_and_tampering_never_panic() {
        let sealed = secrets().seal(TOKEN).unwrap();
        for bad in [&b""[..], b"I", b"ICSB", b"hello world, not sealed at all"] {
            assert!(
                matches!(
                    ClusterSecrets::open(bad, TOKEN),
                    Err(Error::MalformedSealed(_))
                ),
                "{bad:?}"
            );
        }
        let mut v2 = sealed.clone();
        v2[4] = 2;
        let err = ClusterSecrets::open(&v2, TOKEN).unwrap_err();
        assert!(err.to_string().contains("unsupported version 2"), "{err}");
        // Every truncation fails cleanly.
        for len in [5, HEADER_LEN, HEADER_LEN + TAG_LEN - 1, sealed.len() - 1] {
            assert!(
                ClusterSecrets::open(&sealed[..len], TOKEN).is_err(),
                "{len}"
            );
        }
        // A flipped bit anywhere after the version byte fails authentication.
        for at in [5, HEADER_LEN - 1, HEADER_LEN, sealed.len() - 1] {
            let mut t = sealed.clone();
            t[at] ^= 1;
            assert!(
                matches!(ClusterSecrets::open(&t, TOKEN), Err(Error::WrongToken)),
                "{at}"
            );
        }
    }

    #[test]
    fn authentic_but_bad_content_is_reported() {
        // Sealed JSON that is not the expected shape.
        let mut s = secrets().clone();
        s.sa_public_pem = "nope".into();
        let sealed = s.seal(TOKEN).unwrap();
        assert!(matches!(
            ClusterSecrets::open(&sealed, TOKEN),
            Err(Error::InvalidKey(_))
        ));
    }
}

//! The transformer of one resource: encrypts what is written with its
//! first provider and key, and decrypts what is read with whichever
//! provider and key wrote it (upstream's prefix transformers).
//!
//! A stored value starts with `k8s:enc:<provider>:v1:<key name>:` and
//! continues with binary ciphertext; plaintext has no prefix and is read
//! only when `identity` is one of the providers.

use std::fmt;

use super::aescbc::CbcCipher;
use super::aesgcm::GcmCipher;
use super::config::{Key, Provider};
use super::error::EncryptionError;

/// Every encrypted value starts with this.
pub const ENCRYPTED_PREFIX: &[u8] = b"k8s:enc:";

/// Whether a stored value carries an encryption prefix (of any provider,
/// configured or not).
pub fn is_encrypted(stored: &[u8]) -> bool {
    stored.starts_with(ENCRYPTED_PREFIX)
}

/// A value read back from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The plaintext.
    pub plain: Vec<u8>,
    /// Whether it was not written by the first provider's first key, so it
    /// should be rewritten (key rotation, turning encryption on or off).
    pub stale: bool,
}

/// Encrypts and decrypts the values of one resource.
pub struct Transformer {
    providers: Vec<ProviderTransformer>,
}

enum ProviderTransformer {
    Identity,
    Aes {
        /// `aescbc` or `aesgcm`.
        name: &'static str,
        /// `k8s:enc:<name>:v1:`.
        prefix: Vec<u8>,
        keys: Vec<AesKey>,
    },
}

struct AesKey {
    name: String,
    /// `<name>:`.
    prefix: Vec<u8>,
    cipher: AesCipher,
}

enum AesCipher {
    /// Boxed: aws-lc's CBC keys hold the expanded key schedules inline.
    Cbc(Box<CbcCipher>),
    Gcm(GcmCipher),
}

impl AesKey {
    fn new(provider: &'static str, key: &Key) -> Result<AesKey, EncryptionError> {
        let cipher = match provider {
            "aesgcm" => GcmCipher::new(&key.secret).map(AesCipher::Gcm),
            _ => CbcCipher::new(&key.secret).map(|c| AesCipher::Cbc(Box::new(c))),
        }
        .map_err(|reason| EncryptionError::Encrypt {
            provider,
            key: key.name.clone(),
            reason,
        })?;
        Ok(AesKey {
            name: key.name.clone(),
            prefix: format!("{}:", key.name).into_bytes(),
            cipher,
        })
    }

    fn seal(&self, plain: &[u8], context: &[u8]) -> Result<Vec<u8>, &'static str> {
        match &self.cipher {
            AesCipher::Cbc(c) => c.seal(plain),
            AesCipher::Gcm(c) => c.seal(plain, context),
        }
    }

    fn open(&self, data: &[u8], context: &[u8]) -> Result<Vec<u8>, &'static str> {
        match &self.cipher {
            AesCipher::Cbc(c) => c.open(data),
            AesCipher::Gcm(c) => c.open(data, context),
        }
    }
}

impl Transformer {
    /// A transformer over these providers (the first writes). Fails on an
    /// empty list or a key the crypto library rejects.
    pub fn new(providers: &[Provider]) -> Result<Transformer, EncryptionError> {
        if providers.is_empty() {
            return Err(EncryptionError::Invalid(vec![
                ironclad_api::validation::error::FieldError::required(
                    &ironclad_api::validation::error::Path::new("providers"),
                    "at least one providers is required",
                ),
            ]));
        }
        let mut out = Vec::with_capacity(providers.len());
        for provider in providers {
            let name = provider.name();
            out.push(match provider {
                Provider::Identity => ProviderTransformer::Identity,
                Provider::AesCbc(keys) | Provider::AesGcm(keys) => {
                    if keys.is_empty() {
                        return Err(EncryptionError::NoMatchingKey { provider: name });
                    }
                    ProviderTransformer::Aes {
                        name,
                        prefix: format!("k8s:enc:{name}:v1:").into_bytes(),
                        keys: keys
                            .iter()
                            .map(|k| AesKey::new(name, k))
                            .collect::<Result<_, _>>()?,
                    }
                }
            });
        }
        Ok(Transformer { providers: out })
    }

    /// Whether writes are stored as plaintext (identity is first).
    pub fn writes_plaintext(&self) -> bool {
        matches!(self.providers.first(), Some(ProviderTransformer::Identity))
    }

    /// The provider and key name that encrypt writes (`None` for identity).
    pub fn write_key(&self) -> Option<(&'static str, &str)> {
        match self.providers.first() {
            Some(ProviderTransformer::Aes { name, keys, .. }) => {
                keys.first().map(|k| (*name, k.name.as_str()))
            }
            _ => None,
        }
    }

    /// The stored form of `plain`: with the first provider and its first
    /// key, `k8s:enc:<provider>:v1:<key>:` and the ciphertext; unchanged
    /// for identity. `context` (the store key) is authenticated by
    /// `aesgcm`.
    pub fn encrypt(&self, plain: &[u8], context: &[u8]) -> Result<Vec<u8>, EncryptionError> {
        match self.providers.first() {
            Some(ProviderTransformer::Aes { name, prefix, keys }) => {
                let Some(key) = keys.first() else {
                    return Err(EncryptionError::NoMatchingKey { provider: name });
                };
                let sealed =
                    key.seal(plain, context)
                        .map_err(|reason| EncryptionError::Encrypt {
                            provider: name,
                            key: key.name.clone(),
                            reason,
                        })?;
                let mut out = Vec::with_capacity(prefix.len() + key.prefix.len() + sealed.len());
                out.extend_from_slice(prefix);
                out.extend_from_slice(&key.prefix);
                out.extend_from_slice(&sealed);
                Ok(out)
            }
            Some(ProviderTransformer::Identity) | None => Ok(plain.to_vec()),
        }
    }

    /// The plaintext of a stored value, trying every provider and key whose
    /// prefix matches; plaintext only when identity is configured.
    /// `stale` when it was not written by the first provider's first key.
    pub fn decrypt(&self, stored: &[u8], context: &[u8]) -> Result<Decrypted, EncryptionError> {
        let mut decrypt_error = None;
        let mut no_key = None;
        let mut identity_refused = false;
        for (i, provider) in self.providers.iter().enumerate() {
            match provider {
                ProviderTransformer::Identity => {
                    if is_encrypted(stored) {
                        identity_refused = true;
                        continue;
                    }
                    return Ok(Decrypted {
                        plain: stored.to_vec(),
                        stale: i != 0,
                    });
                }
                ProviderTransformer::Aes { name, prefix, keys } => {
                    let Some(rest) = stored.strip_prefix(prefix.as_slice()) else {
                        continue;
                    };
                    let mut matched = false;
                    for (k, key) in keys.iter().enumerate() {
                        let Some(data) = rest.strip_prefix(key.prefix.as_slice()) else {
                            continue;
                        };
                        matched = true;
                        match key.open(data, context) {
                            Ok(plain) => {
                                return Ok(Decrypted {
                                    plain,
                                    stale: i != 0 || k != 0,
                                });
                            }
                            Err(reason) => {
                                decrypt_error.get_or_insert(EncryptionError::Decrypt {
                                    provider: name,
                                    key: key.name.clone(),
                                    reason,
                                });
                            }
                        }
                    }
                    if !matched {
                        no_key.get_or_insert(EncryptionError::NoMatchingKey { provider: name });
                    }
                }
            }
        }
        Err(decrypt_error.or(no_key).unwrap_or(if identity_refused {
            EncryptionError::IdentityReadEncrypted
        } else {
            EncryptionError::NoMatchingPrefix
        }))
    }
}

impl fmt::Debug for Transformer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for p in &self.providers {
            match p {
                ProviderTransformer::Identity => list.entry(&"identity"),
                ProviderTransformer::Aes { name, keys, .. } => {
                    let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
                    list.entry(&format!("{name}{names:?}"))
                }
            };
        }
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cbc(name: &str, len: usize, byte: u8) -> Key {
        Key::new(name, vec![byte; len])
    }

    fn t(providers: Vec<Provider>) -> Transformer {
        Transformer::new(&providers).unwrap()
    }

    const SECRET: &[u8] = br#"{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}"#;
    const CTX: &[u8] = b"/registry/secrets/default/db";

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn round_trips_with_both_providers_and_all_key_lengths() {
        for len in [16, 24, 32] {
            for (provider, prefix) in [
                (
                    Provider::AesCbc(vec![cbc("k1", len, 1)]),
                    "k8s:enc:aescbc:v1:k1:",
                ),
                (
                    Provider::AesGcm(vec![cbc("k1", len, 1)]),
                    "k8s:enc:aesgcm:v1:k1:",
                ),
            ] {
                let tr = t(vec![provider]);
                let stored = tr.encrypt(SECRET, CTX).unwrap();
                assert!(stored.starts_with(prefix.as_bytes()), "{len} {prefix}");
                assert!(!contains(&stored, b"password"));
                assert!(!contains(&stored, b"aHVudGVyMg=="));
                assert!(is_encrypted(&stored));
                let back = tr.decrypt(&stored, CTX).unwrap();
                assert_eq!(back.plain, SECRET);
                assert!(!back.stale);
            }
        }
    }

    #[test]
    fn gcm_binds_the_store_key_and_cbc_does_not() {
        let gcm = t(vec![Provider::AesGcm(vec![cbc("k", 32, 2)])]);
        let stored = gcm.encrypt(SECRET, CTX).unwrap();
        let err = gcm
            .decrypt(&stored, b"/registry/secrets/default/other")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"aesgcm key "k": cipher: message authentication failed"#
        );
        let cbc_t = t(vec![Provider::AesCbc(vec![cbc("k", 32, 2)])]);
        let stored = cbc_t.encrypt(SECRET, CTX).unwrap();
        assert_eq!(cbc_t.decrypt(&stored, b"elsewhere").unwrap().plain, SECRET);
    }

    #[test]
    fn rotation_reads_old_keys_as_stale_and_writes_the_new_one() {
        let old = t(vec![Provider::AesCbc(vec![cbc("old", 32, 1)])]);
        let old_value = old.encrypt(SECRET, CTX).unwrap();
        // Step 1: the new key is added second, then moved first.
        let rotated = t(vec![Provider::AesCbc(vec![
            cbc("new", 32, 9),
            cbc("old", 32, 1),
        ])]);
        let read = rotated.decrypt(&old_value, CTX).unwrap();
        assert_eq!(
            read,
            Decrypted {
                plain: SECRET.to_vec(),
                stale: true
            }
        );
        let rewritten = rotated.encrypt(&read.plain, CTX).unwrap();
        assert!(rewritten.starts_with(b"k8s:enc:aescbc:v1:new:"));
        assert!(!rotated.decrypt(&rewritten, CTX).unwrap().stale);
        assert_eq!(rotated.write_key(), Some(("aescbc", "new")));
        // Switching provider: gcm first, the old cbc key still reads.
        let switched = t(vec![
            Provider::AesGcm(vec![cbc("g", 32, 4)]),
            Provider::AesCbc(vec![cbc("old", 32, 1)]),
        ]);
        assert!(switched.decrypt(&old_value, CTX).unwrap().stale);
        assert!(
            switched
                .encrypt(SECRET, CTX)
                .unwrap()
                .starts_with(b"k8s:enc:aesgcm:v1:g:")
        );
        // Once the old key is gone, its values no longer read.
        let dropped = t(vec![Provider::AesCbc(vec![cbc("new", 32, 9)])]);
        assert_eq!(
            dropped.decrypt(&old_value, CTX).unwrap_err().to_string(),
            "no matching key was found for the provided aescbc transformer"
        );
    }

    #[test]
    fn identity_fallback_and_its_refusals() {
        let with_identity = t(vec![
            Provider::AesCbc(vec![cbc("k", 32, 1)]),
            Provider::Identity,
        ]);
        let read = with_identity.decrypt(SECRET, CTX).unwrap();
        assert_eq!(
            read,
            Decrypted {
                plain: SECRET.to_vec(),
                stale: true
            }
        );
        assert!(!with_identity.writes_plaintext());

        let without = t(vec![Provider::AesCbc(vec![cbc("k", 32, 1)])]);
        assert_eq!(
            without.decrypt(SECRET, CTX).unwrap_err().to_string(),
            "no matching prefix found"
        );

        // Turning encryption off: identity first writes plaintext, the old
        // key still reads (stale, so it gets rewritten in plaintext).
        let encrypted = without.encrypt(SECRET, CTX).unwrap();
        let off = t(vec![
            Provider::Identity,
            Provider::AesCbc(vec![cbc("k", 32, 1)]),
        ]);
        assert!(off.writes_plaintext());
        assert_eq!(off.write_key(), None);
        assert_eq!(off.encrypt(SECRET, CTX).unwrap(), SECRET);
        assert_eq!(
            off.decrypt(&encrypted, CTX).unwrap(),
            Decrypted {
                plain: SECRET.to_vec(),
                stale: true
            }
        );
        assert!(!off.decrypt(SECRET, CTX).unwrap().stale);

        // Identity alone refuses values some other provider encrypted.
        let identity = t(vec![Provider::Identity]);
        assert_eq!(
            identity.decrypt(&encrypted, CTX).unwrap_err().to_string(),
            "identity transformer tried to read encrypted data"
        );
    }

    #[test]
    fn wrong_keys_and_corruption_are_errors_not_panics() {
        let right = t(vec![Provider::AesGcm(vec![cbc("k", 32, 1)])]);
        let wrong = t(vec![Provider::AesGcm(vec![cbc("k", 32, 2)])]);
        let stored = right.encrypt(SECRET, CTX).unwrap();
        assert!(wrong.decrypt(&stored, CTX).is_err());
        let prefix_len = b"k8s:enc:aesgcm:v1:k:".len();
        for cut in [prefix_len, prefix_len + 5, stored.len() - 1] {
            assert!(right.decrypt(&stored[..cut], CTX).is_err(), "cut at {cut}");
        }
        let cbc_t = t(vec![Provider::AesCbc(vec![cbc("k", 16, 1)])]);
        let stored = cbc_t.encrypt(SECRET, CTX).unwrap();
        for cut in [b"k8s:enc:aescbc:v1:k:".len(), stored.len() - 3] {
            assert!(cbc_t.decrypt(&stored[..cut], CTX).is_err(), "cut at {cut}");
        }
        let mut flipped = stored.clone();
        let at = flipped.len() - 20;
        flipped[at] ^= 0xff;
        // CBC has no integrity check: a flipped byte garbles or fails, but
        // must never panic.
        let _ = cbc_t.decrypt(&flipped, CTX);
        assert!(cbc_t.decrypt(b"k8s:enc:aescbc:v1:other:xxxx", CTX).is_err());
        assert!(cbc_t.decrypt(b"", CTX).is_err());
    }

    #[test]
    fn keys_sharing_a_name_prefix_both_work() {
        let tr = t(vec![Provider::AesCbc(vec![
            cbc("a", 32, 1),
            cbc("a:b", 32, 2),
        ])]);
        let only_ab = t(vec![Provider::AesCbc(vec![cbc("a:b", 32, 2)])]);
        let stored = only_ab.encrypt(SECRET, CTX).unwrap();
        assert_eq!(
            tr.decrypt(&stored, CTX).unwrap(),
            Decrypted {
                plain: SECRET.to_vec(),
                stale: true
            }
        );
    }

    #[test]
    fn empty_provider_lists_are_rejected_and_debug_hides_secrets() {
        assert!(Transformer::new(&[]).is_err());
        assert!(Transformer::new(&[Provider::AesCbc(vec![])]).is_err());
        assert!(Transformer::new(&[Provider::AesCbc(vec![cbc("k", 7, 1)])]).is_err());
        let tr = t(vec![
            Provider::AesCbc(vec![cbc("k1", 32, 0x41)]),
            Provider::Identity,
        ]);
        assert_eq!(format!("{tr:?}"), r#"["aescbc[\"k1\"]", "identity"]"#);
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Transformer>();
    }
}

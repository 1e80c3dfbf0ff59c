//! What can go wrong reading an encryption configuration or transforming a
//! stored value.

use std::path::PathBuf;

use ironclad_api::validation::error::FieldError;

/// An error of the encryption-at-rest layer.
#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    /// The configuration file could not be read.
    #[error("error opening encryption provider configuration file {path:?}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration file is invalid.
    #[error("error while parsing encryption provider configuration file {path:?}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: Box<EncryptionError>,
    },
    /// The file is not YAML/JSON of the expected shape (with the field path
    /// of the first problem).
    #[error("error while parsing encryption provider configuration: {0}")]
    Parse(String),
    /// The configuration is well-formed but invalid (upstream's
    /// validation, one error per field).
    #[error("{}", aggregate(.0))]
    Invalid(Vec<FieldError>),
    /// A resource is already covered by a wildcard of an earlier entry.
    #[error("resource {resource:?} is masked by earlier rule {rule:?}")]
    Masked {
        /// The resource as written (`secrets`).
        resource: String,
        /// The earlier wildcard (`*.`, `*.*`, `*.apps`).
        rule: String,
    },
    /// The identity provider met a value with an encryption prefix whose
    /// provider is not configured.
    #[error("identity transformer tried to read encrypted data")]
    IdentityReadEncrypted,
    /// No provider's prefix matches the stored value (and identity is not
    /// configured to read plaintext).
    #[error("no matching prefix found")]
    NoMatchingPrefix,
    /// The provider matches but none of its keys is named in the value.
    #[error("no matching key was found for the provided {provider} transformer")]
    NoMatchingKey {
        /// `aescbc` or `aesgcm`.
        provider: &'static str,
    },
    /// Decryption with the named key failed: wrong key, wrong store key
    /// (GCM), or corrupt data.
    #[error("{provider} key {key:?}: {reason}")]
    Decrypt {
        /// `aescbc` or `aesgcm`.
        provider: &'static str,
        /// The key's name.
        key: String,
        /// What failed.
        reason: &'static str,
    },
    /// Encryption (or setting up a key) failed in the crypto library.
    #[error("{provider} key {key:?}: {reason}")]
    Encrypt {
        /// `aescbc` or `aesgcm`.
        provider: &'static str,
        /// The key's name.
        key: String,
        /// What failed.
        reason: &'static str,
    },
}

/// Upstream's aggregate: one error as itself, several in brackets.
fn aggregate(errors: &[FieldError]) -> String {
    match errors {
        [one] => one.to_string(),
        many => {
            let all: Vec<String> = many.iter().map(ToString::to_string).collect();
            format!("[{}]", all.join(", "))
        }
    }
}

//! The encryption configuration: which resources are stored encrypted,
//! by which providers and keys (upstream's `--encryption-provider-config`,
//! apiserver.config.k8s.io/v1 `EncryptionConfiguration`).

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::EncryptionError;
use super::transformers::Transformers;
use super::validation::validate;
use super::wire::FileConfig;

/// The configuration's `apiVersion`.
pub const API_VERSION: &str = "apiserver.config.k8s.io/v1";
/// The configuration's `kind`.
pub const KIND: &str = "EncryptionConfiguration";
/// The name of the key [`EncryptionConfig::default_for_key`] uses.
pub const DEFAULT_KEY_NAME: &str = "ironclad-1";

/// A validated encryption configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionConfig {
    /// The entries, in the file's order.
    pub resources: Vec<ResourceConfig>,
}

/// One entry: resources and the providers that store them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceConfig {
    /// `secrets`, `deployments.apps`, `*.apps`, `*.` (all core), `*.*`.
    pub resources: Vec<String>,
    /// The first provider writes; every provider reads.
    pub providers: Vec<Provider>,
}

/// A provider of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// AES-CBC with PKCS#7 padding; the first key encrypts.
    AesCbc(Vec<Key>),
    /// AES-GCM with the store key as additional data; the first key
    /// encrypts.
    AesGcm(Vec<Key>),
    /// Plaintext: writes unencrypted, reads values without an encryption
    /// prefix.
    Identity,
}

impl Provider {
    /// The provider's name in the file and in stored values (`aescbc`,
    /// `aesgcm`, `identity`).
    pub fn name(&self) -> &'static str {
        match self {
            Provider::AesCbc(_) => "aescbc",
            Provider::AesGcm(_) => "aesgcm",
            Provider::Identity => "identity",
        }
    }
}

/// A named AES key (16, 24 or 32 bytes). Debug output hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    /// The name written into every value it encrypts.
    pub name: String,
    /// The key bytes.
    pub secret: Vec<u8>,
}

impl Key {
    /// A key.
    pub fn new(name: &str, secret: Vec<u8>) -> Key {
        Key {
            name: name.to_string(),
            secret,
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name)
            .field("secret", &"REDACTED")
            .finish()
    }
}

impl EncryptionConfig {
    /// Reads a configuration from YAML or JSON text, validated as upstream
    /// validates it; unknown fields are errors (upstream decodes strictly).
    pub fn from_yaml(text: &str) -> Result<EncryptionConfig, EncryptionError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(EncryptionError::Parse(
                "the configuration is empty".to_string(),
            ));
        }
        let file: FileConfig = if trimmed.starts_with('{') {
            serde_json::from_str(trimmed).map_err(|e| EncryptionError::Parse(e.to_string()))?
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| EncryptionError::Parse(e.to_string()))?
        };
        validate(file)
    }

    /// Reads a configuration file (`--encryption-provider-config`).
    pub fn from_file(path: &Path) -> Result<EncryptionConfig, EncryptionError> {
        let text = std::fs::read_to_string(path).map_err(|source| EncryptionError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        EncryptionConfig::from_yaml(&text).map_err(|e| EncryptionError::File {
            path: PathBuf::from(path),
            source: Box::new(e),
        })
    }

    /// What ironclad uses when no file is given: secrets encrypted with
    /// AES-CBC under the key [`DEFAULT_KEY_NAME`], and identity as a read
    /// fallback so secrets stored before encryption was on stay readable
    /// (and are rewritten encrypted on their next write).
    pub fn default_for_key(key: &[u8; 32]) -> EncryptionConfig {
        EncryptionConfig {
            resources: vec![ResourceConfig {
                resources: vec!["secrets".to_string()],
                providers: vec![
                    Provider::AesCbc(vec![Key::new(DEFAULT_KEY_NAME, key.to_vec())]),
                    Provider::Identity,
                ],
            }],
        }
    }

    /// The transformers of every configured resource.
    pub fn transformers(&self) -> Result<Transformers, EncryptionError> {
        Transformers::new(self)
    }
}

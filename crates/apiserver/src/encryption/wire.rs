//! The configuration file as written (apiserver.config.k8s.io/v1
//! `EncryptionConfiguration`), decoded strictly: unknown fields are errors,
//! as upstream's strict decoding makes them. `config` validates it.

use serde::Deserialize;

use crate::go_json::nullable;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct FileConfig {
    /// `EncryptionConfiguration`.
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// `apiserver.config.k8s.io/v1`.
    #[serde(default, deserialize_with = "nullable")]
    pub api_version: String,
    /// The entries, in order.
    #[serde(default, deserialize_with = "nullable")]
    pub resources: Vec<FileResource>,
}

/// One entry: resources and the providers that store them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileResource {
    /// `secrets`, `deployments.apps`, `*.apps`, `*.`, `*.*`.
    #[serde(default, deserialize_with = "nullable")]
    pub resources: Vec<String>,
    /// The first writes; all read.
    #[serde(default, deserialize_with = "nullable")]
    pub providers: Vec<FileProvider>,
}

/// One provider; exactly one field must be set.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileProvider {
    /// AES-GCM keys.
    #[serde(default)]
    pub aesgcm: Option<FileKeys>,
    /// AES-CBC keys.
    #[serde(default)]
    pub aescbc: Option<FileKeys>,
    /// XSalsa20-Poly1305 keys (not supported by ironclad).
    #[serde(default)]
    pub secretbox: Option<FileKeys>,
    /// Plaintext.
    #[serde(default)]
    pub identity: Option<FileIdentity>,
    /// A KMS plugin (not supported by ironclad; any content).
    #[serde(default)]
    pub kms: Option<serde_json::Value>,
}

impl FileProvider {
    /// The names of the fields that are set, in upstream's order.
    pub fn set_fields(&self) -> Vec<&'static str> {
        let mut set = Vec::new();
        if self.kms.is_some() {
            set.push("kms");
        }
        if self.aesgcm.is_some() {
            set.push("aesgcm");
        }
        if self.aescbc.is_some() {
            set.push("aescbc");
        }
        if self.secretbox.is_some() {
            set.push("secretbox");
        }
        if self.identity.is_some() {
            set.push("identity");
        }
        set
    }
}

/// A keyed provider's keys (upstream's `AESConfiguration`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileKeys {
    /// The first encrypts; all decrypt.
    #[serde(default, deserialize_with = "nullable")]
    pub keys: Vec<FileKey>,
}

/// One named key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileKey {
    /// The name written into every value it encrypts.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The key, base64.
    #[serde(default, deserialize_with = "nullable")]
    pub secret: String,
}

/// `identity: {}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileIdentity {}

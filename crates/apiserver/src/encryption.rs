//! Encryption at rest: which resources the store keeps encrypted and how
//! (upstream's `--encryption-provider-config`, an
//! apiserver.config.k8s.io/v1 `EncryptionConfiguration`).
//!
//! [`EncryptionConfig`] reads and validates the file (or
//! [`EncryptionConfig::default_for_key`] makes ironclad's default: secrets
//! under AES-CBC). [`Transformers`] gives each resource its
//! [`Transformer`], which encrypts every value written with the first
//! provider's first key and decrypts values written by any configured
//! provider and key, reporting [`Decrypted::stale`] ones so the server can
//! rewrite them.
//!
//! Key rotation as upstream documents it: add the new key second and
//! restart every server; move it first and restart again; rewrite every
//! secret (`kubectl get secrets -A -o json | kubectl replace -f -`); then
//! drop the old key.

mod aescbc;
mod aesgcm;
mod config;
mod error;
mod group_resource;
mod transformer;
mod transformers;
mod validation;
mod wire;

pub use config::{
    API_VERSION, DEFAULT_KEY_NAME, EncryptionConfig, KIND, Key, Provider, ResourceConfig,
};
pub use error::EncryptionError;
pub use transformer::{Decrypted, ENCRYPTED_PREFIX, Transformer, is_encrypted};
pub use transformers::Transformers;

#[cfg(test)]
mod config_tests;

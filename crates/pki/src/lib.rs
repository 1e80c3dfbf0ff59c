//! The cluster's PKI: the certificate authority, serving and client
//! certificates, the service-account signing key, join tokens, the secrets
//! every server of a cluster shares (sealed with the join token), the
//! on-disk layout under `DATA_DIR/pki`, and kubeconfig files.
//!
//! Keys: ECDSA P-256 for the CA and leaf certificates, RSA 2048 for the
//! service-account token signing key (tokens are RS256, as upstream).

mod ca;
mod cert_info;
mod clock;
mod cluster_secrets;
mod csr;
mod der;
mod error;
mod files;
pub mod identities;
mod issue_user;
mod join_token;
mod kubeconfig;
mod leaf;
mod pem;
mod pki_dir;
mod random;
mod service_account;
mod serving;
mod usage;

pub use ca::Ca;
pub use cert_info::CertInfo;
pub use clock::CLOCK_SKEW;
pub use cluster_secrets::{CA_COMMON_NAME, CA_VALIDITY, ClusterSecrets};
pub use error::{Error, Result};
pub use files::{PRIVATE_MODE, PUBLIC_MODE, write_private, write_public};
pub use identities::ClientIdentity;
pub use issue_user::{DEFAULT_CLUSTER_NAME, issue_user};
pub use join_token::JoinToken;
pub use kubeconfig::{
    Credential, Kubeconfig, ca_of_kubeconfig, cluster_name_of_kubeconfig, server_of_kubeconfig,
};
pub use leaf::{Issued, LeafSpec};
pub use pki_dir::{Ensured, LEAF_VALIDITY, PkiDir, SERVING_STEM};
pub use service_account::ServiceAccountKey;
pub use serving::{KUBERNETES_DNS_NAMES, SERVING_COMMON_NAME, ServingSpec, serving_spec};
pub use usage::Usage;

//! The one error type of this crate.

use std::path::PathBuf;

/// What can go wrong while making, reading or storing the cluster's keys and
/// certificates. Messages name the file or the object that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Generating a key or signing a certificate failed.
    #[error("cannot {what}: {reason}")]
    Crypto {
        /// What was being done, e.g. "generate the CA key".
        what: &'static str,
        /// Why it failed.
        reason: String,
    },

    /// A certificate (PEM or DER) could not be read.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),

    /// A private or public key could not be read.
    #[error("invalid key: {0}")]
    InvalidKey(String),

    /// The private key does not belong to the certificate it was paired with.
    #[error("the private key does not match the certificate's public key")]
    KeyMismatch,

    /// The certificate given as a CA cannot sign certificates.
    #[error("the certificate {0:?} is not a CA certificate")]
    NotCa(String),

    /// A leaf certificate request was not acceptable (empty name, bad SAN...).
    #[error("invalid certificate request: {0}")]
    InvalidSpec(String),

    /// A PKCS#10 certificate signing request was refused.
    #[error("invalid certificate signing request: {0}")]
    InvalidCsr(String),

    /// A join token does not have the bootstrap-token form.
    #[error("invalid join token: must be of the form \"[a-z0-9]{{6}}.[a-z0-9]{{16}}\"")]
    InvalidToken,

    /// Sealed cluster secrets did not authenticate under the given token.
    #[error("cannot open the cluster secrets: wrong join token (or the sealed data was altered)")]
    WrongToken,

    /// Sealed cluster secrets are not in the expected format at all.
    #[error("sealed cluster secrets are malformed: {0}")]
    MalformedSealed(String),

    /// A file or directory operation failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// The operation, e.g. "read", "write", "rename".
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file exists but its content is unusable.
    #[error("{path}: {source}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with its content.
        #[source]
        source: Box<Error>,
    },

    /// A file holds something this crate does not understand.
    #[error("{path}: {reason}")]
    InvalidFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Some, but not all, of the shared cluster secrets are on disk.
    #[error("incomplete cluster secrets in {dir}: missing {missing}")]
    PartialSecrets {
        /// The `pki` directory.
        dir: PathBuf,
        /// The missing file names, comma separated.
        missing: String,
    },

    /// The data directory has no cluster CA yet.
    #[error("no cluster CA in {pki_dir}: start `ironclad server --data-dir {data_dir}` first")]
    NoCa {
        /// The `pki` directory that was searched.
        pki_dir: PathBuf,
        /// The data directory given by the user.
        data_dir: PathBuf,
    },

    /// A kubeconfig could not be made or read.
    #[error("kubeconfig{}: {reason}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Kubeconfig {
        /// The kubeconfig file, when reading one.
        path: Option<PathBuf>,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// A [`Error::Crypto`] from any displayable cause.
    pub(crate) fn crypto(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Crypto {
            what,
            reason: reason.to_string(),
        }
    }

    /// Wraps this error with the file it came from.
    pub(crate) fn in_file(self, path: impl Into<PathBuf>) -> Self {
        Error::InFile {
            path: path.into(),
            source: Box::new(self),
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

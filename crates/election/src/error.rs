//! The election's one error type.

use std::time::Duration;

/// What can go wrong running or using an election.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The [`crate::ElectionConfig`] cannot work (see its `validate`).
    #[error("invalid election config: {0}")]
    InvalidConfig(String),
    /// A fencing guard was asked for while this candidate does not lead.
    #[error("not the leader of election key {key:?}")]
    NotLeader {
        /// The election key, lossily as text.
        key: String,
    },
    /// The store refused or failed a request.
    #[error("store error while {during}: {source}")]
    Store {
        /// What the election was doing.
        during: &'static str,
        /// The store's error.
        #[source]
        source: ironclad_store::Error,
    },
    /// The store did not answer in time.
    #[error("store did not answer within {timeout:?} while {during}")]
    Timeout {
        /// What the election was doing.
        during: &'static str,
        /// How long it waited.
        timeout: Duration,
    },
}

impl Error {
    /// Wraps a store error with what the election was doing.
    pub(crate) fn store(during: &'static str) -> impl FnOnce(ironclad_store::Error) -> Error {
        move |source| Error::Store { during, source }
    }

    /// Whether retrying cannot help: the store refuses the request itself
    /// (a bad key, a value too large, a data format it cannot read), as
    /// opposed to being unreachable or slow, which the election rides out.
    pub fn is_fatal(&self) -> bool {
        use ironclad_store::Error as S;
        match self {
            Error::InvalidConfig(_) => true,
            Error::NotLeader { .. } | Error::Timeout { .. } => false,
            Error::Store { source, .. } => matches!(
                source,
                S::InvalidRequest(_) | S::ValueTooLarge { .. } | S::UnsupportedFormat { .. }
            ),
        }
    }
}

/// Result with the election's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs a store call with a timeout, mapping both failures to [`Error`].
pub(crate) async fn call<T>(
    during: &'static str,
    timeout: Duration,
    fut: impl Future<Output = ironclad_store::Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r.map_err(Error::store(during)),
        Err(_) => Err(Error::Timeout { during, timeout }),
    }
}

//! Errors every backend reports in the same terms.

use crate::Revision;

/// What can go wrong talking to a store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The revision asked for (a read or a watch start) was compacted away.
    #[error("revision {requested} has been compacted; the oldest available is {compact_revision}")]
    Compacted {
        /// The revision that was asked for.
        requested: Revision,
        /// The store's compaction point: history from here on is available.
        compact_revision: Revision,
    },
    /// A read at a revision the store has not reached yet.
    #[error("revision {requested} is in the future; the current revision is {current}")]
    FutureRevision {
        /// The revision that was asked for.
        requested: Revision,
        /// The store's current revision.
        current: Revision,
    },
    /// A value over the size limit (see [`crate::MAX_VALUE_SIZE`]).
    #[error("value of {size} bytes for key {key:?} is over the limit of {limit} bytes")]
    ValueTooLarge {
        /// The key, lossily as text.
        key: String,
        /// The value's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The lease does not exist, or has expired or been revoked.
    #[error("lease {0:x} not found (expired or revoked)")]
    LeaseNotFound(i64),
    /// The request is malformed (an empty key, a bad range, a bad TTL...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The on-disk data was written by a newer, unknown format.
    #[error(
        "data directory {path} has format version {found}, newer than this binary's {supported}; upgrade ironclad"
    )]
    UnsupportedFormat {
        /// The data file.
        path: String,
        /// The version found on disk.
        found: u64,
        /// The newest version this build reads.
        supported: u64,
    },
    /// The store is closed, stopped, or cannot be reached.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The backend failed (I/O, the engine, the network).
    #[error("store backend error: {message}")]
    Backend {
        /// What the backend said.
        message: String,
        /// The underlying error, where there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// A backend error wrapping its cause.
    pub fn backend(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Backend {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// Result with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! Why a patch could not be applied.

/// A patch that could not be applied. [`PatchError::http_status`] gives
/// the status upstream's API server answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The body is not well-formed JSON (or YAML) of the expected shape:
    /// upstream answers 400 Bad Request.
    #[error("{0}")]
    Malformed(String),
    /// The patch is well-formed but cannot be applied (not an object, a bad
    /// `$patch` directive, a merge key missing, too large): 422.
    #[error("{0}")]
    InvalidPatch(String),
    /// A JSON patch `test` operation found another value: 422.
    #[error("testing value {path} failed: test failed")]
    TestFailed {
        /// The JSON pointer the operation tested.
        path: String,
    },
    /// A JSON patch operation named a location that does not exist: 422.
    #[error("{op} operation does not apply: doc is missing path: {path}: missing value")]
    PathNotFound {
        /// The operation (`replace`, `remove`, `move`, ...).
        op: String,
        /// The JSON pointer that was missing.
        path: String,
    },
}

impl PatchError {
    /// The HTTP status upstream's API server answers for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            PatchError::Malformed(_) => 400,
            _ => 422,
        }
    }
}

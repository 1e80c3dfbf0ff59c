//! What can go wrong loading an audit policy or opening the audit log.

use std::path::PathBuf;

use ironclad_api::validation::error::FieldError;

/// An error of the audit layer.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The policy file could not be read.
    #[error("failed to read file path {path:?}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The policy file is invalid.
    #[error("{source}: from file {}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: Box<AuditError>,
    },
    /// The policy is not YAML/JSON of the expected shape.
    #[error("failed decoding: {0}")]
    Parse(String),
    /// The policy's `apiVersion` or `kind` is not audit.k8s.io/v1 `Policy`.
    #[error("unknown group version field {0} in policy")]
    UnknownVersion(String),
    /// The policy is well-formed but invalid (upstream's validation).
    #[error("{}", aggregate(.0))]
    Invalid(Vec<FieldError>),
    /// The policy has no rules.
    #[error("loaded illegal policy with 0 rules")]
    NoRules,
    /// The log file could not be opened.
    #[error("cannot open audit log {path:?}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
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

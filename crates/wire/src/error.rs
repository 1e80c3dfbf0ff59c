//! Why a request body could not be decoded; every message is meant to be shown to the
//! client as the message of a 400 BadRequest Status.

/// A request body that could not be turned into a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The body is not valid JSON (serde_json's message and position).
    #[error("invalid JSON at line {line} column {column}: {message}")]
    Json {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What went wrong, without the position.
        message: String,
    },
    /// The body is not valid YAML, or not exactly one YAML document.
    #[error("invalid YAML: {0}")]
    Yaml(String),
    /// The body parsed, but its top level is not an object.
    #[error("{format} body must be an object, found {found}")]
    NotAnObject {
        /// `JSON` or `YAML`.
        format: &'static str,
        /// What the top level is instead: `an array`, `a string`, ...
        found: &'static str,
    },
    /// A protobuf body that does not start with the 4-byte `k8s\0` magic.
    #[error("protobuf body: missing k8s\\0 magic")]
    MissingMagic,
    /// The protobuf envelope or the object inside it is not valid protobuf.
    #[error("protobuf body: cannot decode {what}: {message}")]
    Protobuf {
        /// What was being decoded: `the runtime.Unknown envelope`, `apps/v1 Deployment`.
        what: String,
        /// prost's description of the problem.
        message: String,
    },
    /// The envelope is valid but unusable (no kind, compressed, another content type).
    #[error("protobuf body: {0}")]
    Envelope(String),
    /// The envelope names a kind this server cannot decode from protobuf.
    #[error("protobuf body: unsupported kind {api_version} {kind}")]
    UnsupportedKind {
        /// The envelope's apiVersion.
        api_version: String,
        /// The envelope's kind.
        kind: String,
    },
    /// A field decoded but its value has no JSON form (a timestamp out of range,
    /// `fieldsV1` that is not JSON, a NaN).
    #[error("protobuf body: {path}: {message}")]
    InvalidValue {
        /// JSON path of the field, e.g. `metadata.managedFields[0].fieldsV1`.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}

impl WireError {
    /// An [`WireError::InvalidValue`] at the current field (its path is filled in by the
    /// callers on the way out).
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        WireError::InvalidValue {
            path: String::new(),
            message: message.into(),
        }
    }

    /// Prefixes the path of an [`WireError::InvalidValue`] with the field or index it was
    /// found under; `segment` is a field name or `[i]`.
    pub(crate) fn within(self, segment: &str) -> Self {
        match self {
            WireError::InvalidValue { path, message } => {
                let path = if path.is_empty() {
                    segment.to_owned()
                } else if path.starts_with('[') {
                    format!("{segment}{path}")
                } else {
                    format!("{segment}.{path}")
                };
                WireError::InvalidValue { path, message }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WireError;

    #[test]
    fn messages_read_well_in_a_bad_request() {
        assert_eq!(
            WireError::MissingMagic.to_string(),
            "protobuf body: missing k8s\\0 magic"
        );
        let e = WireError::UnsupportedKind {
            api_version: "apps/v1".into(),
            kind: "StatefulSet".into(),
        };
        assert_eq!(
            e.to_string(),
            "protobuf body: unsupported kind apps/v1 StatefulSet"
        );
    }

    #[test]
    fn paths_are_built_from_the_inside_out() {
        let e = WireError::invalid("not JSON")
            .within("fieldsV1")
            .within("[0]")
            .within("managedFields")
            .within("metadata");
        assert_eq!(
            e.to_string(),
            "protobuf body: metadata.managedFields[0].fieldsV1: not JSON"
        );
    }
}

//! Which decoder a request's Content-Type selects.

/// The encodings a create/update body may arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyFormat {
    /// `application/json` (also a request without Content-Type).
    Json,
    /// `application/yaml`.
    Yaml,
    /// `application/vnd.kubernetes.protobuf`: the `k8s\0` envelope kubectl 1.32+ sends.
    Protobuf,
}

impl BodyFormat {
    /// The media type this format is named by.
    pub fn media_type(self) -> &'static str {
        match self {
            BodyFormat::Json => "application/json",
            BodyFormat::Yaml => "application/yaml",
            BodyFormat::Protobuf => "application/vnd.kubernetes.protobuf",
        }
    }
}

/// The body format a Content-Type header names, ignoring parameters (`; charset=utf-8`)
/// and case. No header (or an empty one) means JSON, as upstream assumes. `None` for any
/// other media type (the caller answers 415); patch media types are not bodies of this
/// kind and also give `None`.
pub fn format_of(content_type: Option<&str>) -> Option<BodyFormat> {
    let Some(content_type) = content_type else {
        return Some(BodyFormat::Json);
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence.is_empty() {
        return Some(BodyFormat::Json);
    }
    [BodyFormat::Json, BodyFormat::Yaml, BodyFormat::Protobuf]
        .into_iter()
        .find(|f| f.media_type().eq_ignore_ascii_case(essence))
}

#[cfg(test)]
mod tests {
    use super::{BodyFormat, format_of};

    #[test]
    fn media_types_ignore_parameters_and_case() {
        assert_eq!(format_of(None), Some(BodyFormat::Json));
        assert_eq!(format_of(Some("")), Some(BodyFormat::Json));
        assert_eq!(format_of(Some("application/json")), Some(BodyFormat::Json));
        assert_eq!(
            format_of(Some("Application/JSON; charset=utf-8")),
            Some(BodyFormat::Json)
        );
        assert_eq!(format_of(Some("application/yaml")), Some(BodyFormat::Yaml));
        assert_eq!(
            format_of(Some(" application/vnd.kubernetes.protobuf ;x=y")),
            Some(BodyFormat::Protobuf)
        );
    }

    #[test]
    fn other_media_types_are_unsupported() {
        for ct in [
            "text/plain",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/json-patch+json",
            "application/apply-patch+yaml",
            "application/x-yaml",
            "*/*",
        ] {
            assert_eq!(format_of(Some(ct)), None, "{ct}");
        }
    }
}

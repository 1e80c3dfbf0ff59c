//! Request bodies as Kubernetes clients send them — JSON, YAML, and the Kubernetes
//! protobuf envelope kubectl 1.32+ uses for `create` — decoded to the JSON object the
//! API server stores. No I/O.

mod error;
mod json;
mod media;
pub mod protobuf;
mod yaml;

pub use error::WireError;
pub use json::duplicate_fields;
pub use media::{BodyFormat, format_of};

/// Decodes a request body to a JSON object. JSON and YAML bodies must have an object at
/// the top level (YAML: exactly one document); a protobuf body becomes the JSON Go
/// would write for the same object (see [`protobuf::decode`]).
pub fn decode(format: BodyFormat, body: &[u8]) -> Result<serde_json::Value, WireError> {
    match format {
        BodyFormat::Json => json::decode(body),
        BodyFormat::Yaml => yaml::decode(body),
        BodyFormat::Protobuf => protobuf::decode(body),
    }
}

//! Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`): the 4-byte magic
//! `k8s\0`, then a `runtime.Unknown` whose typeMeta names the object's apiVersion and
//! kind and whose `raw` is the object's own protobuf message. kubectl 1.32+ sends its
//! `create` bodies and the auth reviews this way.

#[cfg(test)]
mod fill;
mod kinds;
mod messages;
mod special;
mod table;
mod to_json;
#[cfg(test)]
mod typed_check;

use k8s_pb::apimachinery::pkg::runtime::Unknown;
use prost::Message;
use serde_json::{Map, Value};

use crate::WireError;

/// The bytes every Kubernetes protobuf body starts with.
pub const MAGIC: &[u8] = b"k8s\0";

/// Decodes a protobuf body to the JSON object Go's `encoding/json` would write for the
/// same object (what kubectl 1.31 sent as JSON), with `apiVersion` and `kind` taken
/// from the envelope. Zero-valued fields Go's JSON leaves out (`omitempty`) are left
/// out, and so is the zero `creationTimestamp` Go writes as `null`.
pub fn decode(body: &[u8]) -> Result<Value, WireError> {
    let raw_envelope = body.strip_prefix(MAGIC).ok_or(WireError::MissingMagic)?;
    let envelope = Unknown::decode(raw_envelope).map_err(|e| WireError::Protobuf {
        what: "the runtime.Unknown envelope".into(),
        message: e.to_string(),
    })?;
    let type_meta = envelope.type_meta.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    if kind.is_empty() {
        return Err(WireError::Envelope("the envelope names no kind".into()));
    }
    if let Some(encoding) = envelope.content_encoding.filter(|e| !e.is_empty()) {
        return Err(WireError::Envelope(format!(
            "unsupported content encoding {encoding:?}"
        )));
    }
    if let Some(content_type) = envelope.content_type.filter(|t| {
        !t.is_empty() && !t.eq_ignore_ascii_case(crate::BodyFormat::Protobuf.media_type())
    }) {
        return Err(WireError::Envelope(format!(
            "unsupported content type {content_type:?} inside the envelope"
        )));
    }
    let Some(decoder) = table::find(&api_version, &kind) else {
        return Err(WireError::UnsupportedKind { api_version, kind });
    };
    let fields =
        (decoder.decode)(envelope.raw.as_deref().unwrap_or_default()).map_err(|e| match e {
            WireError::Protobuf { message, .. } => WireError::Protobuf {
                what: format!("{api_version} {kind}"),
                message,
            },
            other => other,
        })?;
    let mut object = Map::new();
    object.insert("apiVersion".into(), Value::String(api_version));
    object.insert("kind".into(), Value::String(kind));
    object.extend(fields);
    Ok(Value::Object(object))
}

/// The (apiVersion, kind) pairs [`decode`] accepts. `DeleteOptions` is also accepted
/// under any other apiVersion, as upstream registers it in every group version.
pub fn supported_kinds() -> &'static [(&'static str, &'static str)] {
    kinds::NAMES
}

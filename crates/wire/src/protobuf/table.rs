//! The (apiVersion, kind) → decoder table that `kinds.rs` fills in.

use prost::Message;
use serde_json::{Map, Value};

use super::to_json::ToJson;
use crate::WireError;

/// Decodes the `raw` bytes of an envelope into the object's fields.
pub(crate) type DecodeFn = fn(&[u8]) -> Result<Map<String, Value>, WireError>;

/// How to turn the `raw` bytes of an envelope naming one kind into JSON fields.
pub(crate) struct Kind {
    /// The apiVersion the envelope must name.
    pub(crate) api_version: &'static str,
    /// The kind the envelope must name.
    pub(crate) kind: &'static str,
    /// Decodes `raw` into the object's fields (without apiVersion and kind).
    pub(crate) decode: DecodeFn,
}

/// Decodes `raw` as the prost message `T` and converts it.
pub(crate) fn decode_as<T: Message + Default + ToJson>(
    raw: &[u8],
) -> Result<Map<String, Value>, WireError> {
    let message = T::decode(raw).map_err(|e| WireError::Protobuf {
        what: String::new(),
        message: e.to_string(),
    })?;
    match message.to_json()? {
        Value::Object(fields) => Ok(fields),
        _ => Err(WireError::invalid("the object is not a JSON object")),
    }
}

/// Test-only: the encoding of `T` with every field set.
#[cfg(test)]
pub(crate) fn sample<T: Message + super::fill::Fill>() -> Vec<u8> {
    T::fill(0).encode_to_vec()
}

/// Builds `KINDS` (the decoders) and `NAMES` (the list `supported_kinds` returns) from
/// `resource <prost type>` entries, whose apiVersion and kind come from k8s-pb's
/// `Resource` impl, followed by `"apiVersion", "Kind" => <prost type>` entries for
/// bodies that are not resources (TokenRequest, Eviction, DeleteOptions, ...).
macro_rules! kinds {
    (
        $(resource $resource:ty,)*
        $($api_version:literal, $kind:literal => $other:ty,)*
    ) => {
        /// Every kind a protobuf body may carry.
        pub(crate) const KINDS: &[$crate::protobuf::table::Kind] = &[
            $($crate::protobuf::table::Kind {
                api_version: <$resource as k8s_pb::Resource>::API_VERSION,
                kind: <$resource as k8s_pb::Resource>::KIND,
                decode: $crate::protobuf::table::decode_as::<$resource>,
            },)*
            $($crate::protobuf::table::Kind {
                api_version: $api_version,
                kind: $kind,
                decode: $crate::protobuf::table::decode_as::<$other>,
            },)*
        ];

        /// Test-only: an encoded message of each entry of `KINDS` with every field set.
        #[cfg(test)]
        pub(crate) const SAMPLES: &[fn() -> Vec<u8>] = &[
            $($crate::protobuf::table::sample::<$resource>,)*
            $($crate::protobuf::table::sample::<$other>,)*
        ];

        /// (apiVersion, kind) of every entry of `KINDS`, in the same order.
        pub(crate) const NAMES: &[(&str, &str)] = &[
            $((
                <$resource as k8s_pb::Resource>::API_VERSION,
                <$resource as k8s_pb::Resource>::KIND,
            ),)*
            $(($api_version, $kind),)*
        ];
    };
}
pub(crate) use kinds;

/// The decoder for an envelope's apiVersion and kind. DeleteOptions is registered in
/// every group version upstream, so it is accepted under any apiVersion.
pub(crate) fn find(api_version: &str, kind: &str) -> Option<&'static Kind> {
    let kinds = super::kinds::KINDS;
    kinds
        .iter()
        .find(|k| k.api_version == api_version && k.kind == kind)
        .or_else(|| {
            (kind == "DeleteOptions")
                .then(|| kinds.iter().find(|k| k.kind == "DeleteOptions"))
                .flatten()
        })
}

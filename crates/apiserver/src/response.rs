//! Building responses: JSON bodies, and the representation a client asked
//! for in `Accept` (a plain object, a server-side printed Table, or
//! PartialObjectMetadata), with objects in the form of the API the client
//! called (events.k8s.io/v1 Events are stored as core/v1 Events).

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use ironclad_api::ResourceInfo;
use ironclad_api::conversion;
use ironclad_printers::IncludeObject;
use serde_json::{Value, json};

use crate::request::Params;

/// A JSON response.
pub fn json(code: StatusCode, body: &Value) -> Response {
    json_as(code, "application/json", body)
}

/// A JSON response with a given content type.
pub fn json_as(code: StatusCode, content_type: &'static str, body: &Value) -> Response {
    let mut bytes = serde_json::to_vec(body).unwrap_or_default();
    bytes.push(b'\n');
    json_bytes(code, content_type, bytes)
}

/// A response of already serialized JSON (ending in a newline, as
/// upstream's encoder writes every body).
pub fn json_bytes(code: StatusCode, content_type: &'static str, bytes: Vec<u8>) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        bytes,
    )
        .into_response()
}

/// What shape the client wants objects in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The object (or list) itself.
    Plain,
    /// A `meta.k8s.io/v1` Table.
    Table(IncludeObject),
    /// PartialObjectMetadata(List).
    Metadata,
}

/// Reads the shape from `Accept`: the first acceptable entry wins, as
/// upstream negotiates (`application/json;as=Table;v=v1;g=meta.k8s.io,
/// application/json` means a Table).
pub fn shape(headers: &HeaderMap, params: &Params) -> Shape {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Shape::Plain;
    };
    for entry in accept.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        let (mut as_, mut g, mut v) = (None, None, None);
        for p in parts {
            if let Some((k, val)) = p.split_once('=') {
                match k.trim() {
                    "as" => as_ = Some(val.trim()),
                    "g" => g = Some(val.trim()),
                    "v" => v = Some(val.trim()),
                    _ => {}
                }
            }
        }
        let json_like = matches!(
            media,
            "application/json" | "application/vnd.kubernetes.protobuf" | "*/*" | "application/*"
        );
        if !json_like {
            continue;
        }
        match (as_, g, v) {
            (None, _, _) => return Shape::Plain,
            (Some("Table"), Some("meta.k8s.io"), Some("v1" | "v1beta1")) => {
                let include = match params.include_object.as_deref() {
                    Some("None") => IncludeObject::None,
                    Some("Object") => IncludeObject::Object,
                    _ => IncludeObject::Metadata,
                };
                return Shape::Table(include);
            }
            (
                Some("PartialObjectMetadata" | "PartialObjectMetadataList"),
                Some("meta.k8s.io"),
                Some("v1" | "v1beta1"),
            ) => return Shape::Metadata,
            _ => continue,
        }
    }
    Shape::Plain
}

/// One object as PartialObjectMetadata.
pub fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// Renders a list in the requested shape, its items in `info`'s form.
pub fn render_list(
    info: &ResourceInfo,
    shape: Shape,
    items: Vec<Value>,
    list_meta: Value,
) -> Value {
    let items: Vec<Value> = items
        .into_iter()
        .map(|o| conversion::to_served(info, o))
        .collect();
    match shape {
        Shape::Plain => json!({
            "kind": info.list_kind(),
            "apiVersion": info.api_version(),
            "metadata": list_meta,
            "items": items,
        }),
        Shape::Table(include) => {
            let mut t = ironclad_printers::table(info, &items, include, chrono::Utc::now());
            t["metadata"] = list_meta;
            t
        }
        Shape::Metadata => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": list_meta,
            "items": items.iter().map(partial_metadata).collect::<Vec<_>>(),
        }),
    }
}

/// Renders one object in the requested shape, in `info`'s form.
pub fn render_object(info: &ResourceInfo, shape: Shape, obj: Value) -> Value {
    let obj = conversion::to_served(info, obj);
    match shape {
        Shape::Plain => obj,
        Shape::Table(include) => {
            let rv = obj
                .get("metadata")
                .and_then(|m| m.get("resourceVersion"))
                .cloned();
            let mut t = ironclad_printers::table(
                info,
                std::slice::from_ref(&obj),
                include,
                chrono::Utc::now(),
            );
            if let Some(rv) = rv {
                t["metadata"] = json!({"resourceVersion": rv});
            }
            t
        }
        Shape::Metadata => partial_metadata(&obj),
    }
}

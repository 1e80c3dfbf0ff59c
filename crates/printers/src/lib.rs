//! Server-side printing: the `meta.k8s.io/v1` Table responses that
//! `kubectl get` asks for (`Accept: application/json;as=Table;v=v1;
//! g=meta.k8s.io`), with the columns and cell logic of upstream's printers
//! (`pkg/printers/internalversion`) for each kind, and upstream's generic
//! NAME / CREATED AT table for kinds it has no printer for. No I/O.

mod column;
mod format;
mod kinds;
mod value;

use chrono::{DateTime, Utc};
use ironclad_api::registry::ResourceInfo;
use serde_json::{Map, Value, json};

pub use format::human_duration;

/// What each row carries besides its cells (the `includeObject` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// No object.
    None,
    /// The object's metadata as a `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` query parameter (`None`, `Metadata`,
    /// `Object`; empty means the default). Anything else is a bad request
    /// upstream (`unrecognized includeObject value: "..."`).
    pub fn from_param(s: &str) -> Option<Self> {
        match s {
            "None" => Some(IncludeObject::None),
            "" | "Metadata" => Some(IncludeObject::Metadata),
            "Object" => Some(IncludeObject::Object),
            _ => None,
        }
    }
}

/// The column definitions (`name`, `type`, `format`, `description`,
/// `priority`) of a resource's table, every column included: priority 1
/// marks those `kubectl` shows only with `-o wide`.
pub fn column_definitions(info: &ResourceInfo) -> Vec<Value> {
    (kinds::printer_for(info).columns)()
        .iter()
        .map(column::Column::to_json)
        .collect()
}

/// The row object for `includeObject`.
fn row_object(obj: &Value, include: IncludeObject) -> Option<Value> {
    match include {
        IncludeObject::None => None,
        IncludeObject::Metadata => Some(json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
        })),
        IncludeObject::Object => Some(obj.clone()),
    }
}

/// A full `Table` of the objects (in their JSON shape), one row each, ages
/// measured at `now`. `metadata` is left empty for the caller to fill with
/// the list's `resourceVersion` and `continue`.
pub fn table(
    info: &ResourceInfo,
    objects: &[Value],
    include: IncludeObject,
    now: DateTime<Utc>,
) -> Value {
    let printer = kinds::printer_for(info);
    let rows: Vec<Value> = objects
        .iter()
        .map(|obj| {
            let row = (printer.row)(obj, now);
            let mut out = Map::new();
            out.insert("cells".into(), Value::Array(row.cells));
            if !row.conditions.is_empty() {
                out.insert("conditions".into(), Value::Array(row.conditions));
            }
            if let Some(object) = row_object(obj, include) {
                out.insert("object".into(), object);
            }
            Value::Object(out)
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": column_definitions(info),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests;

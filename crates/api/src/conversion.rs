//! Conversion between the forms of a resource that several APIs serve from
//! one stored form, as upstream converts through its internal types.
//!
//! Today that is events: core/v1 and events.k8s.io/v1 Events share one
//! storage prefix and are stored as core/v1 Events. An object is converted
//! by its own `apiVersion`, so an object already in the wanted form passes
//! through unchanged, and objects stored in events.k8s.io form by older
//! builds are read correctly too.

mod events;

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::registry::ResourceInfo;

/// `apiVersion` of events.k8s.io/v1 objects.
const EVENTS_V1: &str = "events.k8s.io/v1";

fn api_version(obj: &Value) -> Option<&str> {
    obj.get("apiVersion").and_then(Value::as_str)
}

fn is_events_v1(obj: &Value) -> bool {
    api_version(obj) == Some(EVENTS_V1) && obj.get("kind").and_then(Value::as_str) == Some("Event")
}

/// Whether objects served as `info` are stored in another resource's form
/// (reads convert them, writes convert them back).
pub fn converts(info: &ResourceInfo) -> bool {
    matches!(
        (info.group, info.version, info.kind),
        ("events.k8s.io", "v1", "Event")
    )
}

/// The object in the form `info` serves, whichever form of the same stored
/// resource it is in. Objects of resources with one form, and objects
/// already in `info`'s form, are returned unchanged.
pub fn to_served(info: &ResourceInfo, obj: Value) -> Value {
    match (info.group, info.kind) {
        ("events.k8s.io", "Event") if !is_events_v1(&obj) => events::core_to_events(obj),
        ("", "Event") if is_events_v1(&obj) => events::events_to_core(obj),
        _ => obj,
    }
}

/// The object in the form its resource is stored in, judged by its own
/// `apiVersion` and `kind` (an events.k8s.io/v1 Event becomes a core/v1
/// Event; everything else is returned unchanged).
pub fn to_stored(obj: Value) -> Value {
    if is_events_v1(&obj) {
        events::events_to_core(obj)
    } else {
        obj
    }
}

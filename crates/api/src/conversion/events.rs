//! events.k8s.io/v1 Event <-> core/v1 Event, field for field as upstream's
//! `pkg/apis/events/v1` conversion maps them (through the internal core
//! Event): `regarding` is `involvedObject`, `note` is `message`,
//! `reportingController` is `reportingComponent`, the `deprecated*` fields
//! are core's `source`, `firstTimestamp`, `lastTimestamp` and `count`;
//! the rest keep their names. Fields of neither type are dropped, as a
//! typed conversion drops them; values are moved verbatim.

use serde_json::{Map, Value, json};

/// (events.k8s.io/v1 name, core/v1 name) of every field of an Event.
const FIELDS: &[(&str, &str)] = &[
    ("metadata", "metadata"),
    ("regarding", "involvedObject"),
    ("related", "related"),
    ("note", "message"),
    ("reason", "reason"),
    ("type", "type"),
    ("action", "action"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("reportingController", "reportingComponent"),
    ("reportingInstance", "reportingInstance"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

/// The fields both APIs' EventSeries have (core's old `state` has no
/// counterpart and is dropped).
const SERIES_FIELDS: &[&str] = &["count", "lastObservedTime"];

fn series(v: Value) -> Value {
    match v {
        Value::Object(mut m) => Value::Object(
            SERIES_FIELDS
                .iter()
                .filter_map(|f| m.remove(*f).map(|v| (f.to_string(), v)))
                .collect(),
        ),
        other => other,
    }
}

/// Moves every Event field of `obj` to its name in the other API (to the
/// core/v1 names when `to_core`), under that API's `apiVersion`.
fn rename(obj: Value, api_version: &str, to_core: bool) -> Map<String, Value> {
    let mut src = match obj {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!("Event"));
    for &(new, core) in FIELDS {
        let (from, to) = if to_core { (new, core) } else { (core, new) };
        if let Some(v) = src.remove(from) {
            let v = if from == "series" { series(v) } else { v };
            out.insert(to.to_string(), v);
        }
    }
    out
}

/// An events.k8s.io/v1 Event as a core/v1 Event. `involvedObject` is always
/// present, as upstream always writes it (clients require it).
pub(super) fn events_to_core(obj: Value) -> Value {
    let mut out = rename(obj, "v1", true);
    out.entry("involvedObject").or_insert_with(|| json!({}));
    Value::Object(out)
}

/// A core/v1 Event as an events.k8s.io/v1 Event.
pub(super) fn core_to_events(obj: Value) -> Value {
    Value::Object(rename(obj, super::EVENTS_V1, false))
}

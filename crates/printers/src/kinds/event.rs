//! Events, for both core/v1 and events.k8s.io/v1 (they share storage, so an
//! object may come in either shape): LAST SEEN, TYPE, REASON, OBJECT,
//! MESSAGE; wide SUBOBJECT, SOURCE, FIRST SEEN, COUNT, NAME.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Printer, Row};
use crate::column::{Column, OBJECT_META, core, doc};
use crate::format::since;
use crate::value::{at, int_at, name_of, opt_int_at, str_at, time_at};

pub(crate) const PRINTER: Printer = Printer { columns, row };

fn columns() -> Vec<Column> {
    let event = core("Event");
    vec![
        Column::new("Last Seen", "string", doc(&event, "lastTimestamp")),
        Column::new("Type", "string", doc(&event, "type")),
        Column::new("Reason", "string", doc(&event, "reason")),
        Column::new("Object", "string", doc(&event, "involvedObject")),
        Column::new(
            "Subobject",
            "string",
            doc(&core("ObjectReference"), "fieldPath"),
        )
        .wide(),
        Column::new("Source", "string", doc(&event, "source")).wide(),
        Column::new("Message", "string", doc(&event, "message")),
        Column::new("First Seen", "string", doc(&event, "firstTimestamp")).wide(),
        Column::new("Count", "string", doc(&event, "count")).wide(),
        Column::new("Name", "string", doc(OBJECT_META, "name"))
            .format("name")
            .wide(),
    ]
}

/// The JSON names of an event's fields in the shape the object is in.
struct Shape {
    reference: &'static str,
    message: &'static str,
    first: &'static str,
    last: &'static str,
    count: &'static str,
    source: &'static str,
    controller: &'static str,
}

const CORE: Shape = Shape {
    reference: "involvedObject",
    message: "message",
    first: "firstTimestamp",
    last: "lastTimestamp",
    count: "count",
    source: "source",
    controller: "reportingComponent",
};

const EVENTS_V1: Shape = Shape {
    reference: "regarding",
    message: "note",
    first: "deprecatedFirstTimestamp",
    last: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    source: "deprecatedSource",
    controller: "reportingController",
};

fn non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

fn row(ev: &Value, now: DateTime<Utc>) -> Row {
    let shape = if str_at(ev, &["apiVersion"]) == "events.k8s.io/v1" {
        &EVENTS_V1
    } else {
        &CORE
    };
    let first = match time_at(ev, &[shape.first]) {
        Some(t) => since(Some(t), now),
        None => since(time_at(ev, &["eventTime"]), now),
    };
    let mut last = match time_at(ev, &[shape.last]) {
        Some(t) => since(Some(t), now),
        None => first.clone(),
    };
    let mut count = int_at(ev, &[shape.count]);
    match at(ev, &["series"]).filter(|s| !s.is_null()) {
        Some(series) => {
            last = since(time_at(series, &["lastObservedTime"]), now);
            count = opt_int_at(series, &["count"]).unwrap_or(0);
        }
        // Singleton events of the new API carry no count.
        None if count == 0 => count = 1,
        None => {}
    }
    let kind = str_at(ev, &[shape.reference, "kind"]).to_lowercase();
    let object_name = str_at(ev, &[shape.reference, "name"]);
    let target = if object_name.is_empty() {
        kind
    } else {
        format!("{kind}/{object_name}")
    };
    let component = non_empty(
        str_at(ev, &[shape.source, "component"]),
        str_at(ev, &[shape.controller]),
    );
    let instance = non_empty(
        str_at(ev, &[shape.source, "host"]),
        str_at(ev, &["reportingInstance"]),
    );
    let source = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };
    Row::cells(vec![
        json!(last),
        json!(str_at(ev, &["type"])),
        json!(str_at(ev, &["reason"])),
        json!(target),
        json!(str_at(ev, &[shape.reference, "fieldPath"])),
        json!(source),
        json!(str_at(ev, &[shape.message]).trim()),
        json!(first),
        json!(count),
        json!(name_of(ev)),
    ])
}

#[cfg(test)]
mod tests;

use serde_json::{Value, json};

use super::*;
use crate::registry::lookup;

fn events_info() -> &'static ResourceInfo {
    lookup("events.k8s.io", "v1", "events").unwrap()
}

fn core_info() -> &'static ResourceInfo {
    lookup("", "v1", "events").unwrap()
}

/// An events.k8s.io/v1 Event with every field set.
fn new_style() -> Value {
    json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "web.17a", "namespace": "ns1", "uid": "u-1", "resourceVersion": "7"},
        "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "ns1", "uid": "d-1", "fieldPath": "spec"},
        "related": {"kind": "Pod", "name": "web-1", "namespace": "ns1"},
        "note": "scaled up",
        "reason": "Scaled",
        "type": "Normal",
        "action": "Scale",
        "eventTime": "2024-05-01T10:00:00.123456Z",
        "series": {"count": 3, "lastObservedTime": "2024-05-01T10:05:00.000000Z"},
        "reportingController": "example.com/scaler",
        "reportingInstance": "scaler-0",
        "deprecatedSource": {"component": "scaler", "host": "node-1"},
        "deprecatedFirstTimestamp": "2024-05-01T10:00:00Z",
        "deprecatedLastTimestamp": "2024-05-01T10:05:00Z",
        "deprecatedCount": 3,
    })
}

/// The same Event as core/v1 writes it.
fn core_style() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web.17a", "namespace": "ns1", "uid": "u-1", "resourceVersion": "7"},
        "involvedObject": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "ns1", "uid": "d-1", "fieldPath": "spec"},
        "related": {"kind": "Pod", "name": "web-1", "namespace": "ns1"},
        "message": "scaled up",
        "reason": "Scaled",
        "type": "Normal",
        "action": "Scale",
        "eventTime": "2024-05-01T10:00:00.123456Z",
        "series": {"count": 3, "lastObservedTime": "2024-05-01T10:05:00.000000Z"},
        "reportingComponent": "example.com/scaler",
        "reportingInstance": "scaler-0",
        "source": {"component": "scaler", "host": "node-1"},
        "firstTimestamp": "2024-05-01T10:00:00Z",
        "lastTimestamp": "2024-05-01T10:05:00Z",
        "count": 3,
    })
}

#[test]
fn every_field_maps_both_ways() {
    assert_eq!(to_stored(new_style()), core_style());
    assert_eq!(to_served(core_info(), new_style()), core_style());
    assert_eq!(to_served(events_info(), core_style()), new_style());
}

#[test]
fn round_trips_are_lossless() {
    let back = to_served(events_info(), to_stored(new_style()));
    assert_eq!(back, new_style());
    let back = to_served(core_info(), to_served(events_info(), core_style()));
    assert_eq!(back, core_style());
}

#[test]
fn objects_in_the_wanted_form_pass_unchanged() {
    assert_eq!(to_served(events_info(), new_style()), new_style());
    assert_eq!(to_served(core_info(), core_style()), core_style());
    assert_eq!(to_stored(core_style()), core_style());
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "x": 1});
    assert_eq!(to_stored(pod.clone()), pod);
    let cm = lookup("", "v1", "configmaps").unwrap();
    assert_eq!(to_served(cm, pod.clone()), pod);
    assert!(converts(events_info()) && !converts(core_info()) && !converts(cm));
}

#[test]
fn fields_of_neither_type_are_dropped() {
    let mut core = core_style();
    core["series"]["state"] = json!("Ongoing");
    core["bogus"] = json!(true);
    let new = to_served(events_info(), core);
    assert_eq!(new, new_style());
}

#[test]
fn a_minimal_new_event_gets_an_involved_object() {
    let minimal = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "e", "namespace": "default"},
        "eventTime": "2024-05-01T10:00:00.000000Z",
        "reportingController": "c",
        "reportingInstance": "i",
        "action": "A",
        "reason": "R",
    });
    let core = to_stored(minimal);
    assert_eq!(core["involvedObject"], json!({}));
    assert_eq!(core["reportingComponent"], "c");
    assert!(core.get("regarding").is_none() && core.get("message").is_none());
    // Null values move as they are.
    let with_null = json!({"apiVersion": "v1", "kind": "Event", "metadata": {}, "involvedObject": {}, "firstTimestamp": null});
    assert_eq!(
        to_served(events_info(), with_null)["deprecatedFirstTimestamp"],
        Value::Null
    );
}

#[test]
fn converted_objects_decode_as_their_types() {
    use k8s_openapi::api::core::v1::Event as CoreEvent;
    use k8s_openapi::api::events::v1::Event;
    let core: CoreEvent = serde_json::from_value(to_stored(new_style())).unwrap();
    assert_eq!(core.involved_object.name.as_deref(), Some("web"));
    assert_eq!(core.count, Some(3));
    let new: Event = serde_json::from_value(to_served(events_info(), core_style())).unwrap();
    assert_eq!(new.note.as_deref(), Some("scaled up"));
    assert_eq!(new.series.map(|s| s.count), Some(3));
    let minimal =
        json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"}});
    let _: CoreEvent = serde_json::from_value(to_stored(minimal)).unwrap();
}

#[test]
fn at_most_one_api_converts_each_storage_prefix() {
    // The watch cache keeps one converted line per event, which relies on this.
    use crate::registry::{RESOURCES, storage_resource};
    for r in RESOURCES.iter().filter(|r| converts(r)) {
        let sharing = RESOURCES
            .iter()
            .filter(|o| converts(o) && storage_resource(o) == storage_resource(r))
            .count();
        assert_eq!(sharing, 1, "{}", r.plural);
    }
}

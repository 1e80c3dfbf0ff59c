//! Table-level tests, and helpers the per-kind tests share.

use chrono::{DateTime, TimeDelta, Utc};
use ironclad_api::registry::{RESOURCES, ResourceInfo, lookup};
use serde_json::{Value, json};

use super::*;

/// The fixed "now" of every test.
pub(crate) fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// The RFC 3339 time `secs` seconds before [`now`].
pub(crate) fn ago(secs: i64) -> String {
    (now() - TimeDelta::seconds(secs)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The resource of a group and plural (version v1).
pub(crate) fn info(group: &str, plural: &str) -> &'static ResourceInfo {
    lookup(group, "v1", plural).unwrap()
}

/// The cells of one object's row.
pub(crate) fn cells(info: &ResourceInfo, obj: Value) -> Vec<Value> {
    let t = table(info, &[obj], IncludeObject::None, now());
    t["rows"][0]["cells"].as_array().unwrap().clone()
}

/// The column names, in order.
pub(crate) fn column_names(info: &ResourceInfo) -> Vec<String> {
    column_definitions(info)
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// The names of the priority-1 (wide) columns.
pub(crate) fn wide_columns(info: &ResourceInfo) -> Vec<String> {
    column_definitions(info)
        .iter()
        .filter(|c| c["priority"] == 1)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_table_has_upstreams_shape() {
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "ns", "uid": "u", "creationTimestamp": ago(45)},
        "data": {"a": "1"},
    });
    let t = table(
        info("", "configmaps"),
        std::slice::from_ref(&cm),
        IncludeObject::Metadata,
        now(),
    );
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(t["metadata"], json!({}));
    assert_eq!(
        t["columnDefinitions"][0],
        json!({
            "name": "Name", "type": "string", "format": "name", "priority": 0,
            "description": t["columnDefinitions"][0]["description"],
        })
    );
    assert!(
        t["columnDefinitions"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("Name must be unique within a namespace.")
    );
    assert_eq!(t["rows"][0]["cells"], json!(["c", 1, "45s"]));
    assert_eq!(
        t["rows"][0]["object"],
        json!({
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": cm["metadata"],
        })
    );
    assert!(t["rows"][0].get("conditions").is_none());

    let t = table(
        info("", "configmaps"),
        std::slice::from_ref(&cm),
        IncludeObject::Object,
        now(),
    );
    assert_eq!(t["rows"][0]["object"], cm);
    let t = table(info("", "configmaps"), &[cm], IncludeObject::None, now());
    assert!(t["rows"][0].get("object").is_none());
    let t = table(info("", "configmaps"), &[], IncludeObject::default(), now());
    assert_eq!(t["rows"], json!([]));
}

#[test]
fn include_object_parameter() {
    assert_eq!(IncludeObject::default(), IncludeObject::Metadata);
    assert_eq!(IncludeObject::from_param(""), Some(IncludeObject::Metadata));
    assert_eq!(
        IncludeObject::from_param("Metadata"),
        Some(IncludeObject::Metadata)
    );
    assert_eq!(
        IncludeObject::from_param("Object"),
        Some(IncludeObject::Object)
    );
    assert_eq!(IncludeObject::from_param("None"), Some(IncludeObject::None));
    assert_eq!(IncludeObject::from_param("object"), None);
}

#[test]
fn ages_use_upstreams_human_durations() {
    let cm = |secs: i64| json!({"metadata": {"name": "c", "creationTimestamp": ago(secs)}});
    let cases = [
        (45, "45s"),
        (182, "3m2s"),
        (600, "10m"),
        (5 * 3600 + 180, "5h3m"),
        (2 * 86400 + 5 * 3600, "2d5h"),
        (45 * 86400, "45d"),
        (760 * 86400, "2y30d"),
    ];
    for (secs, want) in cases {
        assert_eq!(cells(info("", "configmaps"), cm(secs))[2], want, "{secs}");
    }
    assert_eq!(
        cells(info("", "configmaps"), json!({"metadata": {"name": "c"}}))[2],
        "<unknown>"
    );
}

#[test]
fn every_resource_has_described_columns_and_full_rows() {
    for r in RESOURCES {
        let columns = column_definitions(r);
        assert!(!columns.is_empty(), "{}", r.plural);
        for c in &columns {
            for key in ["name", "type", "format", "description", "priority"] {
                assert!(c.get(key).is_some(), "{} {c}: no {key}", r.plural);
            }
            assert!(
                !c["description"].as_str().unwrap().is_empty(),
                "{}: {} has no description",
                r.plural,
                c["name"]
            );
            assert!(c["priority"] == 0 || c["priority"] == 1);
        }
        let names: Vec<&Value> = columns.iter().filter(|c| c["format"] == "name").collect();
        assert_eq!(names.len(), 1, "{}: one name column", r.plural);
        assert_eq!(names[0]["name"], "Name");
        // Whatever the object, a row has a cell for every column.
        for obj in [
            json!({}),
            json!({"metadata": {"name": "x"}, "spec": {}, "status": {}}),
        ] {
            let t = table(r, &[obj], IncludeObject::Metadata, now());
            assert_eq!(
                t["rows"][0]["cells"].as_array().unwrap().len(),
                columns.len(),
                "{}",
                r.plural
            );
        }
    }
}

#[test]
fn kinds_without_a_printer_get_the_generic_table() {
    for (group, plural) in [
        ("", "limitranges"),
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("", "bindings"),
    ] {
        assert_eq!(
            column_names(info(group, plural)),
            ["Name", "Created At"],
            "{plural}"
        );
    }
}

#![allow(clippy::unwrap_used)]

use super::*;
use crate::registry::{RESOURCES, resources_of};
use crate::schema::REF_PREFIX;

fn parsed(path: &str) -> Value {
    serde_json::from_slice(&document(path).unwrap()).unwrap()
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// Follows `$ref`, also inside `allOf`, within one document.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let reference = schema
        .get("$ref")
        .or_else(|| schema.get("allOf").and_then(|a| a[0].get("$ref")));
    match reference.and_then(Value::as_str) {
        Some(r) => &doc["components"]["schemas"][r.strip_prefix(REF_PREFIX).unwrap()],
        None => schema,
    }
}

#[test]
fn the_index_lists_every_group_version() {
    let index = index();
    let entries = index["paths"].as_object().unwrap();
    for (group, versions) in groups() {
        for version in versions {
            let path = gv_path(group, version);
            let url = entries[&path]["serverRelativeURL"].as_str().unwrap();
            assert_eq!(
                url,
                format!("/openapi/v3/{path}?hash={}", hash(&path).unwrap())
            );
        }
        if !group.is_empty() {
            assert!(entries.contains_key(&format!("apis/{group}")));
        }
    }
    for extra in ["api", "apis", "version"] {
        assert!(entries.contains_key(extra), "{extra}");
    }
    assert_eq!(paths().len(), entries.len());
    assert!(document("apis/nope/v1").is_none() && hash("nope").is_none());
}

#[test]
fn documents_are_cached_and_hashed_stably() {
    let a = document("/api/v1/").unwrap();
    let b = document("api/v1").unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    let h = hash("api/v1").unwrap();
    assert_eq!(h.len(), 128);
    assert!(
        h.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
    assert_eq!(h, content_hash(&a));
    assert_ne!(h, hash("apis/apps/v1").unwrap());
    assert_ne!(content_hash(b"a"), content_hash(b"b"));
}

/// kubectl's check: the first PATCH operation whose group-version-kind
/// is the kind's must list `fieldValidation` in the query; it may pick
/// any of them, so all must.
#[test]
fn every_kind_has_a_patch_with_field_validation() {
    for (group, versions) in groups() {
        for version in versions {
            let doc = parsed(&gv_path(group, version));
            assert_eq!(doc["openapi"], "3.0.0");
            assert_eq!(doc["info"]["title"], "Kubernetes");
            let patches: Vec<&Value> = doc["paths"]
                .as_object()
                .unwrap()
                .values()
                .filter_map(|item| item.get("patch"))
                .collect();
            for p in &patches {
                let params = p["parameters"].as_array().unwrap();
                assert!(
                    params
                        .iter()
                        .any(|q| q["name"] == "fieldValidation" && q["in"] == "query")
                );
                let body = &p["requestBody"]["content"];
                for media in [
                    "application/apply-patch+yaml",
                    "application/strategic-merge-patch+json",
                ] {
                    assert!(body[media].is_object(), "{media}");
                }
            }
            for r in resources_of(group, version).filter(|r| r.has_verb("patch")) {
                let found = patches.iter().any(|p| {
                    let gvk = &p["x-kubernetes-group-version-kind"];
                    gvk["group"] == r.group && gvk["version"] == r.version && gvk["kind"] == r.kind
                });
                assert!(found, "no PATCH for {}", r.kind);
            }
        }
    }
}

#[test]
fn every_reference_resolves_inside_its_document() {
    for path in paths() {
        let doc = parsed(path);
        let mut refs = Vec::new();
        components::collect_refs(&doc, &mut refs);
        assert!(!refs.is_empty(), "{path}");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for r in refs {
            assert!(schemas.contains_key(&r), "{path}: {r} dangles");
        }
    }
}

#[test]
fn kinds_and_lists_carry_their_group_version_kind() {
    for r in RESOURCES {
        let doc = parsed(&gv_path(r.group, r.version));
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let def = crate::schema::type_name_of(r).unwrap();
        let mark = json!([{"group": r.group, "kind": r.kind, "version": r.version}]);
        assert_eq!(
            schemas[def]["x-kubernetes-group-version-kind"], mark,
            "{def}"
        );
        assert!(schemas[def]["properties"]["apiVersion"].is_object());
        assert!(schemas[def]["properties"]["kind"].is_object());
        if r.has_verb("list") {
            let list = &schemas[&format!("{def}List")];
            let mark = json!([{"group": r.group, "kind": r.list_kind(), "version": r.version}]);
            assert_eq!(list["x-kubernetes-group-version-kind"], mark);
            assert_eq!(list["required"], json!(["items"]));
        }
    }
    let apps = parsed("apis/apps/v1");
    let scale = &apps["components"]["schemas"]["io.k8s.api.autoscaling.v1.Scale"];
    assert_eq!(
        scale["x-kubernetes-group-version-kind"][0]["group"],
        "autoscaling"
    );
    let status = &apps["components"]["schemas"]["io.k8s.apimachinery.pkg.apis.meta.v1.Status"];
    assert_eq!(
        status["x-kubernetes-group-version-kind"][0]["kind"],
        "Status"
    );
}

/// What `kubectl explain pod.spec.containers` does: find the schema by
/// its mark, then walk properties through references.
#[test]
fn explain_reaches_container_fields() {
    let doc = parsed("api/v1");
    let pod = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .values()
        .find(|s| {
            s["x-kubernetes-group-version-kind"]
                .as_array()
                .is_some_and(|m| m.iter().any(|g| g["kind"] == "Pod" && g["group"] == ""))
        })
        .unwrap();
    let spec = resolve(&doc, &pod["properties"]["spec"]);
    let containers = &spec["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    let container = resolve(&doc, &containers["items"]);
    assert_eq!(container["properties"]["image"]["type"], "string");
    assert!(
        container["required"]
            .as_array()
            .unwrap()
            .contains(&json!("name"))
    );
}

#[test]
fn discovery_documents_describe_their_endpoints() {
    let api = parsed("api");
    assert_eq!(
        api["paths"]["/api/"]["get"]["operationId"],
        "getCoreAPIVersions"
    );
    let version = parsed("version");
    assert!(version["components"]["schemas"]["io.k8s.apimachinery.pkg.version.Info"].is_object());
    let apps = parsed("apis/apps");
    assert_eq!(
        apps["paths"]["/apis/apps/"]["get"]["operationId"],
        "getAppsAPIGroup"
    );
    let v1 = parsed("api/v1");
    assert_eq!(
        v1["paths"]["/api/v1/"]["get"]["operationId"],
        "getCoreV1APIResources"
    );
}

//! The `components.schemas` of a document: every definition its paths
//! reach through `$ref`s, the list kinds (`PodList`, which k8s-openapi
//! has no schema for), and the `x-kubernetes-group-version-kind` marks
//! kubectl uses to find a kind's schema (`kubectl explain`, client-side
//! apply).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::operation::{DELETE_OPTIONS, RESOURCE_LIST, STATUS, WATCH_EVENT, schema_ref};
use crate::registry::{RESOURCES, groups};
use crate::schema::{REF_PREFIX, Schemas, type_name, type_name_of};

const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// The definitions the paths need, closed over their references.
pub(super) fn schemas(paths: &Map<String, Value>) -> Map<String, Value> {
    let mut queue = Vec::new();
    for item in paths.values() {
        collect_refs(item, &mut queue);
    }
    let mut out = Map::new();
    while let Some(name) = queue.pop() {
        if out.contains_key(&name) {
            continue;
        }
        // A reference to nothing is left dangling; the tests check that
        // every document resolves all of its references.
        let Some(mut schema) = definition(&name) else {
            continue;
        };
        collect_refs(&schema, &mut queue);
        if let (Some(gvks), Some(obj)) = (gvk_table().get(&name), schema.as_object_mut()) {
            let marks: Vec<Value> = gvks
                .iter()
                .map(|(g, v, k)| json!({"group": g, "kind": k, "version": v}))
                .collect();
            obj.insert(
                "x-kubernetes-group-version-kind".into(),
                Value::Array(marks),
            );
        }
        out.insert(name, schema);
    }
    out
}

/// Every definition name a schema refers to.
pub(super) fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(REF_PREFIX))
            {
                out.push(name.to_string());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn definition(name: &str) -> Option<Value> {
    Schemas::get()
        .definition(name)
        .cloned()
        .or_else(|| list_definition(name))
}

/// The schema of `<Kind>List`, shaped like upstream's: `items` of the
/// kind, `metadata` of ListMeta, `items` required.
fn list_definition(name: &str) -> Option<Value> {
    let item = name.strip_suffix("List")?;
    let r = RESOURCES
        .iter()
        .find(|r| r.has_verb("list") && type_name_of(r) == Some(item))?;
    let kind_schema = Schemas::get().definition(item)?;
    let kind = r.kind;
    Some(json!({
        "description": format!("{kind}List is a list of {kind} objects."),
        "properties": {
            "apiVersion": kind_schema["properties"]["apiVersion"],
            "items": {
                "description": format!("Items is the list of {kind} objects."),
                "items": schema_ref(item),
                "type": "array",
            },
            "kind": kind_schema["properties"]["kind"],
            "metadata": {
                "allOf": [schema_ref(LIST_META)],
                "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
            },
        },
        "required": ["items"],
        "type": "object",
    }))
}

type Gvk = (&'static str, &'static str, String);

/// Definition name -> the group/version/kinds it is the schema of.
fn gvk_table() -> &'static BTreeMap<String, Vec<Gvk>> {
    static TABLE: OnceLock<BTreeMap<String, Vec<Gvk>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: BTreeMap<String, Vec<Gvk>> = BTreeMap::new();
        let mut add = |name: String, gvk: Gvk| {
            let entry = table.entry(name).or_default();
            if !entry.contains(&gvk) {
                entry.push(gvk);
            }
        };
        for r in RESOURCES {
            let Some(def) = type_name_of(r) else { continue };
            add(def.to_string(), (r.group, r.version, r.kind.to_string()));
            if r.has_verb("list") {
                add(format!("{def}List"), (r.group, r.version, r.list_kind()));
            }
            for s in r.subresources {
                if let Some(def) = type_name(s.group, s.version, s.kind) {
                    add(def.to_string(), (s.group, s.version, s.kind.to_string()));
                }
            }
        }
        for kind in [
            "Status",
            "APIResourceList",
            "APIGroup",
            "APIGroupList",
            "APIVersions",
        ] {
            add(format!("{META}.{kind}"), ("", "v1", kind.to_string()));
        }
        // Options and events are registered in every group upstream.
        for (name, kind) in [
            (DELETE_OPTIONS, "DeleteOptions"),
            (WATCH_EVENT, "WatchEvent"),
        ] {
            for (group, versions) in groups() {
                for version in versions {
                    add(name.to_string(), (group, version, kind.to_string()));
                }
            }
        }
        debug_assert!(table.contains_key(STATUS) && table.contains_key(RESOURCE_LIST));
        table
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_kinds_are_synthesised_with_their_marks() {
        let pod_list = list_definition("io.k8s.api.core.v1.PodList").unwrap();
        assert_eq!(
            pod_list["properties"]["items"]["items"]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.Pod"
        );
        assert!(list_definition("io.k8s.api.core.v1.BindingList").is_none());
        let marks = &gvk_table()["io.k8s.api.core.v1.PodList"];
        assert_eq!(marks, &vec![("", "v1", "PodList".to_string())]);
        let scale = &gvk_table()["io.k8s.api.autoscaling.v1.Scale"];
        assert_eq!(scale, &vec![("autoscaling", "v1", "Scale".to_string())]);
    }
}

//! How each field of a served type merges: the strategic-merge-patch
//! strategy and merge key, and the server-side-apply list, map and struct
//! types. The metadata is ironclad-api's table of upstream's markers, the
//! same one that puts the `x-kubernetes-*` extensions into the OpenAPI
//! documents the API server publishes, so kubectl's client-side patches and
//! the server's merges use the same keys.

pub use ironclad_api::schema::{FieldMeta, ListType, MapType, field_meta, type_is_atomic};

use serde_json::{Value, json};

/// The value server-side apply assumes for a list-map key field an element
/// leaves out, as upstream's schema defaults do (a port's protocol is TCP).
pub fn list_map_key_default(key: &str) -> Option<Value> {
    (key == "protocol").then(|| json!("TCP"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironclad_api::schema::Schemas;
    use serde_json::Map;

    /// The extensions of one schema that carry merge metadata.
    fn merge_extensions(schema: &Value) -> Map<String, Value> {
        schema
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| {
                k.starts_with("x-kubernetes-patch-")
                    || k.starts_with("x-kubernetes-list-")
                    || *k == "x-kubernetes-map-type"
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    #[test]
    fn merges_by_what_the_published_schemas_say() {
        let mut fields = 0;
        for (ty, def) in Schemas::get().definitions() {
            let published = def.get("x-kubernetes-map-type").and_then(Value::as_str);
            assert_eq!(type_is_atomic(ty), published == Some("atomic"), "{ty}");
            let props = def.get("properties").and_then(Value::as_object);
            for (field, schema) in props.into_iter().flatten() {
                let meta = field_meta(ty, field);
                let expected = meta.map(|m| m.extensions()).unwrap_or_default();
                assert_eq!(merge_extensions(schema), expected, "{ty}.{field}");
                fields += usize::from(meta.is_some());
            }
        }
        assert!(fields > 100, "only {fields} fields carry metadata");
    }

    #[test]
    fn engines_see_the_shared_metadata() {
        let c = field_meta("io.k8s.api.core.v1.PodSpec", "containers").unwrap();
        assert!(c.merges());
        assert_eq!(c.list_type, Some(ListType::Map(&["name"])));
        let sel = field_meta("io.k8s.api.core.v1.PodSpec", "nodeSelector").unwrap();
        assert_eq!(sel.map_type, Some(MapType::Atomic));
        assert!(type_is_atomic("io.k8s.api.core.v1.ObjectReference"));
        assert_eq!(FieldMeta::NONE.list_type, None);
    }

    #[test]
    fn only_protocol_has_a_key_default() {
        assert_eq!(list_map_key_default("protocol"), Some(json!("TCP")));
        assert_eq!(list_map_key_default("containerPort"), None);
        assert_eq!(list_map_key_default("name"), None);
    }
}

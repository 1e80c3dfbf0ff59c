//! Request and response bodies as events record them: JSON objects
//! (YAML bodies, as server-side apply sends, are converted), optionally
//! without `metadata.managedFields`.

use serde_json::Value;

/// A body as a JSON value: parsed as JSON, else as YAML (apply
/// patches); `None` for empty or undecodable bodies (protobuf, streams).
pub fn decode(body: &[u8]) -> Option<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        return Some(value);
    }
    let text = std::str::from_utf8(body).ok()?;
    match serde_yaml_ng::from_str::<Value>(text) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) => Some(value),
        _ => None,
    }
}

/// Removes `metadata.managedFields` from an object, and from each item of
/// a list (upstream's `omitManagedFields`).
pub fn strip_managed_fields(value: &mut Value) {
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    if let Some(items) = value.get_mut("items").and_then(Value::as_array_mut) {
        for item in items {
            if let Some(meta) = item.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_json_and_yaml_only() {
        assert_eq!(decode(br#"{"a":1}"#), Some(json!({"a": 1})));
        assert_eq!(
            decode(b"apiVersion: v1\nkind: ConfigMap\n"),
            Some(json!({"apiVersion": "v1", "kind": "ConfigMap"}))
        );
        assert_eq!(decode(b""), None);
        assert_eq!(decode(b"  \n"), None);
        assert_eq!(decode(&[0x0a, 0xff, 0x00, 0x12]), None);
        assert_eq!(decode(b"just some text"), None);
    }

    #[test]
    fn strips_managed_fields_from_objects_and_lists() {
        let mut obj = json!({"metadata": {"name": "a", "managedFields": [{"manager": "kubectl"}]}});
        strip_managed_fields(&mut obj);
        assert_eq!(obj, json!({"metadata": {"name": "a"}}));
        let mut list = json!({"kind": "PodList", "metadata": {}, "items": [
            {"metadata": {"name": "a", "managedFields": []}},
            {"metadata": {"name": "b"}},
            "not an object"
        ]});
        strip_managed_fields(&mut list);
        assert_eq!(list["items"][0], json!({"metadata": {"name": "a"}}));
        assert_eq!(list["items"][1], json!({"metadata": {"name": "b"}}));
        let mut patch = json!([{"op": "add"}]);
        strip_managed_fields(&mut patch);
        assert_eq!(patch, json!([{"op": "add"}]));
    }
}

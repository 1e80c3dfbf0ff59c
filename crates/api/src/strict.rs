//! Strict field validation (`fieldValidation=Strict` and `=Warn`): the
//! fields of a request body that its kind's schema does not know, named
//! as upstream's strict decoder names them (`bogusField`, `spec.foo`,
//! `spec.containers[0].foo`). The server answers Strict with
//! `strict decoding error: unknown field "<path>"` and Warn with one
//! warning per path.
//!
//! Free-form parts are not checked: maps (`labels`, `data`: schemas with
//! `additionalProperties`), values whose schema declares no properties
//! (RawExtension, FieldsV1) and `x-kubernetes-preserve-unknown-fields`.

use serde_json::Value;

use crate::registry::ResourceInfo;
use crate::schema::{Schemas, type_name_of};

/// The paths of the fields in `obj` that the schema of `info`'s kind does
/// not know, in document order of each object's (sorted) keys. Empty when
/// the kind has no schema.
pub fn unknown_fields(info: &ResourceInfo, obj: &Value) -> Vec<String> {
    match type_name_of(info) {
        Some(name) => unknown_fields_in(name, obj),
        None => Vec::new(),
    }
}

/// The same against a definition by name, for bodies of another kind than
/// the resource's (a subresource's `autoscaling/v1` Scale).
pub fn unknown_fields_in(definition: &str, obj: &Value) -> Vec<String> {
    let schemas = Schemas::get();
    let mut out = Vec::new();
    if let Some(schema) = schemas.definition(definition) {
        walk(schemas, schema, obj, "", &mut out);
    }
    out
}

/// The `Strict` error message upstream returns for these paths.
pub fn strict_error(paths: &[String]) -> String {
    let fields: Vec<String> = paths
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect();
    format!("strict decoding error: {}", fields.join(", "))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(schemas: &Schemas, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let schema = schemas.resolve(schema);
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return;
    }
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            if properties.is_none() && additional.is_none() {
                // Declares nothing: free-form (RawExtension, FieldsV1).
                return;
            }
            for (key, child) in fields {
                let child_path = join(path, key);
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(prop), _) => walk(schemas, prop, child, &child_path, out),
                    (None, Some(extra)) if extra.is_object() => {
                        walk(schemas, extra, child, &child_path, out)
                    }
                    (None, Some(Value::Bool(true))) => {}
                    (None, _) => out.push(child_path),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(schemas, item_schema, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::registry::lookup_kind;

    fn check(api_version: &str, kind: &str, obj: Value) -> Vec<String> {
        unknown_fields(lookup_kind(api_version, kind).unwrap(), &obj)
    }

    #[test]
    fn finds_unknown_fields_at_every_depth() {
        let pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "bogusField": 1,
            "metadata": {"name": "p", "labels": {"x": "y"}, "annotations": {"a/b": "c"}},
            "spec": {
                "foo": true,
                "containers": [
                    {"name": "a", "image": "nginx", "foo": 1,
                     "ports": [{"containerPort": 80}],
                     "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
                    {"name": "b", "image": "busybox", "env": [{"name": "A", "value": "1", "bar": 2}]}
                ]
            }
        });
        assert_eq!(
            check("v1", "Pod", pod),
            vec![
                "bogusField",
                "spec.containers[0].foo",
                "spec.containers[1].env[0].bar",
                "spec.foo"
            ]
        );
    }

    #[test]
    fn maps_and_free_form_values_are_not_checked() {
        let cm = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "labels": {"x": "y"}},
            "data": {"anything": "goes", "more": "here"}
        });
        assert!(check("v1", "ConfigMap", cm).is_empty());
        let rev = json!({
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": "r"}, "revision": 1,
            "data": {"spec": {"whatever": {"deep": [1, 2]}}}
        });
        assert!(check("apps/v1", "ControllerRevision", rev).is_empty());
        let managed = json!({
            "metadata": {"name": "c", "managedFields": [{"manager": "m", "fieldsV1": {"f:data": {}}}]}
        });
        assert!(check("v1", "ConfigMap", managed).is_empty());
    }

    #[test]
    fn metadata_and_nested_templates_are_checked() {
        let deploy = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "bogus": 1},
            "spec": {
                "selector": {"matchLabels": {"app": "d"}},
                "template": {
                    "metadata": {"labels": {"app": "d"}},
                    "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolicyy": "Always"}]}
                }
            }
        });
        assert_eq!(
            check("apps/v1", "Deployment", deploy),
            vec![
                "metadata.bogus",
                "spec.template.spec.containers[0].imagePullPolicyy"
            ]
        );
        let scale = json!({"spec": {"replicas": 3, "extra": 1}});
        assert_eq!(
            unknown_fields_in("io.k8s.api.autoscaling.v1.Scale", &scale),
            vec!["spec.extra"]
        );
        assert_eq!(
            strict_error(&["a".into(), "spec.b".into()]),
            "strict decoding error: unknown field \"a\", unknown field \"spec.b\""
        );
    }
}

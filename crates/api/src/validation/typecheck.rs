//! The decoding step upstream does before validating: the object must fit
//! its k8s-openapi type (a wrong JSON type fails with the path of the
//! field), and every resource quantity must parse. A mistyped object is not
//! validated further.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{FieldError, Path};
use super::quantity::Quantity;
use crate::registry::ResourceInfo;
use crate::schema::{Schemas, ref_name};

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/// Decodes `obj` into the typed object `T`, or reports where it does not fit.
/// `apiVersion` and `kind` are not compared: the server checks those.
pub fn decode<T: DeserializeOwned>(obj: &Value) -> Result<T, FieldError> {
    let mut v = obj.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("apiVersion");
        o.remove("kind");
    }
    serde_path_to_error::deserialize::<_, T>(&v).map_err(|e| {
        let mut path = Path::default();
        let mut cur = Some(obj);
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => {
                    path = path.index(*index);
                    cur = cur.and_then(|c| c.get(*index));
                }
                serde_path_to_error::Segment::Map { key } => {
                    path = path.child(key);
                    cur = cur.and_then(|c| c.get(key.as_str()));
                }
                serde_path_to_error::Segment::Enum { variant } => path = path.child(variant),
                serde_path_to_error::Segment::Unknown => path = path.child("?"),
            }
        }
        let value = cur.cloned().unwrap_or(Value::Null);
        FieldError::type_invalid(&path, value, e.inner().to_string())
    })
}

/// Every quantity in the object that does not parse, found by walking the
/// kind's OpenAPI schema alongside the object.
pub fn quantity_errors(info: &ResourceInfo, obj: &Value) -> Vec<FieldError> {
    let schemas = Schemas::get();
    let mut errs = Vec::new();
    if let Some(schema) = schemas.for_kind(info.group, info.version, info.kind) {
        walk(schemas, schema, obj, &Path::default(), &mut errs, 0);
    }
    errs
}

fn walk(
    s: &Schemas,
    schema: &Value,
    v: &Value,
    path: &Path,
    errs: &mut Vec<FieldError>,
    depth: usize,
) {
    if depth > 64 || v.is_null() {
        return;
    }
    if ref_name(schema) == Some(QUANTITY) {
        if let Err(e) = Quantity::from_json(v) {
            errs.push(FieldError::type_invalid(path, v.clone(), e.to_string()));
        }
        return;
    }
    let schema = s.resolve(schema);
    match v {
        Value::Object(m) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, sub) in m {
                    if let Some(ps) = props.get(k) {
                        walk(s, ps, sub, &path.child(k), errs, depth + 1);
                    }
                }
            }
            if let Some(ap) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for (k, sub) in m {
                    walk(s, ap, sub, &path.key(k), errs, depth + 1);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = schema.get("items") {
                for (i, x) in a.iter().enumerate() {
                    walk(s, items, x, &path.index(i), errs, depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::lookup;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    #[test]
    fn type_errors_carry_the_path_and_value() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": "80"}]}]}});
        let e = decode::<Pod>(&pod).unwrap_err();
        assert_eq!(e.field, "spec.containers[0].ports[0].containerPort");
        assert_eq!(e.value, Some(json!("80")));
        assert_eq!(e.reason(), "FieldValueTypeInvalid");
        assert!(e.to_string().starts_with(
            "spec.containers[0].ports[0].containerPort: Invalid value: \"80\": invalid type"
        ));
        let e = decode::<Pod>(&json!("x")).unwrap_err();
        assert_eq!(e.field, "");
    }

    #[test]
    fn finds_bad_quantities_anywhere() {
        let info = lookup("", "v1", "pods").unwrap();
        let pod = json!({"spec": {"containers": [{"name": "c", "resources": {
            "limits": {"cpu": "1", "memory": "lots"}, "requests": {"cpu": 0.5}}}],
            "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "1K"}}]}});
        let errs = quantity_errors(info, &pod);
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.containers[0].resources.limits[memory]",
                "spec.volumes[0].emptyDir.sizeLimit"
            ]
        );
    }
}

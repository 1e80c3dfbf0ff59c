//! Strategic merge patch, with upstream's semantics
//! (apimachinery/pkg/util/strategicpatch): maps merge recursively and `null`
//! deletes; lists tagged `patchStrategy: merge` merge (objects by their
//! merge key, scalars as a set) and every other list is replaced; and the
//! directives `$patch` (`replace`/`delete`, in a map or as a list element),
//! `$retainKeys`, `$deleteFromPrimitiveList/<field>` and
//! `$setElementOrder/<field>`. This file handles maps; `list` handles lists.

mod list;

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::PatchError;
use crate::json::check_depth;
use crate::ty::Ty;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// Applies a strategic merge patch to a copy of `doc`, an object of the
/// definition `type_name` (`io.k8s.api.apps.v1.Deployment`). For a type
/// without a schema it falls back to JSON merge patch semantics, as there
/// is no merge metadata to go by.
pub fn strategic_merge_patch(
    doc: &Value,
    patch: &Value,
    type_name: &str,
) -> Result<Value, PatchError> {
    check_depth(doc)?;
    check_depth(patch)?;
    let Value::Object(patch) = patch else {
        return Err(invalid("a strategic merge patch must be a JSON object"));
    };
    let Value::Object(doc) = doc else {
        return Err(invalid("the object to patch is not a JSON object"));
    };
    match Ty::root(type_name) {
        Some(ty) => merge_map(doc.clone(), patch.clone(), ty).map(Value::Object),
        None => {
            let mut out = Value::Object(doc.clone());
            json_patch::merge(&mut out, &Value::Object(patch.clone()));
            Ok(out)
        }
    }
}

pub(crate) fn invalid(msg: impl Into<String>) -> PatchError {
    PatchError::InvalidPatch(msg.into())
}

/// Merges `patch` into `original`, both maps of type `ty`.
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    ty: Ty,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.remove(DIRECTIVE) {
        return match directive.as_str() {
            // The patch is the new value; it is still cleaned of nulls and
            // directives by merging it into nothing.
            Some("replace") => merge_map(Map::new(), patch, ty),
            Some("delete") => Ok(Map::new()),
            _ => Err(bad_patch_type(&directive, &patch)),
        };
    }
    retain_keys(&mut original, &mut patch)?;
    list::apply_set_element_order(&mut original, &mut patch, ty)?;

    for (k, patch_value) in patch {
        let (key, delete_list) = match k.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            Some(_) => (directive_field(&k, DELETE_FROM_PRIMITIVE_LIST)?, true),
            None => (k, false),
        };
        let child = ty.field_or_untyped(&key);
        if patch_value.is_null() {
            original.remove(&key);
            continue;
        }
        if delete_list {
            let Value::Array(to_delete) = patch_value else {
                return Err(invalid(format!(
                    "invalid patch: {DELETE_FROM_PRIMITIVE_LIST}/{key} must be a list"
                )));
            };
            if let Some(Value::Array(current)) = original.get_mut(&key) {
                let kept = list::delete_from_primitive_list(std::mem::take(current), &to_delete)?;
                *current = kept;
            }
            continue;
        }
        let Some(slot) = original.get_mut(&key) else {
            if let Some(v) = fresh(patch_value) {
                original.insert(key, v);
            }
            continue;
        };
        let current = std::mem::take(slot);
        *slot = match (current, patch_value) {
            (Value::Object(o), Value::Object(p)) => {
                if child.meta().replaces() {
                    Value::Object(merge_map(Map::new(), p, child)?)
                } else {
                    Value::Object(merge_map(o, p, child)?)
                }
            }
            (Value::Array(o), Value::Array(p)) => {
                if child.meta().merges() {
                    Value::Array(list::merge_list(o, p, child)?)
                } else {
                    Value::Array(p)
                }
            }
            (_, p) => match fresh(p) {
                Some(v) => v,
                None => {
                    original.remove(&key);
                    continue;
                }
            },
        };
    }
    Ok(original)
}

/// The value a patch sets where the original had nothing (or something of
/// another kind), as upstream takes it: nulls inside maps dropped, and any
/// map carrying a `$patch` directive dropped altogether (`None` at the top).
/// The other directives, which upstream leaves for the typed decoding to
/// discard as unknown fields, are dropped here since objects stay JSON.
pub(super) fn fresh(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) => {
            if map.contains_key(DIRECTIVE) {
                return None;
            }
            let mut out = Map::new();
            for (k, v) in map {
                if v.is_null() || is_directive_key(&k) {
                    continue;
                }
                if let Some(v) = fresh(v) {
                    out.insert(k, v);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(fresh).collect())),
        other => Some(other),
    }
}

fn is_directive_key(key: &str) -> bool {
    key == RETAIN_KEYS
        || key.starts_with(SET_ELEMENT_ORDER)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
}

/// `$retainKeys`: clears the original's keys missing from the list, after
/// checking every key the patch sets is in it.
fn retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let Some(list) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(list) = list else {
        return Err(invalid(
            "invalid patch format of retainKeys: $retainKeys must be a list",
        ));
    };
    let keep: HashSet<&str> = list.iter().filter_map(Value::as_str).collect();
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !keep.contains(k.as_str()) {
            return Err(invalid(format!(
                "invalid patch format of retainKeys: {k:?} is set by the patch but not in $retainKeys"
            )));
        }
    }
    original.retain(|k, _| keep.contains(k.as_str()));
    Ok(())
}

/// The field a `$directive/<field>` key names.
fn directive_field(key: &str, directive: &str) -> Result<String, PatchError> {
    match key.split_once('/') {
        Some((prefix, field)) if prefix == directive => Ok(field.to_string()),
        _ => Err(invalid(format!(
            "invalid patch: {key:?} is not of the form {directive}/<field>"
        ))),
    }
}

fn bad_patch_type(directive: &Value, map: &Map<String, Value>) -> PatchError {
    invalid(format!(
        "unknown patch type: {directive} in map: {}",
        Value::Object(map.clone())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";
    const POD: &str = "io.k8s.api.core.v1.Pod";

    fn smp(doc: Value, patch: Value, ty: &str) -> Value {
        strategic_merge_patch(&doc, &patch, ty).unwrap()
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"app": "d"}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "busybox", "image": "busybox", "command": ["sleep", "3600"]}
            ]}}}
        })
    }

    #[test]
    fn kubectl_patch_adds_env_to_the_named_container() {
        let out = smp(
            deployment(),
            json!({"spec":{"template":{"spec":{"containers":[{"name":"busybox","env":[{"name":"X","value":"1"}]}]}}}}),
            DEPLOYMENT,
        );
        let containers = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 1);
        assert_eq!(containers[0]["image"], "busybox");
        assert_eq!(containers[0]["command"], json!(["sleep", "3600"]));
        assert_eq!(containers[0]["env"], json!([{"name": "X", "value": "1"}]));
    }

    #[test]
    fn new_elements_go_first_without_an_order() {
        let out = smp(
            deployment(),
            json!({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"nginx"}]}}}}),
            DEPLOYMENT,
        );
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["sidecar", "busybox"]);
    }

    #[test]
    fn null_removes_and_non_merging_lists_are_replaced() {
        let out = smp(
            deployment(),
            json!({"metadata":{"labels":{"app":null,"tier":"web"}},
                   "spec":{"replicas":null,"template":{"spec":{"containers":[{"name":"busybox","command":["true"]}]}}}}),
            DEPLOYMENT,
        );
        assert_eq!(out["metadata"]["labels"], json!({"tier": "web"}));
        assert!(out["spec"].get("replicas").is_none());
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["command"],
            json!(["true"])
        );
    }

    #[test]
    fn delete_directive_in_a_list_and_in_a_map() {
        let mut doc = deployment();
        doc["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "sidecar", "image": "nginx"}));
        let out = smp(
            doc.clone(),
            json!({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}),
            DEPLOYMENT,
        );
        let containers = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 1);
        assert_eq!(containers[0]["name"], "busybox");
        let out = smp(
            doc,
            json!({"metadata":{"labels":{"$patch":"delete"}}}),
            DEPLOYMENT,
        );
        assert_eq!(out["metadata"]["labels"], json!({}));
    }

    #[test]
    fn replace_directive() {
        let out = smp(
            deployment(),
            json!({"spec":{"template":{"spec":{"containers":[{"name":"only","image":"x"},{"$patch":"replace"}]}}}}),
            DEPLOYMENT,
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "only", "image": "x"}])
        );
        let out = smp(
            deployment(),
            json!({"metadata":{"labels":{"$patch":"replace","x":"y"}}}),
            DEPLOYMENT,
        );
        assert_eq!(out["metadata"]["labels"], json!({"x": "y"}));
    }

    #[test]
    fn finalizers_merge_as_a_set_and_delete_from_primitive_list() {
        let doc = json!({"metadata": {"name": "p", "finalizers": ["a", "b"]}});
        let out = smp(
            doc.clone(),
            json!({"metadata": {"finalizers": ["b", "c"]}}),
            POD,
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
        let out = smp(
            doc,
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
            POD,
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn set_element_order_reorders() {
        let mut doc = deployment();
        doc["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "sidecar", "image": "nginx"}));
        let out = smp(
            doc,
            json!({"spec":{"template":{"spec":{
                "$setElementOrder/containers":[{"name":"sidecar"},{"name":"busybox"}],
                "containers":[{"name":"sidecar","image":"nginx:2"}]}}}}),
            DEPLOYMENT,
        );
        let containers = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(
            containers[0],
            json!({"name": "sidecar", "image": "nginx:2"})
        );
        assert_eq!(containers[1]["name"], "busybox");
        assert!(
            out["spec"]["template"]["spec"]
                .get("$setElementOrder/containers")
                .is_none()
        );
    }

    #[test]
    fn kubectl_client_side_apply_second_patch() {
        // The three-way patch `kubectl apply` sends after env A was removed
        // from the file, B added and the finalizers reordered.
        let mut doc = deployment();
        doc["metadata"]["finalizers"] = json!(["x", "y"]);
        doc["spec"]["template"]["spec"]["containers"][0]["env"] =
            json!([{"name": "A", "value": "1"}]);
        let out = smp(
            doc,
            json!({
                "metadata": {"$setElementOrder/finalizers": ["y", "x"]},
                "spec": {"template": {"spec": {
                    "$setElementOrder/containers": [{"name": "busybox"}],
                    "containers": [{
                        "name": "busybox",
                        "$setElementOrder/env": [{"name": "B"}],
                        "env": [{"name": "B", "value": "2"}, {"$patch": "delete", "name": "A"}]
                    }]
                }}}
            }),
            DEPLOYMENT,
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["y", "x"]));
        let c = &out["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["env"], json!([{"name": "B", "value": "2"}]));
        assert_eq!(c["image"], "busybox");
        assert!(c.get("$setElementOrder/env").is_none());
    }

    #[test]
    fn nulls_in_new_subtrees_are_dropped() {
        let out = smp(
            deployment(),
            json!({"metadata": {"annotations": {"a": "1", "b": null}}}),
            DEPLOYMENT,
        );
        assert_eq!(out["metadata"]["annotations"], json!({"a": "1"}));
    }

    #[test]
    fn retain_keys_clears_other_fields() {
        let doc = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let out = smp(
            doc.clone(),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            DEPLOYMENT,
        );
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        let err = strategic_merge_patch(
            &doc,
            &json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}),
            DEPLOYMENT,
        );
        assert!(err.is_err());
    }

    #[test]
    fn container_ports_merge_by_container_port() {
        let doc = json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "name": "http"}]}]}});
        let out = smp(
            doc,
            json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}]}]}}),
            POD,
        );
        let ports = out["spec"]["containers"][0]["ports"].as_array().unwrap();
        assert_eq!(ports.len(), 2);
        assert!(ports.contains(&json!({"containerPort": 80, "name": "http", "protocol": "TCP"})));
    }

    #[test]
    fn tolerations_are_replaced() {
        let doc = json!({"spec": {"tolerations": [{"key": "a"}]}});
        let out = smp(doc, json!({"spec": {"tolerations": [{"key": "b"}]}}), POD);
        assert_eq!(out["spec"]["tolerations"], json!([{"key": "b"}]));
    }

    #[test]
    fn bad_directives_are_errors() {
        let doc = deployment();
        for patch in [
            json!({"metadata": {"labels": {"$patch": "explode"}}}),
            json!({"spec": {"template": {"spec": {"containers": [{"image": "no-name"}]}}}}),
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": "merge", "name": "x"}]}}}}),
            json!({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}),
            json!({"metadata": {"$retainKeys": "x"}}),
            json!([1]),
        ] {
            let err = strategic_merge_patch(&doc, &patch, DEPLOYMENT).unwrap_err();
            assert!(
                matches!(err, PatchError::InvalidPatch(_)),
                "{patch}: {err:?}"
            );
        }
    }

    #[test]
    fn unknown_types_use_merge_patch() {
        let doc = json!({"spec": {"items": [1, 2], "a": {"b": 1}}});
        let out = smp(
            doc,
            json!({"spec": {"items": [3], "a": {"b": null, "c": 2}}}),
            "example.com.v1.Widget",
        );
        assert_eq!(out, json!({"spec": {"items": [3], "a": {"c": 2}}}));
    }
}

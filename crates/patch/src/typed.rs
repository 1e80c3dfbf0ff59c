//! structured-merge-diff's operations on typed values, the ground server-side
//! apply and managed-fields tracking stand on: the set of fields a value
//! sets, the difference between two values, merging an applied
//! configuration into a live object, and removing a set of fields.
//!
//! Every walk is recursive but bounded: callers check inputs against
//! [`crate::json::MAX_DEPTH`] first.

mod compare;
mod merge;

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::fieldpath::{FieldSet, PathElement};
use crate::json::canonical;
use crate::meta::{ListType, list_map_key_default};
use crate::ty::{Kind, Ty};

pub(crate) use compare::compare;
pub(crate) use merge::{merge, remove};

/// How a value is walked at a typed position.
enum Form<'a> {
    /// Owned as a whole: scalars, atomic lists, maps and structs, nulls.
    Leaf,
    /// A granular struct or map: each key separately.
    Fields(&'a Map<String, Value>),
    /// A set or list-map: each element separately.
    Items(&'a [Value], ListType),
}

/// Whether a value that does not fit its schema is an error (an applied
/// configuration) or is owned as a whole (a stored object).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    Strict,
    Lenient,
}

fn form<'a>(ty: &Ty, v: &'a Value, strict: Strictness) -> Result<Form<'a>, String> {
    let mismatch = |expected: &str| {
        if strict == Strictness::Strict {
            Err(format!("expected {expected}, got {}", json_kind(v)))
        } else {
            Ok(Form::Leaf)
        }
    };
    match (ty.kind(), v) {
        (_, Value::Null) => Ok(Form::Leaf),
        (Kind::Scalar, Value::Object(_) | Value::Array(_)) => mismatch("a scalar"),
        (Kind::Scalar, _) if strict == Strictness::Strict => {
            let fits = match ty.scalar_type() {
                Some("string") => v.is_string(),
                Some("number") => v.is_number(),
                Some("boolean") => v.is_boolean(),
                _ => true,
            };
            if fits {
                Ok(Form::Leaf)
            } else {
                mismatch(ty.scalar_type().unwrap_or("a scalar"))
            }
        }
        (Kind::Scalar, _) => Ok(Form::Leaf),
        (Kind::Struct | Kind::Map, Value::Object(map)) => Ok(if ty.is_atomic_object() {
            Form::Leaf
        } else {
            Form::Fields(map)
        }),
        (Kind::Struct | Kind::Map, _) => mismatch("an object"),
        (Kind::List, Value::Array(items)) => Ok(match ty.list_type() {
            ListType::Atomic => Form::Leaf,
            lt => Form::Items(items, lt),
        }),
        (Kind::List, _) => mismatch("a list"),
        (Kind::Untyped, Value::Object(map)) => Ok(Form::Fields(map)),
        (Kind::Untyped, _) => Ok(Form::Leaf),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The path element of a list element: its key fields for a list-map
/// (a missing key takes its default, or is left out, as upstream does), its
/// value for a set. An element that has no identity gets its index when
/// lenient.
fn item_pe(
    lt: ListType,
    item: &Value,
    index: usize,
    strict: Strictness,
) -> Result<PathElement, String> {
    match (lt, item) {
        (_, Value::Null) => fallback(index, strict, || {
            "associative list may not have a null element".into()
        }),
        (ListType::Map(keys), Value::Object(obj)) => {
            let mut key = Map::new();
            for k in keys {
                if let Some(v) = obj.get(*k).cloned().or_else(|| list_map_key_default(k)) {
                    key.insert((*k).to_string(), v);
                }
            }
            if key.is_empty() && !keys.is_empty() {
                return fallback(index, strict, || {
                    format!(
                        "associative list with keys has an element that omits all key fields {keys:?} (and doesn't have default values for any key fields)"
                    )
                });
            }
            Ok(PathElement::Key(canonical(&Value::Object(key))))
        }
        (ListType::Map(_), _) => fallback(index, strict, || {
            "associative list with keys may not have non-map elements".into()
        }),
        (_, Value::Object(_)) => fallback(index, strict, || {
            "associative list without keys has an element that's a map type".into()
        }),
        (_, Value::Array(_)) => fallback(index, strict, || {
            "not supported: associative list with lists as elements".into()
        }),
        _ => Ok(PathElement::Value(canonical(item))),
    }
}

fn fallback(
    index: usize,
    strict: Strictness,
    msg: impl FnOnce() -> String,
) -> Result<PathElement, String> {
    match strict {
        Strictness::Strict => Err(msg()),
        Strictness::Lenient => Ok(PathElement::Index(index as u64)),
    }
}

fn prefixed(path: &[PathElement], msg: String) -> String {
    if path.is_empty() {
        msg
    } else {
        format!("{}: {msg}", crate::fieldpath::path_string(path))
    }
}

/// The fields a value sets (upstream's `ToFieldSet`): every leaf, every map
/// key, every list element, and empty or null struct fields.
pub(crate) fn field_set(v: &Value, ty: Ty, strict: Strictness) -> Result<FieldSet, String> {
    let mut out = FieldSet::new();
    let mut path = Vec::new();
    to_set(v, ty, &mut path, &mut out, strict)?;
    Ok(out)
}

fn to_set(
    v: &Value,
    ty: Ty,
    path: &mut Vec<PathElement>,
    out: &mut FieldSet,
    strict: Strictness,
) -> Result<(), String> {
    match form(&ty, v, strict).map_err(|e| prefixed(path, e))? {
        Form::Leaf => out.insert(path),
        Form::Fields(map) => {
            for (k, child) in map {
                let Some(cty) = ty
                    .field(k)
                    .or_else(|| (strict == Strictness::Lenient).then(Ty::untyped))
                else {
                    path.push(PathElement::Field(k.clone()));
                    return Err(prefixed(path, "field not declared in schema".into()));
                };
                path.push(PathElement::Field(k.clone()));
                to_set(child, cty, path, out, strict)?;
                let empty = child.is_null() || child.as_object().is_some_and(Map::is_empty);
                if empty || !ty.declares(k) {
                    out.insert(path);
                }
                path.pop();
            }
        }
        Form::Items(items, lt) => {
            let elem = ty.elem();
            let mut pes = Vec::with_capacity(items.len());
            let mut count: HashMap<PathElement, usize> = HashMap::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let pe = item_pe(lt, item, i, strict).map_err(|e| prefixed(path, e))?;
                let n = count.entry(pe.clone()).or_default();
                *n += 1;
                if *n > 1 && strict == Strictness::Strict {
                    return Err(prefixed(path, format!("duplicate entries for key {pe}")));
                }
                pes.push(pe);
            }
            for (pe, item) in pes.into_iter().zip(items) {
                let duplicated = count.get(&pe).is_some_and(|n| *n > 1);
                path.push(pe);
                // Duplicated elements (in stored objects) are owned as a
                // whole, as upstream does.
                if !duplicated {
                    to_set(item, elem, path, out, strict)?;
                }
                out.insert(path);
                path.pop();
            }
        }
    }
    Ok(())
}

/// A list's elements by path element. Elements whose path element occurs
/// more than once (possible in stored objects) have no value by it: like
/// upstream, they are never merged with anything.
struct Indexed<'a> {
    order: Vec<(PathElement, &'a Value)>,
    by_pe: HashMap<PathElement, Option<&'a Value>>,
}

impl<'a> Indexed<'a> {
    fn get(&self, pe: &PathElement) -> Option<&'a Value> {
        self.by_pe.get(pe).copied().flatten()
    }

    fn contains(&self, pe: &PathElement) -> bool {
        self.by_pe.contains_key(pe)
    }
}

fn index_items(items: &[Value], lt: ListType) -> Indexed<'_> {
    let mut order = Vec::with_capacity(items.len());
    let mut by_pe: HashMap<PathElement, Option<&Value>> = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let pe = item_pe(lt, item, i, Strictness::Lenient).unwrap_or(PathElement::Index(i as u64));
        by_pe
            .entry(pe.clone())
            .and_modify(|v| *v = None)
            .or_insert(Some(item));
        order.push((pe, item));
    }
    Indexed { order, by_pe }
}

/// Adds as members the struct fields (not map keys or list elements) that
/// have descendants in the set (upstream's `EnsureNamedFieldsAreMembers`),
/// so pruning can remove a whole field its manager stopped applying.
pub(crate) fn ensure_named_fields(set: &FieldSet, ty: Ty) -> FieldSet {
    let mut out = FieldSet::new();
    for pe in set.members() {
        out.insert_member(pe.clone());
    }
    for (pe, child) in set.children() {
        let cty = match pe {
            PathElement::Field(name) => {
                if ty.declares(name) {
                    out.insert_member(pe.clone());
                }
                ty.field_or_untyped(name)
            }
            _ => ty.elem(),
        };
        out.set_child(pe.clone(), ensure_named_fields(child, cty));
    }
    out
}

/// Drops `null` values from typed structs and maps (a typed object cannot
/// hold them: upstream's conversion back to Go types omits them).
pub(crate) fn strip_nulls(v: &mut Value, ty: Ty) {
    let kind = ty.kind();
    match v {
        Value::Object(map) if kind == Kind::Struct || kind == Kind::Map => {
            map.retain(|_, child| !child.is_null());
            for (k, child) in map.iter_mut() {
                strip_nulls(child, ty.field_or_untyped(k));
            }
        }
        Value::Array(items) if kind == Kind::List => {
            let elem = ty.elem();
            for item in items {
                strip_nulls(item, elem);
            }
        }
        _ => {}
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldpath::path_string;
    use serde_json::json;

    fn deployment() -> Ty {
        Ty::root("io.k8s.api.apps.v1.Deployment").unwrap()
    }

    fn paths(set: &FieldSet) -> Vec<String> {
        set.paths().iter().map(|p| path_string(p)).collect()
    }

    #[test]
    fn field_set_of_a_deployment() {
        let d = json!({
            "metadata": {"name": "d", "labels": {"app": "x"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "x"}},
                "template": {"spec": {"containers": [
                    {"name": "c", "image": "i", "ports": [{"containerPort": 80}]}
                ]}}
            }
        });
        let set = field_set(&d, deployment(), Strictness::Strict).unwrap();
        let p = paths(&set);
        assert!(p.contains(&".metadata.labels.app".to_string()), "{p:?}");
        assert!(
            p.contains(&".spec.selector".to_string()),
            "atomic selector: {p:?}"
        );
        assert!(!p.iter().any(|x| x.starts_with(".spec.selector.")), "{p:?}");
        assert!(p.contains(&r#".spec.template.spec.containers[name="c"]"#.to_string()));
        assert!(p.contains(&r#".spec.template.spec.containers[name="c"].image"#.to_string()));
        assert!(p.contains(
            &r#".spec.template.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"]"#.to_string()
        ));
        assert!(!p.contains(&".spec".to_string()));
    }

    #[test]
    fn strict_rejects_undeclared_fields_and_duplicates() {
        let bad = json!({"spec": {"nope": 1}});
        let err = field_set(&bad, deployment(), Strictness::Strict).unwrap_err();
        assert_eq!(err, ".spec.nope: field not declared in schema");
        let dup =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}}});
        assert!(field_set(&dup, deployment(), Strictness::Strict).is_err());
        assert!(field_set(&dup, deployment(), Strictness::Lenient).is_ok());
    }

    #[test]
    fn remove_and_named_fields() {
        let ty = Ty::root("io.k8s.api.core.v1.ConfigMap").unwrap();
        let mut set = FieldSet::new();
        set.insert(&[
            PathElement::Field("data".into()),
            PathElement::Field("a".into()),
        ]);
        let ensured = ensure_named_fields(&set, ty);
        assert!(ensured.has(&[PathElement::Field("data".into())]));
        let out = remove(&json!({"data": {"a": "1", "b": "2"}}), &set, ty);
        assert_eq!(out, json!({"data": {"b": "2"}}));
        let out = remove(&json!({"data": {"a": "1"}}), &ensured, ty);
        assert_eq!(out, json!({}));
    }
}

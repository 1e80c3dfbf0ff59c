//! What changed between two values of one type (upstream's `Compare`):
//! the fields added, the leaves modified and the fields removed, which
//! decide ownership changes and apply conflicts.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Form, Strictness, Ty, form, index_items};
use crate::fieldpath::{FieldSet, PathElement};
use crate::json::json_eq;
use crate::meta::ListType;

/// What changed between two values (upstream's `Compare`).
#[derive(Default)]
pub(crate) struct Comparison {
    /// Fields present only in the new value (with their parents).
    pub added: FieldSet,
    /// Leaves whose value changed.
    pub modified: FieldSet,
    /// Fields present only in the old value.
    pub removed: FieldSet,
}

/// Compares two values of the same type.
pub(crate) fn compare(old: &Value, new: &Value, ty: Ty) -> Comparison {
    let mut c = Comparison::default();
    let mut path = Vec::new();
    cmp(Some(old), Some(new), ty, &mut path, &mut c);
    c
}

fn cmp(
    l: Option<&Value>,
    r: Option<&Value>,
    ty: Ty,
    path: &mut Vec<PathElement>,
    c: &mut Comparison,
) {
    let lf = l.map(|v| form(&ty, v, Strictness::Lenient).unwrap_or(Form::Leaf));
    let rf = r.map(|v| form(&ty, v, Strictness::Lenient).unwrap_or(Form::Leaf));
    match (lf, rf) {
        (Some(Form::Fields(lm)), Some(Form::Fields(rm))) => {
            compare_fields(Some(lm), Some(rm), ty, path, c);
        }
        (Some(Form::Items(li, lt)), Some(Form::Items(ri, _))) => {
            compare_items(Some(li), Some(ri), lt, ty, path, c);
        }
        (None, Some(Form::Fields(rm))) => {
            compare_fields(None, Some(rm), ty, path, c);
            c.added.insert(path);
        }
        (None, Some(Form::Items(ri, lt))) => {
            compare_items(None, Some(ri), lt, ty, path, c);
            c.added.insert(path);
        }
        (Some(Form::Fields(lm)), None) => {
            compare_fields(Some(lm), None, ty, path, c);
            c.removed.insert(path);
        }
        (Some(Form::Items(li, lt)), None) => {
            compare_items(Some(li), None, lt, ty, path, c);
            c.removed.insert(path);
        }
        (None, Some(_)) => c.added.insert(path),
        (Some(_), None) => c.removed.insert(path),
        (Some(_), Some(_)) => {
            if let (Some(a), Some(b)) = (l, r)
                && !json_eq(a, b)
            {
                c.modified.insert(path);
            }
        }
        (None, None) => {}
    }
}

fn compare_fields(
    l: Option<&Map<String, Value>>,
    r: Option<&Map<String, Value>>,
    ty: Ty,
    path: &mut Vec<PathElement>,
    c: &mut Comparison,
) {
    let keys = l
        .into_iter()
        .flat_map(|m| m.keys())
        .chain(r.into_iter().flat_map(|m| m.keys()));
    let mut done = HashSet::new();
    for k in keys {
        if !done.insert(k) {
            continue;
        }
        path.push(PathElement::Field(k.clone()));
        cmp(
            l.and_then(|m| m.get(k)),
            r.and_then(|m| m.get(k)),
            ty.field_or_untyped(k),
            path,
            c,
        );
        path.pop();
    }
}

fn compare_items(
    l: Option<&[Value]>,
    r: Option<&[Value]>,
    lt: ListType,
    ty: Ty,
    path: &mut Vec<PathElement>,
    c: &mut Comparison,
) {
    let elem = ty.elem();
    let li = index_items(l.unwrap_or_default(), lt);
    let ri = index_items(r.unwrap_or_default(), lt);
    let mut done = HashSet::new();
    for (pe, _) in li.order.iter().chain(ri.order.iter()) {
        if !done.insert(pe) {
            continue;
        }
        path.push(pe.clone());
        cmp(li.get(pe), ri.get(pe), elem, path, c);
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldpath::path_string;
    use serde_json::json;

    fn paths(set: &FieldSet) -> Vec<String> {
        set.paths().iter().map(|p| path_string(p)).collect()
    }

    #[test]
    fn compare_marks_added_parents() {
        let ty = Ty::root("io.k8s.api.core.v1.ConfigMap").unwrap();
        let c = compare(
            &json!({"data": {"a": "1"}}),
            &json!({"data": {"a": "2"}, "binaryData": {"b": ""}}),
            ty,
        );
        assert_eq!(paths(&c.modified), vec![".data.a"]);
        assert_eq!(paths(&c.added), vec![".binaryData", ".binaryData.b"]);
        assert!(c.removed.is_empty());
    }
}

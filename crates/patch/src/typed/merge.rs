//! Merging an applied configuration into a live object, and removing a
//! set of fields from a value.

use std::collections::{HashSet, VecDeque};

use serde_json::{Map, Value};

use super::{Form, Strictness, Ty, form, index_items, item_pe};
use crate::fieldpath::{FieldSet, PathElement};
use crate::meta::ListType;

/// Merges an applied configuration into a live object: the configuration's
/// leaves win, granular maps merge key by key, sets and list-maps merge by
/// element identity (live order kept, applied order for what it names).
pub(crate) fn merge(l: &Value, r: &Value, ty: Ty) -> Value {
    let lf = form(&ty, l, Strictness::Lenient).unwrap_or(Form::Leaf);
    let rf = form(&ty, r, Strictness::Lenient).unwrap_or(Form::Leaf);
    match (lf, rf) {
        (Form::Fields(lm), Form::Fields(rm)) => {
            let mut out = lm.clone();
            for (k, rv) in rm {
                let merged = match lm.get(k) {
                    Some(lv) => merge(lv, rv, ty.field_or_untyped(k)),
                    None => rv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Form::Items(li, lt), Form::Items(ri, _)) => {
            Value::Array(merge_items(li, ri, lt, ty.elem()))
        }
        _ => r.clone(),
    }
}

/// Upstream's list merge: walks both lists, emitting live-only elements in
/// place, shared elements in the applied order, applied-only elements where
/// the applied list has them.
fn merge_items(l: &[Value], r: &[Value], lt: ListType, elem: Ty) -> Vec<Value> {
    let li = index_items(l, lt);
    let ri = index_items(r, lt);
    let lpes: Vec<&PathElement> = li.order.iter().map(|(pe, _)| pe).collect();
    let rpes: Vec<&PathElement> = ri.order.iter().map(|(pe, _)| pe).collect();
    let mut shared: VecDeque<&PathElement> =
        rpes.iter().copied().filter(|pe| li.contains(pe)).collect();
    let mut next_shared = shared.pop_front();
    let mut merged_r: HashSet<&PathElement> = HashSet::new();
    let mut out = Vec::with_capacity(l.len().max(r.len()));
    let merge_pe = |pe: &PathElement| -> Option<Value> {
        match (li.get(pe), ri.get(pe)) {
            (Some(a), Some(b)) => Some(merge(a, b, elem)),
            (None, Some(b)) => Some(b.clone()),
            (Some(a), None) => Some(a.clone()),
            (None, None) => None,
        }
    };
    let (mut i, mut j) = (0, 0);
    while i < lpes.len() || j < rpes.len() {
        if let (Some(lpe), Some(rpe)) = (lpes.get(i), rpes.get(j)) {
            if lpe == rpe {
                merged_r.insert(lpe);
                out.extend(merge_pe(lpe));
                i += 1;
                j += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if ri.contains(lpe) && next_shared.is_some_and(|n| n != *lpe) {
                // A shared element, but not the one due next.
                i += 1;
                continue;
            }
        }
        if let Some(lpe) = lpes.get(i) {
            if !ri.contains(lpe) {
                if let Some((_, v)) = li.order.get(i) {
                    out.push((*v).clone());
                }
                i += 1;
                continue;
            }
            if merged_r.contains(lpe) {
                // Already merged from the applied side; upstream moves on
                // to the applied list in the same step.
                i += 1;
            } else if j >= rpes.len() {
                // Unreachable (every applied element gets merged before the
                // applied list ends), but never loop forever.
                i += 1;
                continue;
            }
        }
        if let Some(rpe) = rpes.get(j) {
            merged_r.insert(rpe);
            out.extend(merge_pe(rpe));
            j += 1;
            if next_shared.is_some_and(|n| n == *rpe) {
                next_shared = shared.pop_front();
            }
        }
    }
    out
}

/// Removes the fields of `set` from a value; removing a member removes
/// everything below it.
pub(crate) fn remove(v: &Value, set: &FieldSet, ty: Ty) -> Value {
    match form(&ty, v, Strictness::Lenient).unwrap_or(Form::Leaf) {
        Form::Leaf => v.clone(),
        Form::Fields(map) => {
            let mut out = Map::new();
            for (k, child) in map {
                let pe = PathElement::Field(k.clone());
                if set.has_member(&pe) {
                    continue;
                }
                let kept = match set.child(&pe) {
                    Some(sub) => remove(child, sub, ty.field_or_untyped(k)),
                    None => child.clone(),
                };
                out.insert(k.clone(), kept);
            }
            Value::Object(out)
        }
        Form::Items(items, lt) => {
            let elem = ty.elem();
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let pe = item_pe(lt, item, i, Strictness::Lenient)
                    .unwrap_or(PathElement::Index(i as u64));
                if set.has_member(&pe) {
                    continue;
                }
                out.push(match set.child(&pe) {
                    Some(sub) => remove(item, sub, elem),
                    None => item.clone(),
                });
            }
            Value::Array(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_list_map_keeps_live_only_items() {
        let pod = Ty::root("io.k8s.api.core.v1.PodSpec").unwrap();
        let live =
            json!({"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}]});
        let cfg = json!({"containers": [{"name": "b", "image": "3"}, {"name": "c", "image": "4"}]});
        let out = merge(&live, &cfg, pod);
        assert_eq!(
            out["containers"],
            json!([{"name": "a", "image": "1"}, {"name": "b", "image": "3"}, {"name": "c", "image": "4"}])
        );
    }
}

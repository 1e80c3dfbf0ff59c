//! Lists in a strategic merge patch: merging by merge key or as a set of
//! scalars, `$patch` list elements, `$deleteFromPrimitiveList` and
//! `$setElementOrder`, and upstream's element order (patch order for what
//! the patch names, live order for the rest, interleaved by live order).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{DIRECTIVE, SET_ELEMENT_ORDER, directive_field, fresh, invalid, merge_map};
use crate::PatchError;
use crate::json::{canonical, dedup, json_eq};
use crate::ty::Ty;

/// Merges a patch list into a list whose field has `patchStrategy: merge`.
pub(super) fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    ty: Ty,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let key = ty.meta().patch_merge_key;
    let objects = elements_are_objects(&original, &patch)?;
    let (original, patch, merged) = if !objects {
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        let merged = dedup(both);
        (original, patch, merged)
    } else {
        let Some(key) = key else {
            return Err(invalid(format!(
                "cannot merge lists without merge key for {}",
                ty.elem().def().unwrap_or("an untyped list")
            )));
        };
        let (original, patch) = special_elements(original, patch, key, ty.elem())?;
        let merged = merge_by_key(original.clone(), &patch, key, ty.elem())?;
        (original, patch, merged)
    };
    let key = if objects { key } else { None };
    let (named, server_only) = partition(merged, &patch, key)?;
    Ok(normalize_order(named, server_only, &patch, &original, key))
}

/// `$deleteFromPrimitiveList/<field>`: removes every listed value.
pub(super) fn delete_from_primitive_list(
    current: Vec<Value>,
    to_delete: &[Value],
) -> Result<Vec<Value>, PatchError> {
    if current
        .iter()
        .chain(to_delete)
        .any(|v| v.is_object() || v.is_array())
    {
        return Err(invalid(
            "$deleteFromPrimitiveList applies only to lists of primitives",
        ));
    }
    let gone: HashSet<String> = to_delete.iter().map(canonical).collect();
    Ok(current
        .into_iter()
        .filter(|v| !gone.contains(&canonical(v)))
        .collect())
}

/// Whether the elements are objects; all must be of one JSON type and none
/// a list.
fn elements_are_objects(a: &[Value], b: &[Value]) -> Result<bool, PatchError> {
    let mut first: Option<std::mem::Discriminant<Value>> = None;
    let mut objects = false;
    for v in a.iter().chain(b) {
        if v.is_array() {
            return Err(invalid("lists of lists are not supported"));
        }
        let d = std::mem::discriminant(v);
        match first {
            None => {
                first = Some(d);
                objects = v.is_object();
            }
            Some(f) if f != d => {
                return Err(invalid("list element types are not identical"));
            }
            Some(_) => {}
        }
    }
    Ok(objects)
}

fn no_merge_key(item: &Map<String, Value>, key: &str) -> PatchError {
    invalid(format!(
        "map: {} does not contain declared merge key: {key}",
        Value::Object(item.clone())
    ))
}

/// Applies the `$patch` elements of a patch list: `delete` removes the
/// original's elements with that key, `replace` makes the rest of the patch
/// the whole list. Returns the (new) original and the patch without them.
fn special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
    elem: Ty,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut rest = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Value::Object(map) = &item else {
            return Err(invalid("list element types are not identical"));
        };
        let Some(directive) = map.get(DIRECTIVE) else {
            rest.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let Some(value) = map.get(key) else {
                    return Err(no_merge_key(map, key));
                };
                original.retain(|o| !o.get(key).is_some_and(|v| json_eq(v, value)));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                return Err(invalid(
                    "merging lists cannot yet be specified in the patch",
                ));
            }
            _ => {
                return Err(invalid(format!(
                    "unknown patch type: {directive} in map: {}",
                    Value::Object(map.clone())
                )));
            }
        }
    }
    if replace {
        // The patch's elements are the new list, cleaned like new values.
        let mut list = Vec::with_capacity(rest.len());
        for item in rest {
            if let Value::Object(map) = item {
                list.push(Value::Object(merge_map(Map::new(), map, elem)?));
            }
        }
        return Ok((list, Vec::new()));
    }
    Ok((original, rest))
}

/// Merges each patch element into the original element with the same merge
/// key value, or appends it.
fn merge_by_key(
    mut original: Vec<Value>,
    patch: &[Value],
    key: &str,
    elem: Ty,
) -> Result<Vec<Value>, PatchError> {
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, o) in original.iter().enumerate() {
        if let Some(v) = o.get(key) {
            index.entry(canonical(v)).or_insert(i);
        }
    }
    for item in patch {
        let Value::Object(map) = item else {
            return Err(invalid("list element types are not identical"));
        };
        let Some(value) = map.get(key) else {
            return Err(no_merge_key(map, key));
        };
        let id = canonical(value);
        match index.get(&id).copied() {
            Some(i) => {
                if let Some(slot) = original.get_mut(i) {
                    let current = match std::mem::take(slot) {
                        Value::Object(m) => m,
                        _ => Map::new(),
                    };
                    *slot = Value::Object(merge_map(current, map.clone(), elem)?);
                }
            }
            None => {
                index.insert(id, original.len());
                original.push(Value::Object(merge_map(Map::new(), map.clone(), elem)?));
            }
        }
    }
    Ok(original)
}

/// The identity of an element: its merge key value, or itself for scalars.
fn identity(v: &Value, key: Option<&str>) -> Result<String, PatchError> {
    match key {
        None => Ok(canonical(v)),
        Some(key) => match v {
            Value::Object(map) => map
                .get(key)
                .map(canonical)
                .ok_or_else(|| no_merge_key(map, key)),
            _ => Err(invalid("list element types are not identical")),
        },
    }
}

/// First positions of each identity in a list.
fn positions(list: &[Value], key: Option<&str>) -> HashMap<String, usize> {
    let mut out = HashMap::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        if let Ok(id) = identity(v, key) {
            out.entry(id).or_insert(i);
        }
    }
    out
}

/// Splits merged elements into those `by` names and the rest.
fn partition(
    merged: Vec<Value>,
    by: &[Value],
    key: Option<&str>,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut names = HashSet::with_capacity(by.len());
    for v in by {
        names.insert(identity(v, key)?);
    }
    let mut named = Vec::new();
    let mut rest = Vec::new();
    for v in merged {
        if names.contains(&identity(&v, key)?) {
            named.push(v);
        } else {
            rest.push(v);
        }
    }
    Ok((named, rest))
}

/// Orders the named elements by `order` and the others by the live list,
/// then interleaves them: a live-only element goes before a named one when
/// both are in the live list in that order; otherwise the named one first.
fn normalize_order(
    mut named: Vec<Value>,
    mut server_only: Vec<Value>,
    order: &[Value],
    live: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    let order_pos = positions(order, key);
    let live_pos = positions(live, key);
    let pos_in = |map: &HashMap<String, usize>, v: &Value| {
        identity(v, key).ok().and_then(|id| map.get(&id).copied())
    };
    named.sort_by_key(|v| pos_in(&order_pos, v).unwrap_or(usize::MAX));
    server_only.sort_by_key(|v| pos_in(&live_pos, v).unwrap_or(usize::MAX));

    let mut out = Vec::with_capacity(named.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = named.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (pos_in(&live_pos, l), pos_in(&live_pos, r)),
                (Some(a), Some(b)) if a < b
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

/// Processes every `$setElementOrder/<field>` of a patch map: merges the
/// field's patch list (if any) into the original, then orders the result by
/// the directive, live order breaking ties for elements it does not name.
pub(super) fn apply_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    ty: Ty,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive_key in keys {
        let Some(order) = patch.remove(&directive_key) else {
            continue;
        };
        let field = directive_field(&directive_key, SET_ELEMENT_ORDER)?;
        let Value::Array(order) = order else {
            return Err(invalid(format!(
                "invalid patch: {directive_key} must be a list"
            )));
        };
        let child = ty.field_or_untyped(&field);
        let merges = child.meta().merges();
        let key = child.meta().patch_merge_key;
        let live = match original.get(&field) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(items.clone()),
            Some(_) => return Err(invalid(format!("invalid patch: {field} is not a list"))),
        };
        let patch_list = match patch.remove(&field) {
            None => None,
            Some(Value::Array(items)) => Some(items),
            Some(_) => {
                return Err(invalid(format!(
                    "invalid patch: {field} must be a list beside {directive_key}"
                )));
            }
        };
        let objects = elements_are_objects(
            live.as_deref().unwrap_or_default(),
            patch_list.as_deref().unwrap_or_default(),
        )?;
        let key = if objects { key } else { None };
        if let Some(p) = &patch_list {
            validate_order(p, &order, key)?;
        }
        let merged = match (live.clone(), patch_list) {
            (Some(l), None) => l,
            (None, Some(p)) => match fresh(Value::Array(p)) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            (Some(l), Some(p)) => {
                if merges {
                    merge_list(l, p, child)?
                } else {
                    p
                }
            }
            (None, None) => continue,
        };
        if objects && key.is_none() {
            // A list of objects without a merge key cannot be ordered by
            // identity; the merged list stands as it is.
            original.insert(field, Value::Array(merged));
            continue;
        }
        let (named, server_only) = partition(merged, &order, key)?;
        let live = live.unwrap_or_default();
        original.insert(
            field,
            Value::Array(normalize_order(named, server_only, &order, &live, key)),
        );
    }
    Ok(())
}

/// Checks that the patch list names elements in the directive's order and
/// only elements the directive names (deletions aside).
fn validate_order(patch: &[Value], order: &[Value], key: Option<&str>) -> Result<(), PatchError> {
    if patch.is_empty() || order.is_empty() {
        return Ok(());
    }
    let items: Vec<&Value> = patch
        .iter()
        .filter(|v| key.is_none() || v.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"))
        .collect();
    let (mut p, mut o) = (0, 0);
    while let (Some(item), Some(ordered)) = (items.get(p), order.get(o)) {
        if item.get(DIRECTIVE).is_some() {
            p += 1;
            continue;
        }
        if identity(item, key)? == identity(ordered, key)? {
            p += 1;
        }
        o += 1;
    }
    if p < items.len() {
        return Err(invalid(format!(
            "the order in patch list {} doesn't match $setElementOrder list {}",
            Value::Array(patch.to_vec()),
            Value::Array(order.to_vec())
        )));
    }
    Ok(())
}

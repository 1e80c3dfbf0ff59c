//! Lenient reads of JSON objects: a missing or mistyped field reads as
//! absent, never as a panic.

use serde_json::{Map, Value};

/// The value at `path` (object keys), if every step is an object with
/// that key.
pub(crate) fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = cur.as_object()?.get(*key)?;
    }
    Some(cur)
}

/// The string at `path`.
pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(v, path)?.as_str()
}

/// The string at `path`, or `""`.
pub(crate) fn str_or_empty<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    str_at(v, path).unwrap_or("")
}

/// The array at `path`, or an empty slice.
pub(crate) fn arr_at<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    get(v, path)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The object at `path`.
pub(crate) fn obj_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    get(v, path)?.as_object()
}

/// The bool at `path`.
pub(crate) fn bool_at(v: &Value, path: &[&str]) -> Option<bool> {
    get(v, path)?.as_bool()
}

/// Whether `path` holds something other than `null`.
pub(crate) fn has(v: &Value, path: &[&str]) -> bool {
    get(v, path).is_some_and(|v| !v.is_null())
}

/// The object at `path` in `v`, created (replacing non-objects) on the
/// way; `None` only when `v` itself is not an object.
pub(crate) fn obj_mut<'a>(v: &'a mut Value, path: &[&str]) -> Option<&'a mut Map<String, Value>> {
    let mut cur = v;
    for key in path {
        let map = cur.as_object_mut()?;
        let next = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        cur = next;
    }
    cur.as_object_mut()
}

/// A string-to-string map at `path` (labels, annotations); values that
/// are not strings are left out.
pub(crate) fn string_map(v: &Value, path: &[&str]) -> std::collections::BTreeMap<String, String> {
    obj_at(v, path)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// `v` without nulls, empty arrays and empty objects (recursively), for
/// upstream's semantic equality, which takes nil and empty as equal.
pub(crate) fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_reads() {
        let v = json!({"a": {"b": "c", "n": 1, "l": [1, 2], "t": true}});
        assert_eq!(str_at(&v, &["a", "b"]), Some("c"));
        assert_eq!(str_at(&v, &["a", "n"]), None);
        assert_eq!(str_or_empty(&v, &["x"]), "");
        assert_eq!(arr_at(&v, &["a", "l"]).len(), 2);
        assert!(arr_at(&v, &["a", "b"]).is_empty());
        assert_eq!(bool_at(&v, &["a", "t"]), Some(true));
        assert!(has(&v, &["a", "n"]));
        assert!(!has(&json!({"a": null}), &["a"]));
        assert!(get(&json!("str"), &["a"]).is_none());
    }

    #[test]
    fn creates_objects_on_the_way() {
        let mut v = json!({"spec": "oops"});
        obj_mut(&mut v, &["spec", "x"])
            .unwrap()
            .insert("y".into(), json!(1));
        assert_eq!(v, json!({"spec": {"x": {"y": 1}}}));
        assert!(obj_mut(&mut json!([1]), &["a"]).is_none());
    }

    #[test]
    fn normalizes_empties() {
        assert_eq!(
            normalized(&json!({"a": null, "b": [], "c": {}, "d": {"e": []}, "f": [{}], "g": 0})),
            json!({"f": [{}], "g": 0})
        );
    }
}

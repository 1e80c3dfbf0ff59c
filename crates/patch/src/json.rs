//! JSON patch (RFC 6902) and JSON merge patch (RFC 7386), via the
//! `json-patch` crate, plus the JSON helpers the other patch types share:
//! body parsing, canonical encoding, number-aware equality and the nesting
//! limit that keeps every recursive walk in this crate within the stack.

use std::collections::HashSet;

use json_patch::{Patch, PatchErrorKind, PatchOperation};
use serde_json::Value;

use crate::PatchError;

/// The deepest nesting any input or result may have. serde_json refuses
/// more than 128 levels when parsing; values built otherwise are checked
/// against this before any recursive walk.
pub const MAX_DEPTH: usize = 256;

/// Upstream's limit on the operations of one JSON patch.
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// How many bytes `copy` operations of one JSON patch may duplicate in
/// total (upstream bounds them by the request size limit, 3 MiB), so a few
/// operations cannot grow a document exponentially.
pub const MAX_COPIED_BYTES: usize = 3 * 1024 * 1024;

/// Parses a JSON body.
pub fn parse_json(body: &[u8]) -> Result<Value, PatchError> {
    serde_json::from_slice(body).map_err(|e| PatchError::Malformed(format!("invalid JSON: {e}")))
}

/// Parses a YAML (or JSON, a subset of YAML) body, as an
/// `application/apply-patch+yaml` request carries.
pub fn parse_yaml(body: &[u8]) -> Result<Value, PatchError> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(v);
    }
    let value: Value = serde_yaml_ng::from_slice(body)
        .map_err(|e| PatchError::Malformed(format!("invalid YAML: {e}")))?;
    check_depth(&value)?;
    Ok(value)
}

/// Applies an RFC 6902 JSON patch (a JSON array of operations) to a copy of
/// `doc`. All or nothing: on error nothing is returned.
pub fn json_patch(doc: &Value, patch: &[u8]) -> Result<Value, PatchError> {
    check_depth(doc)?;
    let ops: Patch = serde_json::from_slice(patch)
        .map_err(|e| PatchError::Malformed(format!("invalid JSON patch: {e}")))?;
    if ops.0.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::InvalidPatch(format!(
            "the allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {}",
            ops.0.len()
        )));
    }
    let mut out = doc.clone();
    // A bound on the result's depth, raised by each operation that inserts a
    // value; the exact depth is only computed when the bound gets large.
    let mut depth_bound = depth(&out);
    let mut copied = 0usize;
    for op in &ops.0 {
        let inserted = match op {
            PatchOperation::Add(o) => Some((o.path.count(), depth(&o.value))),
            PatchOperation::Replace(o) => Some((o.path.count(), depth(&o.value))),
            PatchOperation::Copy(o) => {
                let from = o.from.resolve(&out).ok();
                if let Some(v) = from {
                    copied = copied.saturating_add(approximate_size(v));
                    if copied > MAX_COPIED_BYTES {
                        return Err(PatchError::InvalidPatch(format!(
                            "the JSON patch copies more than {MAX_COPIED_BYTES} bytes"
                        )));
                    }
                }
                from.map(|v| (o.path.count(), depth(v)))
            }
            PatchOperation::Move(o) => o
                .from
                .resolve(&out)
                .ok()
                .map(|v| (o.path.count(), depth(v))),
            PatchOperation::Remove(_) | PatchOperation::Test(_) => None,
        };
        json_patch::patch(&mut out, std::slice::from_ref(op)).map_err(|e| translate(op, e.kind))?;
        if let Some((path_len, value_depth)) = inserted {
            depth_bound = depth_bound.max(path_len.saturating_add(value_depth));
            if depth_bound > MAX_DEPTH {
                depth_bound = depth(&out);
                if depth_bound > MAX_DEPTH {
                    return Err(too_deep());
                }
            }
        }
    }
    Ok(out)
}

fn translate(op: &PatchOperation, kind: PatchErrorKind) -> PatchError {
    let (name, path, from) = match op {
        PatchOperation::Add(o) => ("add", o.path.to_string(), None),
        PatchOperation::Remove(o) => ("remove", o.path.to_string(), None),
        PatchOperation::Replace(o) => ("replace", o.path.to_string(), None),
        PatchOperation::Move(o) => ("move", o.path.to_string(), Some(o.from.to_string())),
        PatchOperation::Copy(o) => ("copy", o.path.to_string(), Some(o.from.to_string())),
        PatchOperation::Test(o) => ("test", o.path.to_string(), None),
    };
    match kind {
        PatchErrorKind::TestFailed => PatchError::TestFailed { path },
        PatchErrorKind::InvalidPointer => PatchError::PathNotFound {
            op: name.into(),
            path,
        },
        PatchErrorKind::InvalidFromPointer => PatchError::PathNotFound {
            op: name.into(),
            path: from.unwrap_or(path),
        },
        PatchErrorKind::CannotMoveInsideItself => {
            PatchError::InvalidPatch(format!("{name} operation cannot move {path} inside itself"))
        }
        other => PatchError::InvalidPatch(format!("{name} operation at {path} failed: {other}")),
    }
}

/// Applies an RFC 7386 JSON merge patch to a copy of `doc`: objects merge
/// recursively, `null` deletes, anything else (lists too) replaces.
pub fn merge_patch(doc: &Value, patch: &[u8]) -> Result<Value, PatchError> {
    check_depth(doc)?;
    let patch = parse_json(patch)?;
    if !patch.is_object() {
        return Err(PatchError::InvalidPatch(
            "a merge patch must be a JSON object".into(),
        ));
    }
    let mut out = doc.clone();
    json_patch::merge(&mut out, &patch);
    Ok(out)
}

/// Rejects values nested deeper than [`MAX_DEPTH`].
pub(crate) fn check_depth(v: &Value) -> Result<(), PatchError> {
    if depth(v) > MAX_DEPTH {
        Err(too_deep())
    } else {
        Ok(())
    }
}

fn too_deep() -> PatchError {
    PatchError::InvalidPatch(format!(
        "the document is nested deeper than {MAX_DEPTH} levels"
    ))
}

/// The nesting depth of a value (a scalar is 1), without recursion.
pub(crate) fn depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    max
}

/// Roughly the encoded size of a value, without recursion.
fn approximate_size(v: &Value) -> usize {
    let mut size = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        size = size.saturating_add(match v {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 8,
            Value::String(s) => s.len() + 2,
            Value::Array(items) => {
                stack.extend(items.iter());
                2 + items.len()
            }
            Value::Object(map) => {
                stack.extend(map.values());
                map.keys().map(|k| k.len() + 4).sum::<usize>() + 2
            }
        });
    }
    size
}

/// A canonical JSON encoding: object keys sorted and integral numbers
/// written as integers, so equal values encode equally (used for path
/// elements and as hash keys).
pub(crate) fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(child) = map.get(k) {
                    write_canonical(child, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                // Integral floats are the same value as the integer.
                out.push_str(&format!("{}", f as i64));
            }
            _ => out.push_str(&n.to_string()),
        },
        other => out.push_str(&other.to_string()),
    }
}

/// Value equality that treats `80` and `80.0` as the same number.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || canonical(a) == canonical(b),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Removes later duplicates, keeping first occurrences in order.
pub(crate) fn dedup(items: Vec<Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|v| seen.insert(canonical(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_patch_operations() {
        let doc = json!({"a": 1, "b": [1, 2]});
        let out = json_patch(
            &doc,
            br#"[{"op":"add","path":"/b/-","value":3},{"op":"replace","path":"/a","value":2},
                {"op":"test","path":"/a","value":2}]"#,
        )
        .unwrap();
        assert_eq!(out, json!({"a": 2, "b": [1, 2, 3]}));
    }

    #[test]
    fn json_patch_test_failure_and_missing_path() {
        let doc = json!({"metadata": {"labels": {"a": "1"}}});
        let err = json_patch(
            &doc,
            br#"[{"op":"replace","path":"/metadata/labels/a","value":"2"},
                {"op":"test","path":"/metadata/labels/a","value":"1"}]"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            PatchError::TestFailed {
                path: "/metadata/labels/a".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "testing value /metadata/labels/a failed: test failed"
        );
        assert_eq!(err.http_status(), 422);
        let err = json_patch(&doc, br#"[{"op":"remove","path":"/spec/x"}]"#).unwrap_err();
        assert!(
            matches!(err, PatchError::PathNotFound { ref op, ref path } if op == "remove" && path == "/spec/x")
        );
        let err = json_patch(&doc, b"{}").unwrap_err();
        assert_eq!(err.http_status(), 400);
    }

    #[test]
    fn json_patch_copies_are_bounded() {
        let mut ops = vec![json!({"op":"add","path":"/a","value":"x".repeat(1000)})];
        for i in 0..40 {
            ops.push(json!({"op":"copy","from":"","path":format!("/k{i}")}));
        }
        let body = serde_json::to_vec(&ops).unwrap();
        assert!(json_patch(&json!({}), &body).is_err());
    }

    #[test]
    fn merge_patch_null_removes() {
        let doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": [1, 2]}});
        let out = merge_patch(
            &doc,
            br#"{"metadata":{"labels":{"a":null}},"spec":{"x":[3]}}"#,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"labels": {"b": "2"}}, "spec": {"x": [3]}})
        );
        assert!(merge_patch(&doc, b"[1]").is_err());
        assert!(merge_patch(&doc, b"{").is_err());
    }

    #[test]
    fn canonical_sorts_and_normalizes() {
        assert_eq!(
            canonical(&json!({"b": 1.0, "a": [true, null]})),
            r#"{"a":[true,null],"b":1}"#
        );
        assert!(json_eq(&json!(80), &json!(80.0)));
        assert!(!json_eq(&json!(80), &json!("80")));
    }

    #[test]
    fn yaml_bodies() {
        let v = parse_yaml(b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: \"1\"\n").unwrap();
        assert_eq!(v["data"]["a"], "1");
        assert!(parse_yaml(b"a: [").is_err());
    }
}

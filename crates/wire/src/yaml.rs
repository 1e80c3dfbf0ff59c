//! YAML bodies, converted to the JSON value upstream's YAML-to-JSON step would give.

use serde::Deserialize;
use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;

use crate::WireError;
use crate::json::require_object;

/// Parses a YAML body holding exactly one document whose top level is a mapping.
/// Empty documents (a stray `---` at the end) are not counted.
pub(crate) fn decode(body: &[u8]) -> Result<Value, WireError> {
    if flow_depth_exceeds(body, MAX_FLOW_DEPTH) {
        return Err(WireError::Yaml(format!(
            "flow collections ([ ] and {{ }}) nested more than {MAX_FLOW_DEPTH} deep"
        )));
    }
    let mut documents = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_slice(body) {
        let mut value = Yaml::deserialize(document).map_err(|e| WireError::Yaml(e.to_string()))?;
        if value.is_null() {
            continue;
        }
        value
            .apply_merge()
            .map_err(|e| WireError::Yaml(e.to_string()))?;
        documents.push(value);
    }
    if documents.len() > 1 {
        return Err(WireError::Yaml(format!(
            "expected one document, found {}",
            documents.len()
        )));
    }
    let Some(document) = documents.pop() else {
        return Err(WireError::Yaml("the body holds no document".into()));
    };
    require_object(to_json(document)?, "YAML")
}

/// The YAML scanner checks every open flow level at every token, so deeply nested
/// `[[[...` costs time quadratic in the body (minutes for a megabyte); no manifest
/// nests flow collections anywhere near this deep.
const MAX_FLOW_DEPTH: usize = 64;

/// Whether `[`/`{` nest deeper than `limit` anywhere in the body. Quotes, comments and
/// block scalars are not told apart: tracking them would let a crafted body hide its
/// nesting from this check, and a manifest with 64 unclosed brackets in a string is
/// not worth that risk.
fn flow_depth_exceeds(body: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    for &c in body {
        match c {
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// One YAML value as JSON. Integral floats become integers (`2.0`, `1e3`), as Go's
/// YAML-to-JSON conversion prints them; mapping keys that are scalars become strings.
fn to_json(value: Yaml) -> Result<Value, WireError> {
    Ok(match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => number(&n)?,
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(to_json)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Yaml::Mapping(mapping) => {
            let mut object = Map::new();
            for (key, value) in mapping {
                object.insert(key_string(key)?, to_json(value)?);
            }
            Value::Object(object)
        }
        // Custom tags carry no meaning for Kubernetes objects; the value stands alone.
        Yaml::Tagged(tagged) => to_json(tagged.value)?,
    })
}

fn number(n: &serde_yaml_ng::Number) -> Result<Value, WireError> {
    if let Some(i) = n.as_i64() {
        return Ok(Value::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Ok(Value::from(u));
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    // 2^63 bounds the floats that convert to i64 exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) {
        // In range and integral, so the cast is exact.
        return Ok(Value::from(f as i64));
    }
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| WireError::Yaml(format!("{n} has no JSON form")))
}

fn key_string(key: Yaml) -> Result<String, WireError> {
    match key {
        Yaml::String(s) => Ok(s),
        Yaml::Bool(b) => Ok(b.to_string()),
        Yaml::Number(n) => Ok(match number(&n)? {
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        }),
        Yaml::Null => Ok("null".into()),
        Yaml::Tagged(tagged) => key_string(tagged.value),
        Yaml::Sequence(_) | Yaml::Mapping(_) => Err(WireError::Yaml(
            "a mapping key must be a scalar, not a sequence or mapping".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::decode;
    use crate::WireError;
    use serde_json::json;

    #[test]
    fn a_manifest_decodes_like_its_json() {
        let body = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx\n        args: [\"--port\", \"80\"]\n        resources:\n          limits: {cpu: 0.5, memory: 1e3}\n";
        assert_eq!(
            decode(body).unwrap(),
            json!({"apiVersion":"apps/v1","kind":"Deployment",
                "metadata":{"name":"web","labels":{"app":"web"}},
                "spec":{"replicas":2,"template":{"spec":{"containers":[
                    {"name":"c","image":"nginx","args":["--port","80"],
                     "resources":{"limits":{"cpu":0.5,"memory":1000}}}]}}}})
        );
    }

    #[test]
    fn integral_numbers_stay_integers() {
        let v = decode(b"a: 2.0\nb: 3\nc: -4.0\nd: 1.5\ne: 18446744073709551615\n").unwrap();
        assert_eq!(
            v,
            json!({"a":2,"b":3,"c":-4,"d":1.5,"e":18446744073709551615u64})
        );
        assert!(v["a"].is_i64());
    }

    #[test]
    fn scalar_keys_become_strings_and_merges_apply() {
        let v = decode(b"1: a\ntrue: b\nbase: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n").unwrap();
        assert_eq!(
            v,
            json!({"1":"a","true":"b","base":{"x":1},"derived":{"x":1,"y":2}})
        );
    }

    #[test]
    fn exactly_one_document() {
        assert!(decode(b"---\na: 1\n---\n").is_ok());
        assert_eq!(
            decode(b"a: 1\n---\nb: 2\n").unwrap_err(),
            WireError::Yaml("expected one document, found 2".into())
        );
        assert_eq!(
            decode(b"").unwrap_err(),
            WireError::Yaml("the body holds no document".into())
        );
    }

    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        let deep = format!("a: {}1{}\n", "[".repeat(65), "]".repeat(65));
        assert!(
            decode(deep.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("nested more than 64")
        );
        let ok = format!("a: {}1{}\n", "[".repeat(20), "]".repeat(20));
        assert!(decode(ok.as_bytes()).is_ok());
        // Brackets in strings count too, but balanced ones cost nothing.
        let balanced = format!("a: '{}'\n", "[]".repeat(1000));
        assert!(decode(balanced.as_bytes()).is_ok());
    }

    #[test]
    fn bad_yaml_and_non_objects_are_errors() {
        let e = decode(b"a: [1, 2\n").unwrap_err();
        assert!(e.to_string().starts_with("invalid YAML: "), "{e}");
        assert_eq!(
            decode(b"- a\n- b\n").unwrap_err().to_string(),
            "YAML body must be an object, found an array"
        );
        assert!(decode(b"? [a]\n: b\n").is_err());
        assert!(decode(b"a: .nan\n").is_err());
        assert!(decode(&[0xff, 0xfe, 0x00]).is_err());
    }
}

//! JSON bodies: parsing to an object, and finding duplicated keys for strict decoding.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::WireError;

/// Parses a JSON body whose top level must be an object.
pub(crate) fn decode(body: &[u8]) -> Result<Value, WireError> {
    let value: Value = serde_json::from_slice(body).map_err(json_error)?;
    require_object(value, "JSON")
}

/// The top level of a parsed body, which must be an object.
pub(crate) fn require_object(value: Value, format: &'static str) -> Result<Value, WireError> {
    let found = match &value {
        Value::Object(_) => return Ok(value),
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
    };
    Err(WireError::NotAnObject { format, found })
}

/// serde_json's message without its " at line L column C" tail, with the position kept
/// apart so the message reads `invalid JSON at line 1 column 52: EOF while parsing ...`.
fn json_error(e: serde_json::Error) -> WireError {
    let full = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&tail).unwrap_or(&full).to_owned();
    WireError::Json {
        line: e.line(),
        column: e.column(),
        message,
    }
}

/// Paths of object keys that occur more than once in a JSON body, in the order their
/// second occurrence is met, each path once: `metadata.name`,
/// `spec.containers[0].image`. Upstream's strict field validation reports each as
/// `duplicate field "<path>"`. A body that is not valid JSON gives the duplicates found
/// before the syntax error (the parse error itself is [`crate::decode`]'s to report).
pub fn duplicate_fields(body: &[u8]) -> Vec<String> {
    let mut found = Found::default();
    let mut de = serde_json::Deserializer::from_slice(body);
    // A syntax error is reported by decode(); what was found before it still stands.
    let _ = Scan {
        path: String::new(),
        found: &mut found,
    }
    .deserialize(&mut de);
    found.paths
}

/// Duplicated paths in the order found; the set keeps a body with many duplicates
/// from costing quadratic time.
#[derive(Default)]
struct Found {
    paths: Vec<String>,
    seen: HashSet<String>,
}

/// Walks one JSON value, recording duplicated keys of every object under `path`.
struct Scan<'a> {
    path: String,
    found: &'a mut Found,
}

impl Scan<'_> {
    fn child(&mut self, segment: &str, index: bool) -> Scan<'_> {
        let path = if index || self.path.is_empty() {
            format!("{}{segment}", self.path)
        } else {
            format!("{}.{segment}", self.path)
        };
        Scan {
            path,
            found: self.found,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq
            .next_element_seed(self.child(&format!("[{i}]"), true))?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut keys = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = self.child(&key, false);
            if !keys.insert(key) && child.found.seen.insert(child.path.clone()) {
                child.found.paths.push(child.path.clone());
            }
            map.next_value_seed(child)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{decode, duplicate_fields};
    use crate::WireError;
    use serde_json::json;

    #[test]
    fn objects_decode() {
        let v = decode(br#"{"kind":"Pod","spec":{"containers":[{"name":"a"}]}}"#).unwrap();
        assert_eq!(
            v,
            json!({"kind":"Pod","spec":{"containers":[{"name":"a"}]}})
        );
    }

    #[test]
    fn syntax_errors_give_position_and_reason() {
        let body = br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name""#;
        let e = decode(body).unwrap_err();
        assert_eq!(
            e,
            WireError::Json {
                line: 1,
                column: 50,
                message: "EOF while parsing an object".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "invalid JSON at line 1 column 50: EOF while parsing an object"
        );
        let e = decode(b"{} x").unwrap_err();
        assert!(e.to_string().contains("trailing characters"), "{e}");
    }

    #[test]
    fn the_top_level_must_be_an_object() {
        for (body, found) in [
            (&b"[]"[..], "an array"),
            (b"null", "null"),
            (b"3", "a number"),
            (b"\"x\"", "a string"),
            (b"true", "a boolean"),
        ] {
            assert_eq!(
                decode(body).unwrap_err(),
                WireError::NotAnObject {
                    format: "JSON",
                    found
                }
            );
        }
        assert_eq!(
            decode(b"[1]").unwrap_err().to_string(),
            "JSON body must be an object, found an array"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let body = "[".repeat(100_000);
        assert!(decode(body.as_bytes()).is_err());
        let body = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        assert!(decode(body.as_bytes()).is_err());
        assert!(duplicate_fields(body.as_bytes()).is_empty());
    }

    #[test]
    fn duplicates_are_reported_with_their_paths() {
        let body = br#"{"metadata":{"name":"a","name":"b","labels":{"x":"1","x":"2","x":"3"}},
            "spec":{"containers":[{"name":"c"},{"name":"d","image":"i","image":"j"}]},
            "metadata":{}}"#;
        assert_eq!(
            duplicate_fields(body),
            vec![
                "metadata.name",
                "metadata.labels.x",
                "spec.containers[1].image",
                "metadata"
            ]
        );
        assert!(duplicate_fields(br#"{"a":{"b":1},"c":{"b":1}}"#).is_empty());
        assert_eq!(duplicate_fields(br#"{"a":1,"a":2,"b":"#), vec!["a"]);
        assert!(duplicate_fields(b"not json").is_empty());
    }

    #[test]
    fn many_duplicates_cost_linear_time() {
        let mut body = String::from("{");
        for i in 0..50_000 {
            body.push_str(&format!("\"k{i}\":1,\"k{i}\":2,"));
        }
        body.push_str("\"end\":0}");
        let start = std::time::Instant::now();
        assert_eq!(duplicate_fields(body.as_bytes()).len(), 50_000);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}

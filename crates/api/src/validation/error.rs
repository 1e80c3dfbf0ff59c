//! Field errors in upstream's shape: a kind (which becomes the Status
//! cause reason), the JSON path of the field, the offending value and a
//! detail, printed the way apimachinery's `field.Error` prints itself.

use std::fmt;

use serde_json::Value;

/// What is wrong with a field (upstream's `field.ErrorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A required field is missing or empty.
    Required,
    /// The value is malformed or out of range.
    Invalid,
    /// The value is not one of a fixed set.
    NotSupported,
    /// The value repeats one that must be unique.
    Duplicate,
    /// The field may not be set (in this context).
    Forbidden,
    /// The value is longer than allowed.
    TooLong,
    /// The list has more items than allowed.
    TooMany,
    /// The value has the wrong JSON type (decoding failed).
    TypeInvalid,
    /// The value refers to something that does not exist (a volume mount
    /// naming no volume).
    NotFound,
    /// Validation itself failed.
    Internal,
}

impl ErrorKind {
    /// The Status cause reason (`FieldValueRequired`, ...).
    pub fn reason(self) -> &'static str {
        match self {
            ErrorKind::Required => "FieldValueRequired",
            ErrorKind::Invalid => "FieldValueInvalid",
            ErrorKind::NotSupported => "FieldValueNotSupported",
            ErrorKind::Duplicate => "FieldValueDuplicate",
            ErrorKind::Forbidden => "FieldValueForbidden",
            ErrorKind::TooLong => "FieldValueTooLong",
            ErrorKind::TooMany => "FieldValueTooMany",
            ErrorKind::TypeInvalid => "FieldValueTypeInvalid",
            ErrorKind::NotFound => "FieldValueNotFound",
            ErrorKind::Internal => "InternalError",
        }
    }

    /// The words upstream prints for the kind (`Invalid value`, ...).
    pub fn text(self) -> &'static str {
        match self {
            ErrorKind::Required => "Required value",
            ErrorKind::Invalid | ErrorKind::TypeInvalid => "Invalid value",
            ErrorKind::NotSupported => "Unsupported value",
            ErrorKind::Duplicate => "Duplicate value",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::TooLong => "Too long",
            ErrorKind::TooMany => "Too many",
            ErrorKind::NotFound => "Not found",
            ErrorKind::Internal => "Internal error",
        }
    }
}

/// One problem with one field of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// What is wrong.
    pub kind: ErrorKind,
    /// The field's path: `metadata.name`, `spec.containers[0].image`,
    /// `metadata.labels`, `data[key]`. Empty for the whole object.
    pub field: String,
    /// The offending value, when upstream prints one.
    pub value: Option<Value>,
    /// Why it is wrong (may be empty).
    pub detail: String,
}

impl FieldError {
    fn new(kind: ErrorKind, path: &Path, value: Option<Value>, detail: impl Into<String>) -> Self {
        FieldError {
            kind,
            field: path.to_string(),
            value,
            detail: detail.into(),
        }
    }

    /// The Status cause reason: `FieldValueRequired`, `FieldValueInvalid`, ...
    pub fn reason(&self) -> &'static str {
        self.kind.reason()
    }

    /// A required field is missing.
    pub fn required(path: &Path, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Required, path, None, detail)
    }

    /// A value is malformed.
    pub fn invalid(path: &Path, value: impl Into<Value>, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, path, Some(value.into()), detail)
    }

    /// A value is not one of `supported`.
    pub fn not_supported(path: &Path, value: impl Into<Value>, supported: &[&str]) -> Self {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(ErrorKind::NotSupported, path, Some(value.into()), detail)
    }

    /// A value repeats.
    pub fn duplicate(path: &Path, value: impl Into<Value>) -> Self {
        Self::new(ErrorKind::Duplicate, path, Some(value.into()), "")
    }

    /// A field may not be set.
    pub fn forbidden(path: &Path, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, path, None, detail)
    }

    /// A value is longer than `max` bytes.
    pub fn too_long(path: &Path, max: usize) -> Self {
        let unit = if max == 1 { "byte" } else { "bytes" };
        Self::new(
            ErrorKind::TooLong,
            path,
            None,
            format!("may not be more than {max} {unit}"),
        )
    }

    /// A list has `actual` items, more than `max`.
    pub fn too_many(path: &Path, actual: usize, max: usize) -> Self {
        let unit = if max == 1 { "item" } else { "items" };
        Self::new(
            ErrorKind::TooMany,
            path,
            Some(Value::from(actual)),
            format!("must have at most {max} {unit}"),
        )
    }

    /// A value has the wrong type or cannot be decoded.
    pub fn type_invalid(path: &Path, value: impl Into<Value>, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::TypeInvalid, path, Some(value.into()), detail)
    }

    /// A reference names nothing that exists.
    pub fn not_found(path: &Path, value: impl Into<Value>) -> Self {
        Self::new(ErrorKind::NotFound, path, Some(value.into()), "")
    }

    /// The text after `field: `, as a Status cause message carries it.
    pub fn body(&self) -> String {
        let mut s = self.kind.text().to_string();
        let prints_value = !matches!(
            self.kind,
            ErrorKind::Required | ErrorKind::Forbidden | ErrorKind::TooLong | ErrorKind::Internal
        );
        if prints_value && let Some(v) = &self.value {
            s.push_str(": ");
            s.push_str(&render_value(v));
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.body())
        } else {
            write!(f, "{}: {}", self.field, self.body())
        }
    }
}

impl std::error::Error for FieldError {}

/// Prints a value as Go's `%v`/`%q`/`%#v` would for the types upstream
/// passes: quoted strings, bare numbers, `map[string]string{...}` for label
/// maps, compact JSON for anything else.
pub fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => go_quote(s),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(m) if !m.is_empty() && m.values().all(Value::is_string) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v.as_str().unwrap_or(""))))
                .collect();
            format!("map[string]string{{{}}}", items.join(", "))
        }
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_string) => {
            let items: Vec<String> = a
                .iter()
                .map(|v| go_quote(v.as_str().unwrap_or("")))
                .collect();
            format!("[]string{{{}}}", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// Go's `strconv.Quote` for the characters that matter here.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A field path under construction, printed as upstream's `field.Path`:
/// children joined by dots, indexes and map keys in brackets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Path(String);

impl Path {
    /// A root path (`metadata`, `spec`); empty for the whole object.
    pub fn new(root: &str) -> Path {
        Path(root.to_string())
    }

    /// `self.name`.
    pub fn child(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_string())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    /// `self[i]`.
    pub fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }

    /// `self[key]`.
    pub fn key(&self, key: &str) -> Path {
        Path(format!("{}[{key}]", self.0))
    }

    /// The printed path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prints_like_upstream() {
        let p = Path::new("spec").child("containers");
        assert_eq!(
            FieldError::required(&p, "").to_string(),
            "spec.containers: Required value"
        );
        let e = FieldError::not_supported(
            &p.index(0).child("protocol"),
            "FOO",
            &["SCTP", "TCP", "UDP"],
        );
        assert_eq!(
            e.to_string(),
            r#"spec.containers[0].protocol: Unsupported value: "FOO": supported values: "SCTP", "TCP", "UDP""#
        );
        assert_eq!(e.reason(), "FieldValueNotSupported");
        let e = FieldError::invalid(
            &Path::new("x"),
            70000,
            "must be between 1 and 65535, inclusive",
        );
        assert_eq!(
            e.to_string(),
            "x: Invalid value: 70000: must be between 1 and 65535, inclusive"
        );
        let e = FieldError::invalid(&Path::new("l"), json!({"app": "x"}), "d");
        assert_eq!(
            e.to_string(),
            r#"l: Invalid value: map[string]string{"app":"x"}: d"#
        );
        assert_eq!(
            FieldError::duplicate(&Path::new("a").key("k"), "v").to_string(),
            r#"a[k]: Duplicate value: "v""#
        );
        assert_eq!(
            FieldError::too_many(&Path::new("a"), 5, 1).to_string(),
            "a: Too many: 5: must have at most 1 item"
        );
        assert_eq!(
            FieldError::too_long(&Path::new("a"), 10).to_string(),
            "a: Too long: may not be more than 10 bytes"
        );
        assert_eq!(go_quote("a\"b\n"), r#""a\"b\n""#);
    }
}

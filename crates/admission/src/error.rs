//! Why admission refused a request: upstream's `StatusError` as the API
//! server returns it (code, reason, message, details and causes), with
//! upstream's message text.

use std::fmt;

use serde_json::{Value, json};

/// One cause of a refusal (`status.details.causes[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The field the cause is about (`metadata.namespace`), or empty.
    pub field: String,
    /// A human-readable description.
    pub message: String,
    /// The machine-readable cause type (`NamespaceTerminating`).
    pub reason_type: String,
}

/// What a refusal is about (`status.details` besides the causes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Details {
    /// `details.group`: the API group of the resource refused.
    pub group: String,
    /// `details.kind`: upstream puts the resource (plural) here.
    pub kind: String,
    /// `details.name`: the object's name, if known.
    pub name: String,
}

/// A refused request, as the API server reports it in a `Status`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AdmissionError {
    /// The HTTP status code (403, 404, 422, 500).
    pub code: u16,
    /// The `Status.reason` (`Forbidden`, `NotFound`, `Invalid`,
    /// `InternalError`).
    pub reason: &'static str,
    /// The full message, as upstream words it
    /// (`pods "x" is forbidden: exceeded quota: ...`).
    pub message: String,
    /// `details.group`, `details.kind`, `details.name`.
    pub details: Box<Details>,
    /// `details.causes`.
    pub causes: Vec<Cause>,
}

impl AdmissionError {
    /// Upstream's `NewForbidden(resource, name, err)`:
    /// `<resource>[.<group>] "<name>" is forbidden: <err>`.
    pub fn forbidden(group: &str, resource: &str, name: &str, err: impl fmt::Display) -> Self {
        let qualified = qualified_resource(group, resource);
        let message = if qualified.is_empty() {
            format!("forbidden: {err}")
        } else if name.is_empty() {
            format!("{qualified} is forbidden: {err}")
        } else {
            format!("{qualified} {} is forbidden: {err}", go_quote(name))
        };
        AdmissionError {
            code: 403,
            reason: "Forbidden",
            message,
            details: details(group, resource, name),
            causes: Vec::new(),
        }
    }

    /// Upstream's `NewNotFound(resource, name)`:
    /// `<resource>[.<group>] "<name>" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        AdmissionError {
            code: 404,
            reason: "NotFound",
            message: format!(
                "{} {} not found",
                qualified_resource(group, resource),
                go_quote(name)
            ),
            details: details(group, resource, name),
            causes: Vec::new(),
        }
    }

    /// Upstream's `NewInternalError(err)`.
    pub fn internal(err: impl fmt::Display) -> Self {
        AdmissionError {
            code: 500,
            reason: "InternalError",
            message: format!("Internal error occurred: {err}"),
            details: Box::default(),
            causes: vec![Cause {
                field: String::new(),
                message: err.to_string(),
                reason_type: String::new(),
            }],
        }
    }

    /// Adds a cause.
    pub fn with_cause(mut self, field: &str, message: &str, reason_type: &str) -> Self {
        self.causes.push(Cause {
            field: field.into(),
            message: message.into(),
            reason_type: reason_type.into(),
        });
        self
    }

    /// The `metav1.Status` the API server sends for this error.
    pub fn to_status(&self) -> Value {
        let mut details = serde_json::Map::new();
        let d = &self.details;
        if !d.name.is_empty() {
            details.insert("name".into(), json!(d.name));
        }
        if !d.group.is_empty() {
            details.insert("group".into(), json!(d.group));
        }
        if !d.kind.is_empty() {
            details.insert("kind".into(), json!(d.kind));
        }
        if !self.causes.is_empty() {
            let causes: Vec<Value> = self
                .causes
                .iter()
                .map(|c| {
                    let mut m = serde_json::Map::new();
                    if !c.reason_type.is_empty() {
                        m.insert("reason".into(), json!(c.reason_type));
                    }
                    if !c.message.is_empty() {
                        m.insert("message".into(), json!(c.message));
                    }
                    if !c.field.is_empty() {
                        m.insert("field".into(), json!(c.field));
                    }
                    Value::Object(m)
                })
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if !details.is_empty() {
            status["details"] = Value::Object(details);
        }
        status
    }
}

fn details(group: &str, resource: &str, name: &str) -> Box<Details> {
    Box::new(Details {
        group: group.into(),
        kind: resource.into(),
        name: name.into(),
    })
}

/// `GroupResource.String()`: `resource` or `resource.group`.
pub(crate) fn qualified_resource(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

/// Go's `%q` for the strings admission quotes (names, keys).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_upstream() {
        let e = AdmissionError::forbidden("", "pods", "x", "exceeded quota: q");
        assert_eq!(e.message, r#"pods "x" is forbidden: exceeded quota: q"#);
        assert_eq!(e.code, 403);
        assert_eq!(e.to_string(), e.message);
        let e = AdmissionError::forbidden("apps", "deployments", "", "nope");
        assert_eq!(e.message, "deployments.apps is forbidden: nope");
        let e = AdmissionError::forbidden("", "", "", "nope");
        assert_eq!(e.message, "forbidden: nope");
        let e = AdmissionError::not_found("", "namespaces", "gone");
        assert_eq!(e.message, r#"namespaces "gone" not found"#);
        assert_eq!((e.code, e.reason), (404, "NotFound"));
        assert_eq!(go_quote("a\"b\\c\u{1}"), r#""a\"b\\c\x01""#);
    }

    #[test]
    fn status_shape() {
        let e = AdmissionError::forbidden("", "pods", "x", "no").with_cause(
            "metadata.namespace",
            "namespace ns is being terminated",
            "NamespaceTerminating",
        );
        let s = e.to_status();
        assert_eq!(s["code"], 403);
        assert_eq!(s["reason"], "Forbidden");
        assert_eq!(s["details"]["kind"], "pods");
        assert_eq!(s["details"]["name"], "x");
        assert!(s["details"].get("group").is_none());
        assert_eq!(s["details"]["causes"][0]["reason"], "NamespaceTerminating");
        assert_eq!(s["details"]["causes"][0]["field"], "metadata.namespace");
        let s = AdmissionError::internal("boom").to_status();
        assert_eq!(s["code"], 500);
        assert_eq!(s["message"], "Internal error occurred: boom");
    }
}

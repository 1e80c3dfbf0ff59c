//! What is being admitted: upstream's `admission.Attributes` without the
//! objects (the plugins take those as arguments).

use std::fmt;

use ironclad_auth::user::UserInfo;
use serde_json::Value;

use crate::error::AdmissionError;
use crate::json;

/// The kind of write being admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// A create (POST), including creates of subresources
    /// (`pods/eviction`, `serviceaccounts/token`).
    Create,
    /// An update or patch.
    Update,
    /// A delete (one object; a collection delete admits each object).
    Delete,
    /// A connect (`pods/exec`, `pods/portforward`, proxies).
    Connect,
}

impl Operation {
    /// Upstream's spelling (`CREATE`, `UPDATE`, ...), as it appears in
    /// messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request as the plugins see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// What is being done.
    pub operation: Operation,
    /// The API group of the resource (`""` for core, `apps`, ...).
    pub group: String,
    /// The API version of the request (`v1`).
    pub version: String,
    /// The resource (plural: `pods`).
    pub resource: String,
    /// The subresource (`status`, `eviction`, ...), or empty.
    pub subresource: String,
    /// The namespace, or empty for cluster-scoped resources.
    pub namespace: String,
    /// The object's name: from the URL, or for a create the new object's
    /// `metadata.name` (empty when only `generateName` is set).
    pub name: String,
    /// Who makes the request.
    pub user: UserInfo,
    /// Whether this is a dry run.
    pub dry_run: bool,
}

impl Request {
    /// A request with the given operation and resource, everything else
    /// empty (tests and callers fill in the rest).
    pub fn new(operation: Operation, group: &str, resource: &str) -> Request {
        Request {
            operation,
            group: group.into(),
            version: "v1".into(),
            resource: resource.into(),
            subresource: String::new(),
            namespace: String::new(),
            name: String::new(),
            user: UserInfo::default(),
            dry_run: false,
        }
    }

    /// Whether the request is about `resource` in `group`.
    pub fn is(&self, group: &str, resource: &str) -> bool {
        self.group == group && self.resource == resource
    }

    /// The name upstream's `admission.NewForbidden` puts in the message:
    /// the request's name, else the object's name or `generateName`, else
    /// `Unknown`.
    pub fn display_name(&self, obj: Option<&Value>) -> String {
        if !self.name.is_empty() {
            return self.name.clone();
        }
        if let Some(obj) = obj {
            if let Some(n) = json::str_at(obj, &["metadata", "name"]).filter(|n| !n.is_empty()) {
                return n.to_string();
            }
            if let Some(n) =
                json::str_at(obj, &["metadata", "generateName"]).filter(|n| !n.is_empty())
            {
                return n.to_string();
            }
        }
        "Unknown".into()
    }

    /// Upstream's `admission.NewForbidden(a, err)` for this request and
    /// object.
    pub fn forbidden(&self, obj: Option<&Value>, err: impl fmt::Display) -> AdmissionError {
        AdmissionError::forbidden(&self.group, &self.resource, &self.display_name(obj), err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_for_messages() {
        let mut r = Request::new(Operation::Create, "", "pods");
        assert_eq!(r.display_name(None), "Unknown");
        let generated = json!({"metadata": {"generateName": "web-"}});
        assert_eq!(r.display_name(Some(&generated)), "web-");
        let named = json!({"metadata": {"name": "web", "generateName": "web-"}});
        assert_eq!(r.display_name(Some(&named)), "web");
        assert_eq!(r.display_name(Some(&json!(42))), "Unknown");
        r.name = "x".into();
        assert_eq!(r.display_name(Some(&generated)), "x");
        assert_eq!(
            r.forbidden(None, "no").message,
            r#"pods "x" is forbidden: no"#
        );
        assert_eq!(Operation::Delete.to_string(), "DELETE");
        assert!(r.is("", "pods"));
    }
}

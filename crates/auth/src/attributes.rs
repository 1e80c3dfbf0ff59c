//! What a request does, as the authorizers see it: upstream's
//! `authorizer.Attributes`.

use crate::user::UserInfo;

/// The attributes of one request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attributes {
    /// Who makes it.
    pub user: UserInfo,
    /// The verb: for resources `get`, `list`, `watch`, `create`, `update`,
    /// `patch`, `delete`, `deletecollection` (and `impersonate`, `bind`,
    /// `escalate`, `approve`, `sign`, `use` for the special checks); for
    /// other paths the lower-case HTTP method (`get`, `post`, ...).
    pub verb: String,
    /// Whether it is a request on a resource (else on a non-resource path).
    pub resource_request: bool,
    /// The request path (non-resource requests are authorized on it).
    pub path: String,
    /// The namespace ("" for cluster-scoped resources and all-namespace lists).
    pub namespace: String,
    /// The API group ("" for core).
    pub api_group: String,
    /// The API version.
    pub api_version: String,
    /// The resource (plural, lower case).
    pub resource: String,
    /// The subresource ("" if none).
    pub subresource: String,
    /// The object's name ("" for lists and creates without a name).
    pub name: String,
}

impl Attributes {
    /// A resource request.
    pub fn resource(
        user: UserInfo,
        verb: &str,
        api_group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Attributes {
        Attributes {
            user,
            verb: verb.to_string(),
            resource_request: true,
            api_group: api_group.to_string(),
            resource: resource.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            ..Default::default()
        }
    }

    /// A non-resource request.
    pub fn non_resource(user: UserInfo, verb: &str, path: &str) -> Attributes {
        Attributes {
            user,
            verb: verb.to_string(),
            resource_request: false,
            path: path.to_string(),
            ..Default::default()
        }
    }

    /// Whether the verb only reads (`get`, `list`, `watch`; ABAC's
    /// `readonly`).
    pub fn is_read_only(&self) -> bool {
        matches!(self.verb.as_str(), "get" | "list" | "watch")
    }

    /// The resource with its subresource (`pods/status`), as RBAC rules
    /// name it.
    pub fn resource_path(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

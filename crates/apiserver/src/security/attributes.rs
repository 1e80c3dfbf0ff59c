//! A request's authorization attributes (upstream's `RequestInfo` turned
//! into `authorizer.Attributes`), and the message of a refusal.

use http::Method;
use ironclad_auth::{Attributes, UserInfo};

use crate::error::ApiError;
use crate::request::{Params, Target};

/// The verb upstream's RequestInfo gives a request on a resource.
pub fn resource_verb(method: &Method, t: &Target, params: &Params) -> &'static str {
    match (method.as_str(), t.name.is_some()) {
        ("GET" | "HEAD", _) if params.is_watch() => "watch",
        ("GET" | "HEAD", true) => "get",
        ("GET" | "HEAD", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    }
}

/// The attributes of a request on a resource.
pub fn for_resource(user: &UserInfo, method: &Method, t: &Target, params: &Params) -> Attributes {
    let verb = resource_verb(method, t, params);
    let mut name = t.name.clone().unwrap_or_default();
    // A list or watch narrowed to one name by `metadata.name=x` is
    // authorized as that object, as upstream does.
    if name.is_empty()
        && matches!(verb, "list" | "watch")
        && let Some(fs) = params.field_selector.as_deref()
        && let Some(n) = single_name(fs)
    {
        name = n.to_string();
    }
    let mut namespace = t.namespace.clone().unwrap_or_default();
    // A namespace is its own namespace: a RoleBinding in `foo` may grant
    // `get namespaces` on `foo`.
    if t.info.plural == "namespaces" && t.info.group.is_empty() && namespace.is_empty() {
        namespace = name.clone();
    }
    Attributes {
        user: user.clone(),
        verb: verb.to_string(),
        resource_request: true,
        path: String::new(),
        namespace,
        api_group: t.info.group.to_string(),
        api_version: t.info.version.to_string(),
        resource: t.info.plural.to_string(),
        subresource: t.subresource.clone().unwrap_or_default(),
        name,
    }
}

/// The attributes of a request on a non-resource path.
pub fn for_path(user: &UserInfo, method: &Method, path: &str) -> Attributes {
    let verb = match method.as_str() {
        "HEAD" => "get".to_string(),
        m => m.to_ascii_lowercase(),
    };
    Attributes::non_resource(user.clone(), &verb, path)
}

/// `metadata.name=x` (or `==`) as the only term of a field selector.
fn single_name(selector: &str) -> Option<&str> {
    if selector.contains(',') {
        return None;
    }
    let rest = selector.trim().strip_prefix("metadata.name")?;
    let value = rest.strip_prefix("==").or_else(|| rest.strip_prefix('='))?;
    (!value.is_empty() && !value.starts_with('=')).then_some(value)
}

/// The 403 upstream answers a refused request with, e.g.
/// `pods "p" is forbidden: User "alice" cannot get resource "pods" in API
/// group "" in the namespace "default"`, followed by the authorizer's
/// reason if it gave one.
pub fn forbidden(a: &Attributes, reason: &str) -> ApiError {
    let user = &a.user.name;
    let what = if !a.resource_request {
        format!("User {user:?} cannot {} path {:?}", a.verb, a.path)
    } else {
        let resource = a.resource_path();
        if a.namespace.is_empty() {
            format!(
                "User {user:?} cannot {} resource {resource:?} in API group {:?} at the cluster scope",
                a.verb, a.api_group
            )
        } else {
            format!(
                "User {user:?} cannot {} resource {resource:?} in API group {:?} in the namespace {:?}",
                a.verb, a.api_group, a.namespace
            )
        }
    };
    let why = if reason.is_empty() {
        what
    } else {
        format!("{what}: {reason}")
    };
    let subject = if !a.resource_request {
        String::new()
    } else if a.api_group.is_empty() {
        a.resource.clone()
    } else {
        format!("{}.{}", a.resource, a.api_group)
    };
    let message = match (subject.is_empty(), a.name.is_empty()) {
        (true, _) => format!("forbidden: {why}"),
        (false, true) => format!("{subject} is forbidden: {why}"),
        (false, false) => format!("{subject} {:?} is forbidden: {why}", a.name),
    };
    let mut details = serde_json::Map::new();
    if !a.name.is_empty() {
        details.insert("name".into(), a.name.clone().into());
    }
    if !a.api_group.is_empty() {
        details.insert("group".into(), a.api_group.clone().into());
    }
    if !a.resource.is_empty() {
        details.insert("kind".into(), a.resource.clone().into());
    }
    let err = ApiError::forbidden(message);
    if details.is_empty() {
        err
    } else {
        err.with_details(serde_json::Value::Object(details))
    }
}

/// The 401 upstream answers a request without valid credentials with.
pub fn unauthorized() -> ApiError {
    ApiError::new(401, "Unauthorized", "Unauthorized")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserInfo {
        UserInfo::authenticated("alice", &[])
    }

    #[test]
    fn forbidden_messages_are_upstreams() {
        let a = Attributes::resource(user(), "get", "", "pods", "default", "p");
        assert_eq!(
            forbidden(&a, "").message,
            "pods \"p\" is forbidden: User \"alice\" cannot get resource \"pods\" in API group \"\" in the namespace \"default\""
        );
        let a = Attributes::resource(user(), "list", "apps", "deployments", "", "");
        assert_eq!(
            forbidden(&a, "").message,
            "deployments.apps is forbidden: User \"alice\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"
        );
        let mut a = Attributes::resource(user(), "get", "", "pods", "ns", "p");
        a.subresource = "log".into();
        assert!(
            forbidden(&a, "no RBAC policy matched")
                .message
                .ends_with("cannot get resource \"pods/log\" in API group \"\" in the namespace \"ns\": no RBAC policy matched")
        );
        let a = Attributes::non_resource(user(), "get", "/metrics");
        assert_eq!(
            forbidden(&a, "").message,
            "forbidden: User \"alice\" cannot get path \"/metrics\""
        );
        assert_eq!(forbidden(&a, "").code, 403);
    }

    #[test]
    fn single_name_selectors() {
        assert_eq!(single_name("metadata.name=x"), Some("x"));
        assert_eq!(single_name("metadata.name==x"), Some("x"));
        assert_eq!(single_name("metadata.name!=x"), None);
        assert_eq!(single_name("metadata.name=x,spec.nodeName=n"), None);
        assert_eq!(single_name("spec.nodeName=n"), None);
    }
}

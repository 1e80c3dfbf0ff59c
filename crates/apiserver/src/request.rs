//! What a request asks for: the URL path parsed into the resource, namespace,
//! name and subresource (upstream's RequestInfo), and the query parameters.

use ironclad_api::ResourceInfo;
use ironclad_api::registry;
use serde::Deserialize;

use crate::error::{ApiError, Result};

/// A parsed API path.
#[derive(Debug, Clone)]
pub enum ApiPath {
    /// `/api`.
    CoreRoot,
    /// `/apis`.
    GroupsRoot,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`.
    GroupVersion(String, String),
    /// A resource, its objects and subresources.
    Resource(Target),
}

/// A request on a resource.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource.
    pub info: &'static ResourceInfo,
    /// Namespace from the path (None: cluster-scoped or all namespaces).
    pub namespace: Option<String>,
    /// Object name, when the path names one.
    pub name: Option<String>,
    /// Subresource (`status`, `scale`, ...).
    pub subresource: Option<String>,
}

impl Target {
    /// The object name; the path must have one.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    /// The error-message view of this target.
    pub fn err(&self) -> crate::error::Target<'_> {
        crate::error::Target {
            group: self.info.group,
            resource: self.info.plural,
            name: self.name(),
        }
    }
}

/// Subresources of a namespace, which `namespaces/<x>/<sub>` names instead
/// of a resource inside namespace x.
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

/// Parses a request path. `None` means no such path (404).
pub fn parse_path(path: &str) -> Result<Option<ApiPath>> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api"] => return Ok(Some(ApiPath::CoreRoot)),
        ["apis"] => return Ok(Some(ApiPath::GroupsRoot)),
        ["apis", g] => return Ok(Some(ApiPath::Group((*g).to_string()))),
        ["api", v] => return Ok(Some(ApiPath::GroupVersion(String::new(), (*v).to_string()))),
        ["apis", g, v] => {
            return Ok(Some(ApiPath::GroupVersion(
                (*g).to_string(),
                (*v).to_string(),
            )));
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Ok(None),
    };
    let mut namespace = None;
    let mut rest = rest;
    if rest.len() >= 3
        && rest[0] == "namespaces"
        && !(rest.len() == 3 && NAMESPACE_SUBRESOURCES.contains(&rest[2]))
    {
        namespace = Some(rest[1].to_string());
        rest = &rest[2..];
    }
    let (resource, name, subresource) = match rest {
        [r] => (*r, None, None),
        [r, n] => (*r, Some(*n), None),
        [r, n, s] => (*r, Some(*n), Some(*s)),
        _ => return Ok(None),
    };
    let Some(info) = registry::lookup(group, version, resource) else {
        return Ok(None);
    };
    if let Some(n) = name
        && n.is_empty()
    {
        return Ok(None);
    }
    if let Some(ns) = &namespace {
        if !info.namespaced {
            return Ok(None);
        }
        if ns.is_empty() {
            return Err(ApiError::bad_request(
                "namespace is empty in the request path",
            ));
        }
    }
    if let Some(s) = subresource
        && info.subresource(s).is_none()
    {
        return Ok(None);
    }
    // A namespaced object named without a namespace is only valid for
    // listing across namespaces.
    if info.namespaced && namespace.is_none() && name.is_some() {
        return Ok(None);
    }
    Ok(Some(ApiPath::Resource(Target {
        info,
        namespace,
        name: name.map(str::to_string),
        subresource: subresource.map(str::to_string),
    })))
}

/// The query parameters the API understands; unknown ones are ignored, as
/// upstream does.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    /// `watch=true` on a collection GET.
    pub watch: Option<String>,
    /// resourceVersion of a get, list or watch.
    pub resource_version: Option<String>,
    /// `Exact` or `NotOlderThan`.
    pub resource_version_match: Option<String>,
    /// Label selector.
    pub label_selector: Option<String>,
    /// Field selector.
    pub field_selector: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// Continue token of the next page.
    #[serde(rename = "continue")]
    pub continue_token: Option<String>,
    /// Watch timeout.
    pub timeout_seconds: Option<u64>,
    /// Whether BOOKMARK events may be sent.
    pub allow_watch_bookmarks: Option<String>,
    /// Watch-list: initial events then a bookmark.
    pub send_initial_events: Option<String>,
    /// `All` for a dry run.
    pub dry_run: Option<String>,
    /// Field manager of a write.
    pub field_manager: Option<String>,
    /// `Strict`, `Warn` or `Ignore`.
    pub field_validation: Option<String>,
    /// Server-side apply: take ownership on conflict.
    pub force: Option<String>,
    /// Delete: `Background`, `Foreground`, `Orphan`.
    pub propagation_policy: Option<String>,
    /// Delete: grace period.
    pub grace_period_seconds: Option<i64>,
    /// Delete (deprecated): orphan dependents.
    pub orphan_dependents: Option<String>,
    /// Table: `None`, `Metadata` or `Object`.
    pub include_object: Option<String>,
}

fn truthy(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("true" | "1" | "True"))
}

impl Params {
    /// Parses a query string.
    pub fn parse(query: Option<&str>) -> Result<Params> {
        serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("invalid query parameters: {e}")))
    }

    /// A watch request.
    pub fn is_watch(&self) -> bool {
        truthy(&self.watch)
    }

    /// Bookmarks allowed.
    pub fn bookmarks(&self) -> bool {
        truthy(&self.allow_watch_bookmarks)
    }

    /// Watch-list requested.
    pub fn send_initial_events(&self) -> Option<bool> {
        self.send_initial_events
            .as_ref()
            .map(|_| truthy(&self.send_initial_events))
    }

    /// A dry run (`dryRun=All`); other values are refused as upstream does.
    pub fn dry_run(&self) -> Result<bool> {
        match self.dry_run.as_deref() {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid dryRun value {other:?}: supported values: \"All\""
            ))),
        }
    }

    /// Server-side apply force.
    pub fn force(&self) -> bool {
        truthy(&self.force)
    }

    /// The field validation directive; upstream's default is Warn.
    pub fn field_validation(&self) -> Result<FieldValidation> {
        match self.field_validation.as_deref() {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {other:?} (supported: Ignore, Warn, Strict)"
            ))),
        }
    }
}

/// How unknown and duplicate fields are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Refuse the request.
    Strict,
    /// Accept with a Warning header.
    Warn,
    /// Drop silently.
    Ignore,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(p: &str) -> Target {
        match parse_path(p).unwrap() {
            Some(ApiPath::Resource(t)) => t,
            other => panic!("{p}: {other:?}"),
        }
    }

    #[test]
    fn paths_parse_like_upstream() {
        let t = target("/api/v1/namespaces/ns1/pods/p1/status");
        assert_eq!(t.info.plural, "pods");
        assert_eq!(t.namespace.as_deref(), Some("ns1"));
        assert_eq!(t.name.as_deref(), Some("p1"));
        assert_eq!(t.subresource.as_deref(), Some("status"));
        let t = target("/api/v1/namespaces/ns1/status");
        assert_eq!(t.info.plural, "namespaces");
        assert_eq!(t.name.as_deref(), Some("ns1"));
        assert_eq!(t.subresource.as_deref(), Some("status"));
        let t = target("/api/v1/namespaces/ns1");
        assert_eq!(
            (t.info.plural, t.name.as_deref()),
            ("namespaces", Some("ns1"))
        );
        let t = target("/apis/apps/v1/deployments");
        assert!(t.namespace.is_none() && t.name.is_none());
        assert!(parse_path("/api/v1/pods/x").unwrap().is_none());
        assert!(parse_path("/api/v1/namespaces/a/nodes").unwrap().is_none());
        assert!(
            parse_path("/apis/apps/v1/namespaces/a/deployments/d/nope")
                .unwrap()
                .is_none()
        );
        assert!(parse_path("/apis/nope/v1/things").unwrap().is_none());
        assert!(
            matches!(parse_path("/apis/apps").unwrap(), Some(ApiPath::Group(g)) if g == "apps")
        );
    }

    #[test]
    fn params_parse() {
        let p = Params::parse(Some(
            "watch=true&resourceVersion=5&limit=500&continue=abc&fieldManager=kubectl",
        ))
        .unwrap();
        assert!(p.is_watch());
        assert_eq!(p.limit, Some(500));
        assert_eq!(p.continue_token.as_deref(), Some("abc"));
        assert!(Params::parse(Some("limit=x")).is_err());
        assert!(
            Params::parse(Some("dryRun=Some"))
                .unwrap()
                .dry_run()
                .is_err()
        );
    }
}

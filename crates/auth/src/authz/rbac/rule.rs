//! Whether one RBAC rule allows a request: upstream's `RuleAllows` and the
//! `VerbMatches` / `APIGroupMatches` / `ResourceMatches` /
//! `ResourceNameMatches` / `NonResourceURLMatches` helpers.

use k8s_openapi::api::rbac::v1::PolicyRule;

use crate::attributes::Attributes;

/// The wildcard of verbs, API groups, resources and non-resource URLs.
pub const ALL: &str = "*";

/// Whether any of `rules` allows the request.
pub fn rules_allow(attributes: &Attributes, rules: &[PolicyRule]) -> bool {
    rules.iter().any(|rule| rule_allows(attributes, rule))
}

/// Whether `rule` allows the request: the verb, and for a resource request
/// the API group, the resource (with its subresource) and the name, or for a
/// non-resource request the path.
pub fn rule_allows(attributes: &Attributes, rule: &PolicyRule) -> bool {
    if !verb_matches(rule, &attributes.verb) {
        return false;
    }
    if attributes.resource_request {
        api_group_matches(rule, &attributes.api_group)
            && resource_matches(rule, &attributes.resource, &attributes.subresource)
            && resource_name_matches(rule, &attributes.name)
    } else {
        non_resource_url_matches(rule, &attributes.path)
    }
}

/// The rule names the verb, or `*`.
pub fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == ALL || v == verb)
}

/// The rule names the API group, or `*`.
pub fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    list(&rule.api_groups)
        .iter()
        .any(|g| g == ALL || g == group)
}

/// The rule names `resource` (with `/subresource` if there is one), `*`, or
/// `*/subresource`.
pub fn resource_matches(rule: &PolicyRule, resource: &str, subresource: &str) -> bool {
    list(&rule.resources).iter().any(|r| {
        r == ALL
            || is_combined(r, resource, subresource)
            || (!subresource.is_empty()
                && r.len() == subresource.len() + 2
                && r.starts_with("*/")
                && r.ends_with(subresource))
    })
}

/// `rule_resource` is `resource/subresource` (or `resource` when there is no
/// subresource), compared without building the combined string.
fn is_combined(rule_resource: &str, resource: &str, subresource: &str) -> bool {
    if subresource.is_empty() {
        return rule_resource == resource;
    }
    rule_resource.len() == resource.len() + 1 + subresource.len()
        && rule_resource.starts_with(resource)
        && rule_resource[resource.len()..].starts_with('/')
        && rule_resource.ends_with(subresource)
}

/// The rule has no names (any object), or names this one. A rule with names
/// never matches a request without a name (`create`, `list`, `watch`,
/// `deletecollection`), as upstream.
pub fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    let names = list(&rule.resource_names);
    names.is_empty() || names.iter().any(|n| n == name)
}

/// The rule names the path exactly, `*`, or a prefix of it followed by `*`.
pub fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    list(&rule.non_resource_urls)
        .iter()
        .any(|url| url_matches(url, path))
}

/// One non-resource URL of a rule against a request path.
pub(crate) fn url_matches(url: &str, path: &str) -> bool {
    url == ALL || url == path || (url.ends_with('*') && path.starts_with(url.trim_end_matches('*')))
}

/// An optional list as a slice.
pub(crate) fn list(items: &Option<Vec<String>>) -> &[String] {
    items.as_deref().unwrap_or_default()
}

//! Whether a policy rule matches a request (upstream's `ruleMatches`).

use ironclad_auth::attributes::Attributes;

use super::policy::PolicyRule;

/// Whether every non-empty list of `rule` matches `attrs`.
pub(crate) fn rule_matches(rule: &PolicyRule, attrs: &Attributes) -> bool {
    if !rule.users.is_empty() && !rule.users.contains(&attrs.user.name) {
        return false;
    }
    if !rule.user_groups.is_empty()
        && !attrs
            .user
            .groups
            .iter()
            .any(|g| rule.user_groups.contains(g))
    {
        return false;
    }
    if !rule.verbs.is_empty() && !rule.verbs.contains(&attrs.verb) {
        return false;
    }
    if !rule.namespaces.is_empty() || !rule.resources.is_empty() {
        return matches_resource(rule, attrs);
    }
    if !rule.non_resource_urls.is_empty() {
        return matches_non_resource(rule, attrs);
    }
    true
}

fn matches_non_resource(rule: &PolicyRule, attrs: &Attributes) -> bool {
    !attrs.resource_request
        && rule
            .non_resource_urls
            .iter()
            .any(|spec| path_matches(&attrs.path, spec))
}

/// `*`, an exact path, or a prefix ending in `*`.
fn path_matches(path: &str, spec: &str) -> bool {
    if spec == "*" || spec == path {
        return true;
    }
    spec.ends_with('*') && path.starts_with(spec.trim_end_matches('*'))
}

fn matches_resource(rule: &PolicyRule, attrs: &Attributes) -> bool {
    if !attrs.resource_request {
        return false;
    }
    if !rule.namespaces.is_empty() && !rule.namespaces.contains(&attrs.namespace) {
        return false;
    }
    if rule.resources.is_empty() {
        return true;
    }
    let combined = attrs.resource_path();
    let sub = attrs.subresource.as_str();
    for gr in &rule.resources {
        if gr.group != attrs.api_group {
            continue;
        }
        if gr.resources.is_empty() {
            return true;
        }
        if !gr.resource_names.is_empty() && !gr.resource_names.contains(&attrs.name) {
            continue;
        }
        for res in &gr.resources {
            if *res == combined || res == "*" {
                return true;
            }
            if !sub.is_empty() && res.strip_prefix("*/") == Some(sub) {
                return true;
            }
            if res.strip_suffix("/*") == Some(attrs.resource.as_str()) {
                return true;
            }
        }
    }
    false
}

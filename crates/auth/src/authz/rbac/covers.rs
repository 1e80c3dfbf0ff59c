//! RBAC's escalation check: whether the rules a user holds cover the rules
//! they try to grant (upstream's `Covers`, `BreakdownRule`, `CompactRules`
//! and the "attempting to grant RBAC permissions not currently held"
//! message). The API server refuses to create or update a Role or
//! ClusterRole (or a binding to one) whose rules the requester does not
//! hold, unless the requester may `escalate` (roles) or `bind` (bindings).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::index::RbacIndex;
use super::rule::{ALL, list, url_matches};
use crate::user::UserInfo;

/// Whether `owner` covers every permission in `requested`. The uncovered
/// ones come back broken down to one API group, resource, verb and name
/// each (or one URL and verb), in the order they were requested.
pub fn rules_cover(owner: &[PolicyRule], requested: &[PolicyRule]) -> Result<(), Vec<PolicyRule>> {
    let uncovered: Vec<PolicyRule> = requested
        .iter()
        .flat_map(breakdown_rule)
        .filter(|sub| !owner.iter().any(|o| rule_covers(o, sub)))
        .collect();
    if uncovered.is_empty() {
        Ok(())
    } else {
        Err(uncovered)
    }
}

impl RbacIndex {
    /// Upstream's `ConfirmNoEscalation`: whether `user` holds, in
    /// `namespace` ("" for cluster-wide), every permission of `rules` it
    /// wants to put in a Role, ClusterRole or binding; if not, upstream's
    /// refusal. (Whether the user may `escalate` or `bind` instead, or is in
    /// `system:masters`, is for the caller to check first.)
    pub fn confirm_no_escalation(
        &self,
        user: &UserInfo,
        namespace: &str,
        rules: &[PolicyRule],
    ) -> Result<(), String> {
        let (owner, errors) = self.policy_rules_for(user, namespace);
        rules_cover(&owner, rules).map_err(|missing| escalation_message(user, &missing, &errors))
    }
}

/// `rule` as the equivalent list of rules with at most one API group,
/// resource, verb and name each (or one URL and verb).
pub fn breakdown_rule(rule: &PolicyRule) -> Vec<PolicyRule> {
    let mut out = Vec::new();
    let one = |s: &String| Some(vec![s.clone()]);
    for group in list(&rule.api_groups) {
        for resource in list(&rule.resources) {
            for verb in &rule.verbs {
                let names = list(&rule.resource_names);
                if names.is_empty() {
                    out.push(PolicyRule {
                        api_groups: one(group),
                        resources: one(resource),
                        verbs: vec![verb.clone()],
                        ..Default::default()
                    });
                }
                for name in names {
                    out.push(PolicyRule {
                        api_groups: one(group),
                        resources: one(resource),
                        resource_names: one(name),
                        verbs: vec![verb.clone()],
                        ..Default::default()
                    });
                }
            }
        }
    }
    for url in list(&rule.non_resource_urls) {
        for verb in &rule.verbs {
            out.push(PolicyRule {
                non_resource_urls: one(url),
                verbs: vec![verb.clone()],
                ..Default::default()
            });
        }
    }
    out
}

/// Whether `owner` covers `sub`, a rule broken down by [`breakdown_rule`].
fn rule_covers(owner: &PolicyRule, sub: &PolicyRule) -> bool {
    let verbs = has(&owner.verbs, ALL) || has_all(&owner.verbs, &sub.verbs);
    let groups = has(list(&owner.api_groups), ALL)
        || has_all(list(&owner.api_groups), list(&sub.api_groups));
    let resources = resources_cover(list(&owner.resources), list(&sub.resources));
    let urls = list(&sub.non_resource_urls).iter().all(|path| {
        list(&owner.non_resource_urls)
            .iter()
            .any(|o| o == path || (o.ends_with('*') && url_matches(o, path)))
    });
    let owner_names = list(&owner.resource_names);
    let sub_names = list(&sub.resource_names);
    let names = if sub_names.is_empty() {
        owner_names.is_empty()
    } else {
        owner_names.is_empty() || has_all(owner_names, sub_names)
    };
    verbs && groups && resources && names && urls
}

/// `*`, every resource by name, or each subresource through `*/sub`.
fn resources_cover(owner: &[String], requested: &[String]) -> bool {
    if has(owner, ALL) || has_all(owner, requested) {
        return true;
    }
    requested.iter().all(|path| {
        has(owner, path)
            || path
                .split_once('/')
                .is_some_and(|(_, sub)| owner.iter().any(|o| o.strip_prefix("*/") == Some(sub)))
    })
}

fn has(set: &[String], item: &str) -> bool {
    set.iter().any(|s| s == item)
}

fn has_all(set: &[String], items: &[String]) -> bool {
    items.iter().all(|i| has(set, i))
}

/// Merges the verbs of rules that differ only in their verbs and name one
/// API group, one resource and at most one name (upstream's
/// `CompactRules`), for shorter messages. Other rules are kept as they are,
/// first; merged ones follow in order of group, resource and name.
pub fn compact_rules(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut compacted = Vec::new();
    let mut simple: BTreeMap<(String, String, Option<String>), PolicyRule> = BTreeMap::new();
    for rule in rules {
        let groups = list(&rule.api_groups);
        let resources = list(&rule.resources);
        let names = list(&rule.resource_names);
        let is_simple = groups.len() == 1
            && resources.len() == 1
            && names.len() <= 1
            && list(&rule.non_resource_urls).is_empty();
        if !is_simple {
            compacted.push(rule.clone());
            continue;
        }
        let key = (
            groups[0].clone(),
            resources[0].clone(),
            names.first().cloned(),
        );
        match simple.get_mut(&key) {
            Some(existing) => existing.verbs.extend(rule.verbs.iter().cloned()),
            None => {
                simple.insert(key, rule.clone());
            }
        }
    }
    compacted.extend(simple.into_values());
    compacted
}

/// A rule as upstream prints it in escalation errors:
/// `{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}`.
pub fn compact_string(rule: &PolicyRule) -> String {
    let mut parts = Vec::new();
    let mut part = |label: &str, items: &[String]| {
        if !items.is_empty() {
            parts.push(format!("{label}:{}", go_quote_list(items)));
        }
    };
    part("APIGroups", list(&rule.api_groups));
    part("Resources", list(&rule.resources));
    part("NonResourceURLs", list(&rule.non_resource_urls));
    part("ResourceNames", list(&rule.resource_names));
    part("Verbs", &rule.verbs);
    format!("{{{}}}", parts.join(", "))
}

/// Upstream's refusal of an escalation: `user "alice" (groups=["dev"
/// "system:authenticated"]) is attempting to grant RBAC permissions not
/// currently held:` and the missing rules, compacted, one per line, sorted;
/// `resolution_errors` (roles the user's bindings name that do not exist)
/// are appended.
pub fn escalation_message(
    user: &UserInfo,
    missing: &[PolicyRule],
    resolution_errors: &[String],
) -> String {
    let lines: BTreeSet<String> = compact_rules(missing).iter().map(compact_string).collect();
    let mut message = format!(
        "user {} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
        go_quote(&user.name),
        go_quote_list(&user.groups),
        lines.into_iter().collect::<Vec<_>>().join("\n")
    );
    if !resolution_errors.is_empty() {
        message.push_str(&format!(
            "; resolution errors: [{}]",
            aggregate_errors(resolution_errors)
        ));
    }
    message
}

/// Several errors as upstream's `utilerrors.Aggregate` prints them: one
/// alone, several as `[a, b]`, repeated messages once.
pub(crate) fn aggregate_errors(errors: &[String]) -> String {
    let mut seen = BTreeSet::new();
    let unique: Vec<&str> = errors
        .iter()
        .filter(|e| seen.insert(e.as_str()))
        .map(String::as_str)
        .collect();
    match unique.as_slice() {
        [one] => one.to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// A string quoted as Go's `%q` does.
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
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A list of strings as Go's `%q` prints a `[]string`: `["a" "b"]`.
pub(crate) fn go_quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

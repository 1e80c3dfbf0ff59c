//! The ABAC policy file (`--authorization-policy-file`), which the API
//! server reads at startup: parsed, then asked about a fixed set of
//! requests.

use std::sync::OnceLock;

use ironclad_auth::authz::abac::AbacPolicy;
use ironclad_auth::authz::{Authorizer, RuleResolver};
use ironclad_auth::{Attributes, UserInfo};

/// Parses the input as an ABAC policy file. An error must name a line of
/// the input; an accepted file's policies are on lines of the input, in
/// order, and every request it allows is covered by the rules it lists
/// for that user and namespace.
pub fn abac_policy(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let lines = text.split('\n').count();
    let policy = match AbacPolicy::parse(&text) {
        Ok(policy) => policy,
        Err(err) => {
            assert!(
                (1..=lines).contains(&err.line),
                "error on line {} of a {lines}-line input: {err}",
                err.line
            );
            assert!(
                err.to_string()
                    .starts_with(&format!("policy file line {}: ", err.line)),
                "{err}"
            );
            return false;
        }
    };
    let mut previous = 0;
    for p in policy.policies() {
        assert!(
            p.line > previous && p.line <= lines,
            "policy on line {} after line {previous} of {lines}",
            p.line
        );
        previous = p.line;
    }
    for attributes in requests() {
        let decision = policy.authorize(attributes);
        // A policy with no resource (or path) matches a request for none,
        // but lists no rule for it, as upstream: those are left out.
        let named = if attributes.resource_request {
            !attributes.resource.is_empty()
        } else {
            !attributes.path.is_empty()
        };
        if decision.is_allowed() && named {
            assert_listed(&policy, attributes);
        }
    }
    true
}

/// An allowed request must be covered by `rules_for` (upstream's RulesFor
/// lists the policies that can match the user in the namespace).
fn assert_listed(policy: &AbacPolicy, attributes: &Attributes) {
    let rules = policy.rules_for(&attributes.user, &attributes.namespace);
    let verb = |verbs: &[String]| verbs.iter().any(|v| v == "*" || *v == attributes.verb);
    let covered = if attributes.resource_request {
        rules.resource_rules.iter().any(|r| {
            verb(&r.verbs)
                && r.api_groups
                    .iter()
                    .any(|g| g == "*" || *g == attributes.api_group)
                && r.resources
                    .iter()
                    .any(|x| x == "*" || *x == attributes.resource)
        })
    } else {
        rules.non_resource_rules.iter().any(|r| {
            verb(&r.verbs)
                && r.non_resource_urls.iter().any(|u| {
                    u == "*"
                        || *u == attributes.path
                        || (u.ends_with('*')
                            && attributes.path.starts_with(u.trim_end_matches('*')))
                })
        })
    };
    assert!(
        covered,
        "{attributes:?} is allowed but not among the listed rules {rules:?}"
    );
}

/// Requests of every shape the policy fields distinguish: users and
/// groups, anonymous, read-only and writing verbs, namespaced and
/// cluster-scoped resources, core and named API groups, paths.
fn requests() -> &'static [Attributes] {
    static CELL: OnceLock<Vec<Attributes>> = OnceLock::new();
    CELL.get_or_init(|| {
        let alice = UserInfo::authenticated("alice", &[]);
        let admin = UserInfo::authenticated("root", &["admins"]);
        let node = UserInfo::authenticated("system:node:n1", &["system:nodes"]);
        let anonymous = UserInfo::anonymous();
        vec![
            Attributes::resource(alice.clone(), "get", "", "pods", "projectCaribou", "p"),
            Attributes::resource(alice.clone(), "create", "apps", "deployments", "ns1", ""),
            Attributes::resource(admin.clone(), "delete", "", "nodes", "", "n1"),
            Attributes::resource(admin.clone(), "list", "x", "widgets", "", ""),
            Attributes::resource(node.clone(), "watch", "", "pods", "", ""),
            Attributes::resource(node.clone(), "update", "", "events", "kube-system", "e"),
            Attributes::resource(anonymous.clone(), "get", "", "secrets", "default", "s"),
            Attributes::resource(alice.clone(), "get", "", "", "", ""),
            Attributes::non_resource(alice.clone(), "get", "/version"),
            Attributes::non_resource(admin, "post", "/api/v1"),
            Attributes::non_resource(node, "get", "/healthz/etcd"),
            Attributes::non_resource(anonymous, "get", "/"),
            Attributes::non_resource(alice, "get", ""),
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_policies_and_rejects_garbage() {
        assert!(abac_policy(
            b"# comment\n{\"apiVersion\":\"abac.authorization.kubernetes.io/v1beta1\",\"kind\":\"Policy\",\"spec\":{\"user\":\"*\",\"nonResourcePath\":\"*\"}}\n{\"user\":\"alice\"}"
        ));
        assert!(abac_policy(b""));
        assert!(!abac_policy(b"{\"user\":"));
        assert!(!abac_policy(b"\n\n{\"ns\":\"x\"}"));
        assert!(!abac_policy(b"\xff\xfe{}"));
    }
}

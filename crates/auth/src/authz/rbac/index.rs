//! The RBAC authorizer over an index of roles and bindings built once:
//! every binding has its role's rules resolved, and bindings are found by
//! user name and group rather than scanned, so a request costs a few hash
//! lookups and the rules of the bindings that apply to the user.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject,
};

use super::covers::{aggregate_errors, go_quote};
use super::rule::{list, rule_allows};
use crate::attributes::Attributes;
use crate::authz::{Authorizer, Decision, NonResourceRule, ResourceRule, RuleResolver, Rules};
use crate::user::{SERVICE_ACCOUNT_PREFIX, UserInfo};

/// RBAC over a snapshot of ClusterRoles, ClusterRoleBindings, Roles and
/// RoleBindings. Rebuild it when any of them changes.
#[derive(Debug, Clone, Default)]
pub struct RbacIndex {
    /// ClusterRoleBindings, and who they name.
    cluster: BindingSet,
    /// RoleBindings by namespace.
    namespaces: HashMap<String, BindingSet>,
}

/// Bindings of one scope (the cluster, or one namespace) with an index of
/// their subjects.
#[derive(Debug, Clone, Default)]
struct BindingSet {
    bindings: Vec<ResolvedBinding>,
    /// User subjects by name and ServiceAccount subjects by their user name
    /// (`system:serviceaccount:<ns>:<name>`): (binding, subject) positions.
    by_user: HashMap<String, Vec<(usize, usize)>>,
    /// Group subjects by name.
    by_group: HashMap<String, Vec<(usize, usize)>>,
}

/// A binding with its role's rules looked up.
#[derive(Debug, Clone)]
struct ResolvedBinding {
    /// `ClusterRoleBinding "name"` or `RoleBinding "name/namespace"`.
    kind_and_name: String,
    /// The binding's namespace ("" for a ClusterRoleBinding).
    namespace: String,
    role_kind: String,
    role_name: String,
    subjects: Vec<Subject>,
    /// The role's rules, or why they could not be found.
    rules: Result<Arc<[PolicyRule]>, String>,
}

impl RbacIndex {
    /// Indexes the given objects. Bindings are evaluated in the order given;
    /// a binding whose role does not exist grants nothing (and is reported
    /// as a resolution error to the users it names).
    pub fn new(
        cluster_roles: Vec<ClusterRole>,
        cluster_role_bindings: Vec<ClusterRoleBinding>,
        roles: Vec<Role>,
        role_bindings: Vec<RoleBinding>,
    ) -> RbacIndex {
        let cluster_rules: HashMap<String, Arc<[PolicyRule]>> = cluster_roles
            .into_iter()
            .map(|r| {
                let name = r.metadata.name.unwrap_or_default();
                (name, r.rules.unwrap_or_default().into())
            })
            .collect();
        let role_rules: HashMap<(String, String), Arc<[PolicyRule]>> = roles
            .into_iter()
            .map(|r| {
                let key = (
                    r.metadata.namespace.unwrap_or_default(),
                    r.metadata.name.unwrap_or_default(),
                );
                (key, r.rules.unwrap_or_default().into())
            })
            .collect();
        let resolve = |kind: &str, name: &str, namespace: &str| match kind {
            "ClusterRole" => cluster_rules.get(name).cloned().ok_or_else(|| {
                format!(
                    "clusterrole.rbac.authorization.k8s.io {} not found",
                    go_quote(name)
                )
            }),
            "Role" => role_rules
                .get(&(namespace.to_string(), name.to_string()))
                .filter(|_| !namespace.is_empty())
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "role.rbac.authorization.k8s.io {} not found",
                        go_quote(name)
                    )
                }),
            other => Err(format!(
                "unsupported role reference kind: {}",
                go_quote(other)
            )),
        };

        let mut cluster = BindingSet::default();
        for binding in cluster_role_bindings {
            let name = binding.metadata.name.unwrap_or_default();
            cluster.push(ResolvedBinding {
                kind_and_name: format!("ClusterRoleBinding {}", go_quote(&name)),
                namespace: String::new(),
                rules: resolve(&binding.role_ref.kind, &binding.role_ref.name, ""),
                role_kind: binding.role_ref.kind,
                role_name: binding.role_ref.name,
                subjects: binding.subjects.unwrap_or_default(),
            });
        }
        let mut namespaces: HashMap<String, BindingSet> = HashMap::new();
        for binding in role_bindings {
            let namespace = binding.metadata.namespace.unwrap_or_default();
            if namespace.is_empty() {
                continue;
            }
            let name = binding.metadata.name.unwrap_or_default();
            let resolved = ResolvedBinding {
                kind_and_name: format!("RoleBinding {}", go_quote(&format!("{name}/{namespace}"))),
                rules: resolve(&binding.role_ref.kind, &binding.role_ref.name, &namespace),
                namespace: namespace.clone(),
                role_kind: binding.role_ref.kind,
                role_name: binding.role_ref.name,
                subjects: binding.subjects.unwrap_or_default(),
            };
            namespaces.entry(namespace).or_default().push(resolved);
        }
        RbacIndex {
            cluster,
            namespaces,
        }
    }

    /// The rules that apply to `user` in `namespace` (ClusterRoleBindings,
    /// then the namespace's RoleBindings), and the resolution errors met:
    /// upstream's `RulesFor`, which the escalation check compares with
    /// [`rules_cover`](super::rules_cover).
    pub fn policy_rules_for(
        &self,
        user: &UserInfo,
        namespace: &str,
    ) -> (Vec<PolicyRule>, Vec<String>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        self.visit(user, namespace, |_, _, outcome| {
            match outcome {
                Ok(rule) => rules.push(rule.clone()),
                Err(error) => errors.push(error.to_string()),
            }
            true
        });
        (rules, errors)
    }

    /// Calls `visitor` with each rule that applies to `user` in `namespace`
    /// (with the binding and the subject that grant it) or each resolution
    /// error, until it returns false.
    fn visit<'a>(
        &'a self,
        user: &UserInfo,
        namespace: &str,
        mut visitor: impl FnMut(
            &'a ResolvedBinding,
            &'a Subject,
            Result<&'a PolicyRule, &'a str>,
        ) -> bool,
    ) {
        let mut scopes = vec![&self.cluster];
        if !namespace.is_empty()
            && let Some(set) = self.namespaces.get(namespace)
        {
            scopes.push(set);
        }
        for set in scopes {
            for (binding, subject) in set.applicable(user) {
                let binding = &set.bindings[binding];
                let subject = &binding.subjects[subject];
                match &binding.rules {
                    Ok(rules) => {
                        for rule in rules.iter() {
                            if !visitor(binding, subject, Ok(rule)) {
                                return;
                            }
                        }
                    }
                    Err(error) => {
                        if !visitor(binding, subject, Err(error)) {
                            return;
                        }
                    }
                }
            }
        }
    }
}

impl BindingSet {
    fn push(&mut self, binding: ResolvedBinding) {
        let index = self.bindings.len();
        for (position, subject) in binding.subjects.iter().enumerate() {
            let entry = (index, position);
            match subject.kind.as_str() {
                "User" => self
                    .by_user
                    .entry(subject.name.clone())
                    .or_default()
                    .push(entry),
                "Group" => self
                    .by_group
                    .entry(subject.name.clone())
                    .or_default()
                    .push(entry),
                "ServiceAccount" => {
                    // A RoleBinding's ServiceAccount subjects default to its
                    // namespace; a ClusterRoleBinding's must name one.
                    let namespace = subject
                        .namespace
                        .as_deref()
                        .filter(|ns| !ns.is_empty())
                        .unwrap_or(&binding.namespace);
                    if !namespace.is_empty() {
                        let user = format!("{SERVICE_ACCOUNT_PREFIX}{namespace}:{}", subject.name);
                        self.by_user.entry(user).or_default().push(entry);
                    }
                }
                _ => {}
            }
        }
        self.bindings.push(binding);
    }

    /// The bindings that apply to `user`, in order, each with the first of
    /// its subjects that names the user.
    fn applicable(&self, user: &UserInfo) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = Vec::new();
        if let Some(entries) = self.by_user.get(&user.name) {
            found.extend_from_slice(entries);
        }
        for group in &user.groups {
            if let Some(entries) = self.by_group.get(group) {
                found.extend_from_slice(entries);
            }
        }
        found.sort_unstable();
        found.dedup_by_key(|(binding, _)| *binding);
        found
    }
}

impl ResolvedBinding {
    /// Upstream's describer: `ClusterRoleBinding "x" of ClusterRole "y" to
    /// User "z"`, `RoleBinding "x/ns" of Role "y" to ServiceAccount
    /// "sa/ns"`.
    fn describe(&self, subject: &Subject) -> String {
        let who = if subject.kind == "ServiceAccount" {
            let namespace = subject
                .namespace
                .as_deref()
                .filter(|ns| !ns.is_empty())
                .unwrap_or(&self.namespace);
            go_quote(&format!("{}/{namespace}", subject.name))
        } else {
            go_quote(&subject.name)
        };
        format!(
            "{} of {} {} to {} {who}",
            self.kind_and_name,
            self.role_kind,
            go_quote(&self.role_name),
            subject.kind
        )
    }
}

impl Authorizer for RbacIndex {
    fn authorize(&self, attributes: &Attributes) -> Decision {
        let mut allowed = None;
        let mut errors: Vec<&str> = Vec::new();
        self.visit(
            &attributes.user,
            &attributes.namespace,
            |binding, subject, outcome| {
                match outcome {
                    Ok(rule) if rule_allows(attributes, rule) => {
                        allowed = Some(format!("RBAC: allowed by {}", binding.describe(subject)));
                        return false;
                    }
                    Ok(_) => {}
                    Err(error) => errors.push(error),
                }
                true
            },
        );
        match allowed {
            Some(reason) => Decision::Allow(reason),
            None if errors.is_empty() => Decision::NoOpinion(String::new()),
            None => {
                let errors: Vec<String> = errors.into_iter().map(str::to_string).collect();
                Decision::NoOpinion(format!("RBAC: {}", aggregate_errors(&errors)))
            }
        }
    }
}

impl RuleResolver for RbacIndex {
    fn rules_for(&self, user: &UserInfo, namespace: &str) -> Rules {
        let (policy_rules, errors) = self.policy_rules_for(user, namespace);
        let mut rules = Rules {
            incomplete: !errors.is_empty(),
            ..Default::default()
        };
        for rule in policy_rules {
            if !list(&rule.resources).is_empty() {
                rules.resource_rules.push(ResourceRule {
                    verbs: rule.verbs.clone(),
                    api_groups: list(&rule.api_groups).to_vec(),
                    resources: list(&rule.resources).to_vec(),
                    resource_names: list(&rule.resource_names).to_vec(),
                });
            }
            if !list(&rule.non_resource_urls).is_empty() {
                rules.non_resource_rules.push(NonResourceRule {
                    verbs: rule.verbs,
                    non_resource_urls: list(&rule.non_resource_urls).to_vec(),
                });
            }
        }
        rules
    }
}

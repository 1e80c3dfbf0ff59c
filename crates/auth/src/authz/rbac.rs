//! Role-based access control, as upstream's RBAC authorizer: Roles and
//! ClusterRoles hold rules, RoleBindings and ClusterRoleBindings grant them
//! to users, groups and service accounts. RBAC only allows; a request no
//! rule allows gets no opinion, and the next authorizer is asked.
//!
//! - [`RbacIndex`]: the authorizer and rule resolver over a snapshot of
//!   roles and bindings.
//! - [`rule_allows`] / [`rules_allow`]: one rule against a request.
//! - [`rules_cover`]: the escalation check (does a user hold the rules they
//!   grant), with [`escalation_message`] for the refusal.
//! - [`aggregate_rules`]: the rules of an aggregated ClusterRole.

mod aggregation;
mod covers;
mod index;
mod rule;
#[cfg(test)]
mod tests;

pub use aggregation::{aggregate_rules, same_rule, selector_matches};
pub(crate) use covers::go_quote;
pub use covers::{breakdown_rule, compact_rules, compact_string, escalation_message, rules_cover};
pub use index::RbacIndex;
pub use rule::{
    ALL, api_group_matches, non_resource_url_matches, resource_matches, resource_name_matches,
    rule_allows, rules_allow, verb_matches,
};

//! The built-in RBAC policy the API server creates at startup (upstream's
//! `bootstrappolicy`): ClusterRoles such as `cluster-admin`, `admin`/`edit`/
//! `view` and the `system:` roles of the control plane, their bindings, and
//! the Roles and RoleBindings of `kube-system` and `kube-public`. Every
//! object carries the label `kubernetes.io/bootstrapping: rbac-defaults`
//! and the annotation `rbac.authorization.kubernetes.io/autoupdate:
//! "true"`.
//!
//! Ironclad runs all its controllers as `system:kube-controller-manager`,
//! so that role joins upstream's per-controller roles (see
//! [`controller_manager`]).

mod bindings;
mod builder;
mod cluster_roles;
pub mod controller_manager;
mod namespaced;
mod node_rules;
#[cfg(test)]
mod tests;

pub use bindings::{MONITORING, cluster_role_bindings};
pub use builder::{AUTOUPDATE_ANNOTATION, BOOTSTRAPPING_LABEL, BOOTSTRAPPING_VALUE, RBAC_GROUP};
pub use cluster_roles::{AGGREGATE_TO_ADMIN, AGGREGATE_TO_EDIT, AGGREGATE_TO_VIEW, cluster_roles};
pub use namespaced::{KUBE_PUBLIC, KUBE_SYSTEM, role_bindings, roles};
pub use node_rules::node_rules;

//! The built-in Roles and RoleBindings of `kube-system` and `kube-public`,
//! as upstream 1.33 defines them.

use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, Subject};

use super::builder::{READ, events_rule, metadata, role_ref, rule, service_account, user};
use crate::user::{KUBE_CONTROLLER_MANAGER, KUBE_SCHEDULER};

/// The system namespace.
pub const KUBE_SYSTEM: &str = "kube-system";
/// The namespace readable by anyone (the `cluster-info` ConfigMap).
pub const KUBE_PUBLIC: &str = "kube-public";

/// The built-in Roles.
pub fn roles() -> Vec<Role> {
    let leader_locking = || {
        vec![
            rule(&["watch", "get", "list", "create", "update"])
                .groups(&["coordination.k8s.io"])
                .resources(&["leases"])
                .build(),
            rule(&["watch", "get", "list", "create", "update"])
                .groups(&["coordination.k8s.io"])
                .resources(&["leasecandidates"])
                .build(),
        ]
    };
    vec![
        role(
            KUBE_PUBLIC,
            "system:controller:bootstrap-signer",
            vec![
                rule(READ).groups(&[""]).resources(&["configmaps"]).build(),
                rule(&["update"])
                    .groups(&[""])
                    .resources(&["configmaps"])
                    .names(&["cluster-info"])
                    .build(),
                events_rule(),
            ],
        ),
        role(
            KUBE_SYSTEM,
            "extension-apiserver-authentication-reader",
            vec![
                rule(READ)
                    .groups(&[""])
                    .resources(&["configmaps"])
                    .names(&["extension-apiserver-authentication"])
                    .build(),
            ],
        ),
        role(
            KUBE_SYSTEM,
            "system::leader-locking-kube-controller-manager",
            leader_locking(),
        ),
        role(
            KUBE_SYSTEM,
            "system::leader-locking-kube-scheduler",
            leader_locking(),
        ),
        role(
            KUBE_SYSTEM,
            "system:controller:bootstrap-signer",
            vec![rule(READ).groups(&[""]).resources(&["secrets"]).build()],
        ),
        role(
            KUBE_SYSTEM,
            "system:controller:cloud-provider",
            vec![
                rule(&["create", "get", "list", "watch"])
                    .groups(&[""])
                    .resources(&["configmaps"])
                    .build(),
            ],
        ),
        role(
            KUBE_SYSTEM,
            "system:controller:token-cleaner",
            vec![
                rule(&["delete", "get", "list", "watch"])
                    .groups(&[""])
                    .resources(&["secrets"])
                    .build(),
                events_rule(),
            ],
        ),
    ]
}

/// The built-in RoleBindings.
pub fn role_bindings() -> Vec<RoleBinding> {
    vec![
        binding(
            KUBE_PUBLIC,
            "system:controller:bootstrap-signer",
            "system:controller:bootstrap-signer",
            vec![service_account(KUBE_SYSTEM, "bootstrap-signer")],
        ),
        binding(
            KUBE_SYSTEM,
            "system::extension-apiserver-authentication-reader",
            "extension-apiserver-authentication-reader",
            vec![user(KUBE_CONTROLLER_MANAGER), user(KUBE_SCHEDULER)],
        ),
        binding(
            KUBE_SYSTEM,
            "system::leader-locking-kube-controller-manager",
            "system::leader-locking-kube-controller-manager",
            vec![
                user(KUBE_CONTROLLER_MANAGER),
                service_account(KUBE_SYSTEM, "kube-controller-manager"),
                service_account(KUBE_SYSTEM, "leader-election-controller"),
            ],
        ),
        binding(
            KUBE_SYSTEM,
            "system::leader-locking-kube-scheduler",
            "system::leader-locking-kube-scheduler",
            vec![
                user(KUBE_SCHEDULER),
                service_account(KUBE_SYSTEM, "kube-scheduler"),
            ],
        ),
        binding(
            KUBE_SYSTEM,
            "system:controller:bootstrap-signer",
            "system:controller:bootstrap-signer",
            vec![service_account(KUBE_SYSTEM, "bootstrap-signer")],
        ),
        binding(
            KUBE_SYSTEM,
            "system:controller:cloud-provider",
            "system:controller:cloud-provider",
            vec![service_account(KUBE_SYSTEM, "cloud-provider")],
        ),
        binding(
            KUBE_SYSTEM,
            "system:controller:token-cleaner",
            "system:controller:token-cleaner",
            vec![service_account(KUBE_SYSTEM, "token-cleaner")],
        ),
    ]
}

fn role(namespace: &str, name: &str, rules: Vec<PolicyRule>) -> Role {
    Role {
        metadata: metadata(name, Some(namespace), &[]),
        rules: Some(rules),
    }
}

fn binding(namespace: &str, name: &str, role: &str, subjects: Vec<Subject>) -> RoleBinding {
    RoleBinding {
        metadata: metadata(name, Some(namespace), &[]),
        role_ref: role_ref("Role", role),
        subjects: Some(subjects),
    }
}

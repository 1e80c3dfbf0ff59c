//! The built-in ClusterRoleBindings: upstream 1.33's, plus the bindings
//! kubeadm creates for TLS bootstrapping (a joining kubelet's bootstrap
//! token may ask for a client certificate, a node may renew its own).

use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Subject};

use super::builder::{group, metadata, role_ref, user};
use crate::user::{
    AUTHENTICATED, BOOTSTRAPPERS, KUBE_CONTROLLER_MANAGER, KUBE_PROXY, KUBE_SCHEDULER, MASTERS,
    NODES, SERVICE_ACCOUNTS, UNAUTHENTICATED,
};

/// The group whose members may read the API server's metrics and health.
pub const MONITORING: &str = "system:monitoring";

/// The built-in ClusterRoleBindings, each named after its ClusterRole.
/// `system:node` is bound to nobody, as upstream: kubelets get their rights
/// from the Node authorizer.
pub fn cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    vec![
        binding("cluster-admin", vec![group(MASTERS)]),
        binding("system:monitoring", vec![group(MONITORING)]),
        binding("system:discovery", vec![group(AUTHENTICATED)]),
        binding("system:basic-user", vec![group(AUTHENTICATED)]),
        binding(
            "system:public-info-viewer",
            vec![group(AUTHENTICATED), group(UNAUTHENTICATED)],
        ),
        binding("system:node-proxier", vec![user(KUBE_PROXY)]),
        binding(
            "system:kube-controller-manager",
            vec![user(KUBE_CONTROLLER_MANAGER)],
        ),
        binding("system:kube-scheduler", vec![user(KUBE_SCHEDULER)]),
        binding("system:node", vec![]),
        binding(
            "system:service-account-issuer-discovery",
            vec![group(SERVICE_ACCOUNTS)],
        ),
        binding("system:node-bootstrapper", vec![group(BOOTSTRAPPERS)]),
        binding(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            vec![group(BOOTSTRAPPERS)],
        ),
        binding(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            vec![group(NODES)],
        ),
    ]
}

/// A ClusterRoleBinding of the ClusterRole of the same name.
fn binding(role: &str, subjects: Vec<Subject>) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: metadata(role, None, &[]),
        role_ref: role_ref("ClusterRole", role),
        subjects: (!subjects.is_empty()).then_some(subjects),
    }
}

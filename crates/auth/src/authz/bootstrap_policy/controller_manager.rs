//! `system:kube-controller-manager`. Upstream runs each controller under a
//! service account of its own (`--use-service-account-credentials`) with a
//! `system:controller:<name>` role; ironclad runs every controller as the
//! controller-manager user, so its role is upstream's controller-manager
//! role joined with the role of each controller ironclad runs, each rule
//! once.

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::builder::{READ, events_rule, rule};
use crate::authz::rbac::same_rule;

/// The rules of `system:kube-controller-manager`.
pub fn controller_manager_rules() -> Vec<PolicyRule> {
    let mut out: Vec<PolicyRule> = Vec::new();
    let all = [
        base(),
        certificate_controller(),
        clusterrole_aggregation(),
        cronjob(),
        deployment(),
        endpoint(),
        endpointslice(),
        endpointslicemirroring(),
        garbage_collector(),
        job(),
        namespace(),
        node(),
        pod_garbage_collector(),
        replicaset(),
        replication(),
        resourcequota(),
        root_ca_cert_publisher(),
        service_account(),
        ttl_after_finished(),
    ];
    for rule in all.into_iter().flatten() {
        if !out.iter().any(|r| same_rule(r, &rule)) {
            out.push(rule);
        }
    }
    out
}

/// Upstream's own `system:kube-controller-manager` rules: leader election,
/// the shared informers (list/watch of everything), service-account tokens
/// and delegated authentication.
fn base() -> Vec<PolicyRule> {
    vec![
        events_rule(),
        rule(&["create"])
            .groups(&["coordination.k8s.io"])
            .resources(&["leases"])
            .build(),
        rule(&["get", "update"])
            .groups(&["coordination.k8s.io"])
            .resources(&["leases"])
            .names(&["kube-controller-manager"])
            .build(),
        rule(&["create"])
            .groups(&[""])
            .resources(&["secrets", "serviceaccounts"])
            .build(),
        rule(&["delete"])
            .groups(&[""])
            .resources(&["secrets"])
            .build(),
        rule(&["get"])
            .groups(&[""])
            .resources(&["namespaces", "secrets", "serviceaccounts", "configmaps"])
            .build(),
        rule(&["update"])
            .groups(&[""])
            .resources(&["secrets", "serviceaccounts"])
            .build(),
        rule(&["create"])
            .groups(&["authentication.k8s.io"])
            .resources(&["tokenreviews"])
            .build(),
        rule(&["create"])
            .groups(&["authorization.k8s.io"])
            .resources(&["subjectaccessreviews"])
            .build(),
        rule(&["list", "watch"])
            .groups(&["*"])
            .resources(&["*"])
            .build(),
        rule(&["create"])
            .groups(&[""])
            .resources(&["serviceaccounts/token"])
            .build(),
    ]
}

/// CSR approving, signing and cleaning.
fn certificate_controller() -> Vec<PolicyRule> {
    vec![
        rule(&["delete", "get", "list", "watch"])
            .groups(&["certificates.k8s.io"])
            .resources(&["certificatesigningrequests"])
            .build(),
        rule(&["update"])
            .groups(&["certificates.k8s.io"])
            .resources(&[
                "certificatesigningrequests/approval",
                "certificatesigningrequests/status",
            ])
            .build(),
        rule(&["approve"])
            .groups(&["certificates.k8s.io"])
            .resources(&["signers"])
            .names(&["kubernetes.io/kube-apiserver-client-kubelet"])
            .build(),
        rule(&["sign"])
            .groups(&["certificates.k8s.io"])
            .resources(&["signers"])
            .names(&[
                "kubernetes.io/kube-apiserver-client",
                "kubernetes.io/kube-apiserver-client-kubelet",
                "kubernetes.io/kubelet-serving",
                "kubernetes.io/legacy-unknown",
            ])
            .build(),
        rule(&["create"])
            .groups(&["authorization.k8s.io"])
            .resources(&["subjectaccessreviews"])
            .build(),
        events_rule(),
    ]
}

fn clusterrole_aggregation() -> Vec<PolicyRule> {
    vec![
        rule(&["escalate", "get", "list", "watch", "update", "patch"])
            .groups(&["rbac.authorization.k8s.io"])
            .resources(&["clusterroles"])
            .build(),
    ]
}

fn cronjob() -> Vec<PolicyRule> {
    vec![
        rule(&["get", "list", "watch", "update"])
            .groups(&["batch"])
            .resources(&["cronjobs"])
            .build(),
        rule(&[
            "get", "list", "watch", "create", "update", "delete", "patch",
        ])
        .groups(&["batch"])
        .resources(&["jobs"])
        .build(),
        rule(&["update"])
            .groups(&["batch"])
            .resources(&["cronjobs/status"])
            .build(),
        rule(&["update"])
            .groups(&["batch"])
            .resources(&["cronjobs/finalizers"])
            .build(),
        rule(&["list", "watch", "delete"])
            .groups(&[""])
            .resources(&["pods"])
            .build(),
        events_rule(),
    ]
}

fn deployment() -> Vec<PolicyRule> {
    vec![
        rule(&["get", "list", "watch", "update"])
            .groups(&["apps", "extensions"])
            .resources(&["deployments"])
            .build(),
        rule(&["update"])
            .groups(&["apps", "extensions"])
            .resources(&["deployments/status"])
            .build(),
        rule(&["update"])
            .groups(&["apps", "extensions"])
            .resources(&["deployments/finalizers"])
            .build(),
        rule(&[
            "get", "list", "watch", "create", "update", "patch", "delete",
        ])
        .groups(&["apps", "extensions"])
        .resources(&["replicasets"])
        .build(),
        rule(&["get", "list", "watch", "update"])
            .groups(&[""])
            .resources(&["pods"])
            .build(),
        events_rule(),
    ]
}

fn endpoint() -> Vec<PolicyRule> {
    vec![
        rule(READ)
            .groups(&[""])
            .resources(&["services", "pods"])
            .build(),
        rule(&["get", "list", "create", "update", "delete", "watch"])
            .groups(&[""])
            .resources(&["endpoints"])
            .build(),
        rule(&["create"])
            .groups(&[""])
            .resources(&["endpoints/restricted"])
            .build(),
        events_rule(),
    ]
}

fn endpointslice() -> Vec<PolicyRule> {
    vec![
        rule(READ)
            .groups(&[""])
            .resources(&["services", "pods", "nodes"])
            .build(),
        rule(&["update"])
            .groups(&[""])
            .resources(&["services/finalizers"])
            .build(),
        rule(&["get", "list", "watch", "create", "update", "delete"])
            .groups(&["discovery.k8s.io"])
            .resources(&["endpointslices"])
            .build(),
        events_rule(),
    ]
}

fn endpointslicemirroring() -> Vec<PolicyRule> {
    vec![
        rule(READ)
            .groups(&[""])
            .resources(&["services", "endpoints"])
            .build(),
        rule(&["update"])
            .groups(&[""])
            .resources(&["services/finalizers"])
            .build(),
        rule(&["update"])
            .groups(&[""])
            .resources(&["endpoints/finalizers"])
            .build(),
        rule(&["get", "list", "watch", "create", "update", "delete"])
            .groups(&["discovery.k8s.io"])
            .resources(&["endpointslices"])
            .build(),
        events_rule(),
    ]
}

fn garbage_collector() -> Vec<PolicyRule> {
    vec![
        rule(&["get", "list", "watch", "patch", "update", "delete"])
            .groups(&["*"])
            .resources(&["*"])
            .build(),
        events_rule(),
    ]
}

fn job() -> Vec<PolicyRule> {
    vec![
        rule(&["get", "list", "watch", "update", "patch"])
            .groups(&["batch"])
            .resources(&["jobs"])
            .build(),
        rule(&["update"])
            .groups(&["batch"])
            .resources(&["jobs/status"])
            .build(),
        rule(&["update"])
            .groups(&["batch"])
            .resources(&["jobs/finalizers"])
            .build(),
        rule(&["list", "watch", "create", "delete", "patch"])
            .groups(&[""])
            .resources(&["pods"])
            .build(),
        events_rule(),
    ]
}

/// Deleting a namespace deletes everything in it.
fn namespace() -> Vec<PolicyRule> {
    vec![
        rule(&["get", "list", "watch", "delete"])
            .groups(&[""])
            .resources(&["namespaces"])
            .build(),
        rule(&["update"])
            .groups(&[""])
            .resources(&["namespaces/finalize", "namespaces/status"])
            .build(),
        rule(&["get", "list", "watch", "delete", "deletecollection"])
            .groups(&["*"])
            .resources(&["*"])
            .build(),
    ]
}

/// `system:controller:node-controller`: node lifecycle and node IPAM.
fn node() -> Vec<PolicyRule> {
    vec![
        rule(&["get", "list", "update", "delete", "patch", "watch"])
            .groups(&[""])
            .resources(&["nodes"])
            .build(),
        rule(&["patch", "update"])
            .groups(&[""])
            .resources(&["nodes/status"])
            .build(),
        rule(&["patch", "update"])
            .groups(&[""])
            .resources(&["pods/status"])
            .build(),
        rule(&["list", "watch", "get", "delete"])
            .groups(&[""])
            .resources(&["pods"])
            .build(),
        events_rule(),
    ]
}

fn pod_garbage_collector() -> Vec<PolicyRule> {
    vec![
        rule(&["list", "watch", "delete"])
            .groups(&[""])
            .resources(&["pods"])
            .build(),
        rule(READ).groups(&[""]).resources(&["nodes"]).build(),
        rule(&["patch"])
            .groups(&[""])
            .resources(&["pods/status"])
            .build(),
    ]
}

fn replicaset() -> Vec<PolicyRule> {
    vec![
        rule(&["get", "list", "watch", "update"])
            .groups(&["apps", "extensions"])
            .resources(&["replicasets"])
            .build(),
        rule(&["update"])
            .groups(&["apps", "extensions"])
            .resources(&["replicasets/status"])
            .build(),
        rule(&["update"])
            .groups(&["apps", "extensions"])
            .resources(&["replicasets/finalizers"])
            .build(),
        rule(&["list", "watch", "patch", "create", "delete"])
            .groups(&[""])
            .resources(&["pods"])
            .build(),
        events_rule(),
    ]
}

fn replication() -> Vec<PolicyRule> {
    vec![
        rule(&["get", "list", "watch", "update"])
            .groups(&[""])
            .resources(&["replicationcontrollers"])
            .build(),
        rule(&["update"])
            .groups(&[""])
            .resources(&["replicationcontrollers/status"])
            .build(),
        rule(&["update"])
            .groups(&[""])
            .resources(&["replicationcontrollers/finalizers"])
            .build(),
        rule(&["list", "watch", "patch", "create", "delete"])
            .groups(&[""])
            .resources(&["pods"])
            .build(),
        events_rule(),
    ]
}

fn resourcequota() -> Vec<PolicyRule> {
    vec![
        rule(&["list", "watch"])
            .groups(&["*"])
            .resources(&["*"])
            .build(),
        rule(&["update"])
            .groups(&[""])
            .resources(&["resourcequotas/status"])
            .build(),
        events_rule(),
    ]
}

fn root_ca_cert_publisher() -> Vec<PolicyRule> {
    vec![
        rule(&["create", "update"])
            .groups(&[""])
            .resources(&["configmaps"])
            .build(),
        events_rule(),
    ]
}

fn service_account() -> Vec<PolicyRule> {
    vec![
        rule(&["create"])
            .groups(&[""])
            .resources(&["serviceaccounts"])
            .build(),
        events_rule(),
    ]
}

fn ttl_after_finished() -> Vec<PolicyRule> {
    vec![
        rule(&["get", "list", "watch", "delete"])
            .groups(&["batch"])
            .resources(&["jobs"])
            .build(),
        events_rule(),
    ]
}

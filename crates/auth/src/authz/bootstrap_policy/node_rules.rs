//! What a kubelet may do: upstream 1.33's `NodeRules()`, the rules of the
//! `system:node` ClusterRole and what the Node authorizer grants nodes
//! beyond the objects it tracks (feature-gated extras off, as by default).

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::builder::{READ, rule};

/// The rules of every node (upstream `NodeRules()`).
pub fn node_rules() -> Vec<PolicyRule> {
    vec![
        // Checking API access; these creates do not mutate anything.
        rule(&["create"])
            .groups(&["authentication.k8s.io"])
            .resources(&["tokenreviews"])
            .build(),
        rule(&["create"])
            .groups(&["authorization.k8s.io"])
            .resources(&["subjectaccessreviews", "localsubjectaccessreviews"])
            .build(),
        // Services, for the environment variables of pods.
        rule(READ).groups(&[""]).resources(&["services"]).build(),
        // Registering the Node and reporting its status (the
        // NodeRestriction admission plugin limits a node to its own).
        rule(&["create", "get", "list", "watch"])
            .groups(&[""])
            .resources(&["nodes"])
            .build(),
        rule(&["update", "patch"])
            .groups(&[""])
            .resources(&["nodes/status"])
            .build(),
        rule(&["update", "patch"])
            .groups(&[""])
            .resources(&["nodes"])
            .build(),
        rule(&["create", "update", "patch"])
            .groups(&[""])
            .resources(&["events"])
            .build(),
        rule(READ).groups(&[""]).resources(&["pods"]).build(),
        // Mirror pods.
        rule(&["create", "delete"])
            .groups(&[""])
            .resources(&["pods"])
            .build(),
        rule(&["update", "patch"])
            .groups(&[""])
            .resources(&["pods/status"])
            .build(),
        rule(&["create"])
            .groups(&[""])
            .resources(&["pods/eviction"])
            .build(),
        // Secrets and config maps of its pods (the Node authorizer limits
        // these to the objects its pods use).
        rule(READ)
            .groups(&[""])
            .resources(&["secrets", "configmaps"])
            .build(),
        rule(&["get"])
            .groups(&[""])
            .resources(&["persistentvolumeclaims", "persistentvolumes"])
            .build(),
        rule(&["get"])
            .groups(&[""])
            .resources(&["endpoints"])
            .build(),
        // Its own client certificate, rotated.
        rule(&["create", "get", "list", "watch"])
            .groups(&["certificates.k8s.io"])
            .resources(&["certificatesigningrequests"])
            .build(),
        // Its heartbeat Lease.
        rule(&["get", "create", "update", "patch", "delete"])
            .groups(&["coordination.k8s.io"])
            .resources(&["leases"])
            .build(),
        rule(&["get"])
            .groups(&["storage.k8s.io"])
            .resources(&["volumeattachments"])
            .build(),
        rule(&["create"])
            .groups(&[""])
            .resources(&["serviceaccounts/token"])
            .build(),
        rule(&["get", "update", "patch"])
            .groups(&[""])
            .resources(&["persistentvolumeclaims/status"])
            .build(),
        rule(READ)
            .groups(&["storage.k8s.io"])
            .resources(&["csidrivers"])
            .build(),
        rule(&["get", "create", "update", "patch", "delete"])
            .groups(&["storage.k8s.io"])
            .resources(&["csinodes"])
            .build(),
        rule(READ)
            .groups(&["node.k8s.io"])
            .resources(&["runtimeclasses"])
            .build(),
    ]
}

//! The built-in ClusterRoles, as upstream 1.33 defines them (those ironclad
//! has a use for; `system:kube-controller-manager` is in
//! [`controller_manager`](super::controller_manager)).

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{AggregationRule, ClusterRole, PolicyRule};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::builder::{READ, READ_WRITE, WRITE, events_rule, metadata, rule};
use super::controller_manager::controller_manager_rules;
use super::node_rules::node_rules;

/// The label that aggregates a ClusterRole into `admin`.
pub const AGGREGATE_TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
/// The label that aggregates a ClusterRole into `edit`.
pub const AGGREGATE_TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
/// The label that aggregates a ClusterRole into `view`.
pub const AGGREGATE_TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

/// The built-in ClusterRoles. `admin`, `edit` and `view` have no rules of
/// their own: the aggregation controller fills them in from the roles
/// their `aggregationRule` selects.
pub fn cluster_roles() -> Vec<ClusterRole> {
    vec![
        // A root role that can do anything.
        plain(
            "cluster-admin",
            vec![
                rule(&["*"]).groups(&["*"]).resources(&["*"]).build(),
                rule(&["*"]).urls(&["*"]).build(),
            ],
        ),
        // Enough to learn whether the server is up and what it serves.
        plain(
            "system:discovery",
            vec![
                rule(&["get"])
                    .urls(&[
                        "/livez",
                        "/readyz",
                        "/healthz",
                        "/version",
                        "/version/",
                        "/openapi",
                        "/openapi/*",
                        "/api",
                        "/api/*",
                        "/apis",
                        "/apis/*",
                    ])
                    .build(),
            ],
        ),
        plain(
            "system:monitoring",
            vec![
                rule(&["get"])
                    .urls(&[
                        "/metrics",
                        "/metrics/slis",
                        "/livez",
                        "/readyz",
                        "/healthz",
                        "/livez/*",
                        "/readyz/*",
                        "/healthz/*",
                    ])
                    .build(),
            ],
        ),
        // What a user needs to learn about themselves.
        plain(
            "system:basic-user",
            vec![
                rule(&["create"])
                    .groups(&["authorization.k8s.io"])
                    .resources(&["selfsubjectaccessreviews", "selfsubjectrulesreviews"])
                    .build(),
                rule(&["create"])
                    .groups(&["authentication.k8s.io"])
                    .resources(&["selfsubjectreviews"])
                    .build(),
            ],
        ),
        // Insensitive cluster information, for anyone.
        plain(
            "system:public-info-viewer",
            vec![
                rule(&["get"])
                    .urls(&["/livez", "/readyz", "/healthz", "/version", "/version/"])
                    .build(),
            ],
        ),
        aggregated("admin", &[], AGGREGATE_TO_ADMIN),
        aggregated("edit", &[(AGGREGATE_TO_ADMIN, "true")], AGGREGATE_TO_EDIT),
        aggregated("view", &[(AGGREGATE_TO_EDIT, "true")], AGGREGATE_TO_VIEW),
        labelled(
            "system:aggregate-to-admin",
            AGGREGATE_TO_ADMIN,
            vec![
                rule(&["create"])
                    .groups(&["authorization.k8s.io"])
                    .resources(&["localsubjectaccessreviews"])
                    .build(),
                rule(READ_WRITE)
                    .groups(&["rbac.authorization.k8s.io"])
                    .resources(&["roles", "rolebindings"])
                    .build(),
            ],
        ),
        labelled(
            "system:aggregate-to-edit",
            AGGREGATE_TO_EDIT,
            aggregate_to_edit(),
        ),
        labelled(
            "system:aggregate-to-view",
            AGGREGATE_TO_VIEW,
            aggregate_to_view(),
        ),
        plain("system:node", node_rules()),
        plain(
            "system:node-proxier",
            vec![
                rule(&["list", "watch"])
                    .groups(&[""])
                    .resources(&["services", "endpoints"])
                    .build(),
                rule(READ).groups(&[""]).resources(&["nodes"]).build(),
                events_rule(),
                rule(&["list", "watch"])
                    .groups(&["discovery.k8s.io"])
                    .resources(&["endpointslices"])
                    .build(),
            ],
        ),
        // A kubelet joining with a bootstrap token asks for its certificate.
        plain(
            "system:node-bootstrapper",
            vec![
                rule(&["create", "get", "list", "watch"])
                    .groups(&["certificates.k8s.io"])
                    .resources(&["certificatesigningrequests"])
                    .build(),
            ],
        ),
        plain(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            vec![
                rule(&["create"])
                    .groups(&["certificates.k8s.io"])
                    .resources(&["certificatesigningrequests/nodeclient"])
                    .build(),
            ],
        ),
        plain(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            vec![
                rule(&["create"])
                    .groups(&["certificates.k8s.io"])
                    .resources(&["certificatesigningrequests/selfnodeclient"])
                    .build(),
            ],
        ),
        approver(
            "system:certificates.k8s.io:kube-apiserver-client-approver",
            "kubernetes.io/kube-apiserver-client",
        ),
        approver(
            "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
            "kubernetes.io/kube-apiserver-client-kubelet",
        ),
        approver(
            "system:certificates.k8s.io:kubelet-serving-approver",
            "kubernetes.io/kubelet-serving",
        ),
        approver(
            "system:certificates.k8s.io:legacy-unknown-approver",
            "kubernetes.io/legacy-unknown",
        ),
        // For servers that delegate authentication and authorization.
        plain(
            "system:auth-delegator",
            vec![
                rule(&["create"])
                    .groups(&["authentication.k8s.io"])
                    .resources(&["tokenreviews"])
                    .build(),
                rule(&["create"])
                    .groups(&["authorization.k8s.io"])
                    .resources(&["subjectaccessreviews"])
                    .build(),
            ],
        ),
        plain(
            "system:kubelet-api-admin",
            vec![
                rule(READ).groups(&[""]).resources(&["nodes"]).build(),
                rule(&["proxy"]).groups(&[""]).resources(&["nodes"]).build(),
                rule(&["*"])
                    .groups(&[""])
                    .resources(&["nodes/proxy", "nodes/metrics", "nodes/stats", "nodes/log"])
                    .build(),
            ],
        ),
        plain(
            "system:service-account-issuer-discovery",
            vec![
                rule(&["get"])
                    .urls(&["/.well-known/openid-configuration", "/openid/v1/jwks"])
                    .build(),
            ],
        ),
        plain("system:kube-scheduler", scheduler_rules()),
        plain("system:kube-controller-manager", controller_manager_rules()),
    ]
}

fn plain(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: metadata(name, None, &[]),
        rules: Some(rules),
        aggregation_rule: None,
    }
}

fn labelled(name: &str, label: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: metadata(name, None, &[(label, "true")]),
        rules: Some(rules),
        aggregation_rule: None,
    }
}

/// A ClusterRole made of the rules of those labelled `aggregate_label`.
fn aggregated(name: &str, labels: &[(&str, &str)], aggregate_label: &str) -> ClusterRole {
    ClusterRole {
        metadata: metadata(name, None, labels),
        rules: None,
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    aggregate_label.to_string(),
                    "true".to_string(),
                )])),
                match_expressions: None,
            }]),
        }),
    }
}

/// A role that may approve certificate requests for one signer.
fn approver(name: &str, signer: &str) -> ClusterRole {
    plain(
        name,
        vec![
            rule(&["approve"])
                .groups(&["certificates.k8s.io"])
                .resources(&["signers"])
                .names(&[signer])
                .build(),
        ],
    )
}

/// What `edit` adds to `view`: writing the workloads of a namespace and
/// reading its secrets, but not its roles, quotas or limits.
fn aggregate_to_edit() -> Vec<PolicyRule> {
    vec![
        rule(READ)
            .groups(&[""])
            .resources(&[
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
                "secrets",
                "services/proxy",
            ])
            .build(),
        rule(&["impersonate"])
            .groups(&[""])
            .resources(&["serviceaccounts"])
            .build(),
        rule(WRITE)
            .groups(&[""])
            .resources(&[
                "pods",
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
            ])
            .build(),
        rule(&["create"])
            .groups(&[""])
            .resources(&["pods/eviction"])
            .build(),
        rule(WRITE)
            .groups(&[""])
            .resources(&[
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/proxy",
                "persistentvolumeclaims",
                "configmaps",
                "secrets",
                "events",
            ])
            .build(),
        rule(&["create"])
            .groups(&[""])
            .resources(&["serviceaccounts/token"])
            .build(),
        rule(WRITE)
            .groups(&["apps"])
            .resources(&[
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "replicasets",
                "replicasets/scale",
            ])
            .build(),
        rule(WRITE)
            .groups(&["autoscaling"])
            .resources(&["horizontalpodautoscalers"])
            .build(),
        rule(WRITE)
            .groups(&["batch"])
            .resources(&["jobs", "cronjobs"])
            .build(),
        rule(WRITE)
            .groups(&["extensions"])
            .resources(&[
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "ingresses",
                "replicasets",
                "replicasets/scale",
                "replicationcontrollers/scale",
                "networkpolicies",
            ])
            .build(),
        rule(WRITE)
            .groups(&["policy"])
            .resources(&["poddisruptionbudgets"])
            .build(),
        rule(WRITE)
            .groups(&["networking.k8s.io"])
            .resources(&["networkpolicies", "ingresses"])
            .build(),
        rule(READ_WRITE)
            .groups(&["coordination.k8s.io"])
            .resources(&["leases"])
            .build(),
    ]
}

/// `view`: reading what is not sensitive in a namespace (no secrets, no
/// roles).
fn aggregate_to_view() -> Vec<PolicyRule> {
    vec![
        rule(READ)
            .groups(&[""])
            .resources(&[
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "configmaps",
            ])
            .build(),
        rule(READ)
            .groups(&[""])
            .resources(&[
                "limitranges",
                "resourcequotas",
                "bindings",
                "events",
                "pods/status",
                "resourcequotas/status",
                "namespaces/status",
                "replicationcontrollers/status",
                "pods/log",
            ])
            .build(),
        // Reading namespaces at namespace scope reads *this* namespace.
        rule(READ).groups(&[""]).resources(&["namespaces"]).build(),
        rule(READ)
            .groups(&["discovery.k8s.io"])
            .resources(&["endpointslices"])
            .build(),
        rule(READ)
            .groups(&["apps"])
            .resources(&[
                "controllerrevisions",
                "statefulsets",
                "statefulsets/status",
                "statefulsets/scale",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/status",
                "deployments/scale",
                "replicasets",
                "replicasets/status",
                "replicasets/scale",
            ])
            .build(),
        rule(READ)
            .groups(&["autoscaling"])
            .resources(&[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ])
            .build(),
        rule(READ)
            .groups(&["batch"])
            .resources(&["jobs", "cronjobs", "cronjobs/status", "jobs/status"])
            .build(),
        rule(READ)
            .groups(&["extensions"])
            .resources(&[
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "ingresses",
                "ingresses/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "replicationcontrollers/scale",
                "networkpolicies",
            ])
            .build(),
        rule(READ)
            .groups(&["policy"])
            .resources(&["poddisruptionbudgets", "poddisruptionbudgets/status"])
            .build(),
        rule(READ)
            .groups(&["networking.k8s.io"])
            .resources(&["ingresses", "ingresses/status", "networkpolicies"])
            .build(),
    ]
}

/// `system:kube-scheduler`: upstream's rules, which cover what ironclad's
/// scheduler reads (nodes, pods) and writes (bindings, pod status, events,
/// its Lease).
fn scheduler_rules() -> Vec<PolicyRule> {
    vec![
        events_rule(),
        // Leader election.
        rule(&["create"])
            .groups(&["coordination.k8s.io"])
            .resources(&["leases"])
            .build(),
        rule(&["get", "update"])
            .groups(&["coordination.k8s.io"])
            .resources(&["leases"])
            .names(&["kube-scheduler"])
            .build(),
        rule(READ).groups(&[""]).resources(&["nodes"]).build(),
        rule(&["get", "list", "watch", "delete"])
            .groups(&[""])
            .resources(&["pods"])
            .build(),
        rule(&["create"])
            .groups(&[""])
            .resources(&["pods/binding", "bindings"])
            .build(),
        rule(&["patch", "update"])
            .groups(&[""])
            .resources(&["pods/status"])
            .build(),
        rule(READ)
            .groups(&[""])
            .resources(&["replicationcontrollers", "services"])
            .build(),
        rule(READ)
            .groups(&["apps", "extensions"])
            .resources(&["replicasets"])
            .build(),
        rule(READ)
            .groups(&["apps"])
            .resources(&["statefulsets"])
            .build(),
        rule(READ)
            .groups(&["policy"])
            .resources(&["poddisruptionbudgets"])
            .build(),
        rule(READ)
            .groups(&[""])
            .resources(&["persistentvolumeclaims", "persistentvolumes"])
            .build(),
        // Delegated authentication and authorization.
        rule(&["create"])
            .groups(&["authentication.k8s.io"])
            .resources(&["tokenreviews"])
            .build(),
        rule(&["create"])
            .groups(&["authorization.k8s.io"])
            .resources(&["subjectaccessreviews"])
            .build(),
        rule(READ)
            .groups(&["storage.k8s.io"])
            .resources(&["csinodes"])
            .build(),
        rule(READ).groups(&[""]).resources(&["namespaces"]).build(),
        rule(READ)
            .groups(&["storage.k8s.io"])
            .resources(&["csidrivers"])
            .build(),
        rule(READ)
            .groups(&["storage.k8s.io"])
            .resources(&["csistoragecapacities"])
            .build(),
    ]
}

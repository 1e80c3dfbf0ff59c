//! The bootstrap policy, evaluated by the RBAC authorizer the way the
//! cluster runs it: aggregated roles filled in as the aggregation
//! controller would.

use std::collections::BTreeSet;

use k8s_openapi::api::rbac::v1::ClusterRole;

use super::*;
use crate::attributes::Attributes;
use crate::authz::Authorizer;
use crate::authz::rbac::{RbacIndex, aggregate_rules, rules_allow, same_rule};
use crate::user::{
    BOOTSTRAPPERS, KUBE_CONTROLLER_MANAGER, KUBE_PROXY, KUBE_SCHEDULER, MASTERS, NODES,
    SERVICE_ACCOUNTS, UserInfo,
};

/// The cluster roles after the aggregation controller has run to a fixed
/// point (`admin` aggregates `edit`, which aggregates `view`).
fn aggregated_cluster_roles() -> Vec<ClusterRole> {
    let mut roles = cluster_roles();
    for _ in 0..5 {
        let snapshot = roles.clone();
        let mut changed = false;
        for role in roles.iter_mut().filter(|r| r.aggregation_rule.is_some()) {
            let rules = aggregate_rules(role, &snapshot);
            if role.rules.as_ref() != Some(&rules) {
                role.rules = Some(rules);
                changed = true;
            }
        }
        if !changed {
            return roles;
        }
    }
    panic!("aggregation does not settle");
}

fn policy() -> RbacIndex {
    RbacIndex::new(
        aggregated_cluster_roles(),
        cluster_role_bindings(),
        roles(),
        role_bindings(),
    )
}

/// A policy where `who` is bound to `role` in namespace `ns1`.
fn bound_in_ns1(role: &str, who: &str) -> RbacIndex {
    let binding = k8s_openapi::api::rbac::v1::RoleBinding {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(format!("{who}-{role}")),
            namespace: Some("ns1".into()),
            ..Default::default()
        },
        role_ref: k8s_openapi::api::rbac::v1::RoleRef {
            api_group: RBAC_GROUP.into(),
            kind: "ClusterRole".into(),
            name: role.into(),
        },
        subjects: Some(vec![k8s_openapi::api::rbac::v1::Subject {
            kind: "User".into(),
            name: who.into(),
            api_group: Some(RBAC_GROUP.into()),
            namespace: None,
        }]),
    };
    let mut bindings = role_bindings();
    bindings.push(binding);
    RbacIndex::new(
        aggregated_cluster_roles(),
        cluster_role_bindings(),
        roles(),
        bindings,
    )
}

fn res(
    user: &UserInfo,
    verb: &str,
    group: &str,
    resource: &str,
    ns: &str,
    name: &str,
) -> Attributes {
    Attributes::resource(user.clone(), verb, group, resource, ns, name)
}

fn sub(mut a: Attributes, subresource: &str) -> Attributes {
    a.subresource = subresource.into();
    a
}

fn path(user: &UserInfo, verb: &str, p: &str) -> Attributes {
    Attributes::non_resource(user.clone(), verb, p)
}

fn check(index: &RbacIndex, cases: Vec<(&str, Attributes, bool)>) {
    for (what, attributes, want) in cases {
        let got = index.authorize(&attributes);
        assert_eq!(got.is_allowed(), want, "{what}: {got:?}");
    }
}

#[test]
fn every_object_is_labelled_annotated_and_unique() {
    let metas = cluster_roles()
        .into_iter()
        .map(|r| r.metadata)
        .chain(cluster_role_bindings().into_iter().map(|b| b.metadata))
        .chain(roles().into_iter().map(|r| r.metadata))
        .chain(role_bindings().into_iter().map(|b| b.metadata));
    for meta in metas {
        let labels = meta.labels.clone().unwrap_or_default();
        let annotations = meta.annotations.clone().unwrap_or_default();
        assert_eq!(
            labels.get(BOOTSTRAPPING_LABEL).map(String::as_str),
            Some(BOOTSTRAPPING_VALUE),
            "{meta:?}"
        );
        assert_eq!(
            annotations.get(AUTOUPDATE_ANNOTATION).map(String::as_str),
            Some("true"),
            "{meta:?}"
        );
    }
    // Names are unique per kind.
    let key = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        (m.namespace.clone(), m.name.clone())
    };
    for names in [
        cluster_roles()
            .iter()
            .map(|r| key(&r.metadata))
            .collect::<Vec<_>>(),
        cluster_role_bindings()
            .iter()
            .map(|r| key(&r.metadata))
            .collect(),
        roles().iter().map(|r| key(&r.metadata)).collect(),
        role_bindings().iter().map(|r| key(&r.metadata)).collect(),
    ] {
        let unique: BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }
    // Every binding names a role that exists.
    let role_names: BTreeSet<String> = cluster_roles()
        .into_iter()
        .filter_map(|r| r.metadata.name)
        .collect();
    for binding in cluster_role_bindings() {
        assert!(
            role_names.contains(&binding.role_ref.name),
            "{}",
            binding.role_ref.name
        );
    }
    let ns_roles: BTreeSet<(Option<String>, Option<String>)> = roles()
        .into_iter()
        .map(|r| (r.metadata.namespace, r.metadata.name))
        .collect();
    for binding in role_bindings() {
        assert!(ns_roles.contains(&(
            binding.metadata.namespace.clone(),
            Some(binding.role_ref.name.clone())
        )));
    }
}

#[test]
fn rules_are_written_sorted_and_the_controller_manager_role_has_each_once() {
    for role in cluster_roles() {
        for rule in role.rules.iter().flatten() {
            let mut verbs = rule.verbs.clone();
            verbs.sort();
            assert_eq!(verbs, rule.verbs);
        }
    }
    let kcm = super::controller_manager::controller_manager_rules();
    for (i, a) in kcm.iter().enumerate() {
        assert!(!kcm[i + 1..].iter().any(|b| same_rule(a, b)), "{a:?} twice");
    }
}

#[test]
fn aggregated_roles_nest() {
    let roles = aggregated_cluster_roles();
    let rules = |name: &str| {
        roles
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(name))
            .and_then(|r| r.rules.clone())
            .unwrap_or_default()
    };
    let (view, edit, admin) = (rules("view"), rules("edit"), rules("admin"));
    assert!(!view.is_empty());
    assert!(view.iter().all(|r| edit.iter().any(|e| same_rule(e, r))));
    assert!(edit.iter().all(|r| admin.iter().any(|e| same_rule(e, r))));
    assert!(admin.len() > edit.len() && edit.len() > view.len());
}

#[test]
fn masters_may_do_anything() {
    let index = policy();
    let root = UserInfo::authenticated("root", &[MASTERS]);
    check(
        &index,
        vec![
            (
                "delete nodes",
                res(&root, "delete", "", "nodes", "", "n1"),
                true,
            ),
            (
                "escalate",
                res(
                    &root,
                    "escalate",
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "",
                    "x",
                ),
                true,
            ),
            (
                "custom resource",
                res(
                    &root,
                    "deletecollection",
                    "example.com",
                    "widgets",
                    "ns",
                    "",
                ),
                true,
            ),
            (
                "subresource",
                sub(res(&root, "update", "", "pods", "ns", "p"), "status"),
                true,
            ),
            ("any path", path(&root, "post", "/anything/at/all"), true),
        ],
    );
    assert_eq!(
        index.authorize(&res(&root, "get", "", "secrets", "ns", "s")),
        crate::authz::Decision::Allow(
            r#"RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters""#
                .into()
        )
    );
}

#[test]
fn everyone_discovers_and_anonymous_reads_public_info_only() {
    let index = policy();
    let anon = UserInfo::anonymous();
    let alice = UserInfo::authenticated("alice", &[]);
    check(
        &index,
        vec![
            ("anonymous /version", path(&anon, "get", "/version"), true),
            ("anonymous /healthz", path(&anon, "get", "/healthz"), true),
            ("anonymous /readyz", path(&anon, "get", "/readyz"), true),
            ("anonymous /api", path(&anon, "get", "/api"), false),
            (
                "anonymous pods",
                res(&anon, "list", "", "pods", "default", ""),
                false,
            ),
            (
                "anonymous SSAR",
                res(
                    &anon,
                    "create",
                    "authorization.k8s.io",
                    "selfsubjectaccessreviews",
                    "",
                    "",
                ),
                false,
            ),
            ("discovery", path(&alice, "get", "/apis/apps/v1"), true),
            ("openapi", path(&alice, "get", "/openapi/v3"), true),
            ("no metrics", path(&alice, "get", "/metrics"), false),
            ("post discovery", path(&alice, "post", "/api"), false),
            (
                "SSAR",
                res(
                    &alice,
                    "create",
                    "authorization.k8s.io",
                    "selfsubjectaccessreviews",
                    "",
                    "",
                ),
                true,
            ),
            (
                "SSRR",
                res(
                    &alice,
                    "create",
                    "authorization.k8s.io",
                    "selfsubjectrulesreviews",
                    "",
                    "",
                ),
                true,
            ),
            (
                "whoami",
                res(
                    &alice,
                    "create",
                    "authentication.k8s.io",
                    "selfsubjectreviews",
                    "",
                    "",
                ),
                true,
            ),
            (
                "pods",
                res(&alice, "get", "", "pods", "default", "p"),
                false,
            ),
        ],
    );
    let monitor = UserInfo::authenticated("prometheus", &[MONITORING]);
    check(
        &index,
        vec![
            ("metrics", path(&monitor, "get", "/metrics"), true),
            ("livez checks", path(&monitor, "get", "/livez/etcd"), true),
            ("not pods", res(&monitor, "list", "", "pods", "", ""), false),
        ],
    );
    let sa = UserInfo::authenticated("system:serviceaccount:ns:default", &[SERVICE_ACCOUNTS]);
    check(
        &index,
        vec![("jwks", path(&sa, "get", "/openid/v1/jwks"), true)],
    );
}

#[test]
fn view_edit_and_admin_in_a_namespace() {
    let viewer = UserInfo::authenticated("vic", &[]);
    let index = bound_in_ns1("view", "vic");
    check(
        &index,
        vec![
            (
                "view pods",
                res(&viewer, "list", "", "pods", "ns1", ""),
                true,
            ),
            (
                "view logs",
                sub(res(&viewer, "get", "", "pods", "ns1", "p"), "log"),
                true,
            ),
            (
                "view deployments",
                res(&viewer, "get", "apps", "deployments", "ns1", "d"),
                true,
            ),
            (
                "view configmaps",
                res(&viewer, "watch", "", "configmaps", "ns1", ""),
                true,
            ),
            (
                "view cannot read secrets",
                res(&viewer, "get", "", "secrets", "ns1", "s"),
                false,
            ),
            (
                "view cannot list secrets",
                res(&viewer, "list", "", "secrets", "ns1", ""),
                false,
            ),
            (
                "view cannot write",
                res(&viewer, "create", "", "pods", "ns1", ""),
                false,
            ),
            (
                "view cannot exec",
                sub(res(&viewer, "create", "", "pods", "ns1", "p"), "exec"),
                false,
            ),
            (
                "view only in its namespace",
                res(&viewer, "list", "", "pods", "ns2", ""),
                false,
            ),
            (
                "view cannot read roles",
                res(
                    &viewer,
                    "get",
                    "rbac.authorization.k8s.io",
                    "roles",
                    "ns1",
                    "r",
                ),
                false,
            ),
        ],
    );
    let editor = UserInfo::authenticated("ed", &[]);
    let index = bound_in_ns1("edit", "ed");
    check(
        &index,
        vec![
            (
                "edit reads secrets",
                res(&editor, "get", "", "secrets", "ns1", "s"),
                true,
            ),
            (
                "edit writes deployments",
                res(&editor, "patch", "apps", "deployments", "ns1", "d"),
                true,
            ),
            (
                "edit scales",
                sub(
                    res(&editor, "update", "apps", "deployments", "ns1", "d"),
                    "scale",
                ),
                true,
            ),
            (
                "edit execs",
                sub(res(&editor, "create", "", "pods", "ns1", "p"), "exec"),
                true,
            ),
            (
                "edit reads pods",
                res(&editor, "get", "", "pods", "ns1", "p"),
                true,
            ),
            (
                "edit cannot create roles",
                res(
                    &editor,
                    "create",
                    "rbac.authorization.k8s.io",
                    "roles",
                    "ns1",
                    "",
                ),
                false,
            ),
            (
                "edit cannot bind",
                res(
                    &editor,
                    "create",
                    "rbac.authorization.k8s.io",
                    "rolebindings",
                    "ns1",
                    "",
                ),
                false,
            ),
            (
                "edit cannot write quotas",
                res(&editor, "update", "", "resourcequotas", "ns1", "q"),
                false,
            ),
            (
                "edit cannot write pod status",
                sub(res(&editor, "update", "", "pods", "ns1", "p"), "status"),
                false,
            ),
        ],
    );
    let admin = UserInfo::authenticated("ada", &[]);
    let index = bound_in_ns1("admin", "ada");
    check(
        &index,
        vec![
            (
                "admin binds",
                res(
                    &admin,
                    "create",
                    "rbac.authorization.k8s.io",
                    "rolebindings",
                    "ns1",
                    "",
                ),
                true,
            ),
            (
                "admin roles",
                res(
                    &admin,
                    "delete",
                    "rbac.authorization.k8s.io",
                    "roles",
                    "ns1",
                    "r",
                ),
                true,
            ),
            (
                "admin LSAR",
                res(
                    &admin,
                    "create",
                    "authorization.k8s.io",
                    "localsubjectaccessreviews",
                    "ns1",
                    "",
                ),
                true,
            ),
            (
                "admin reads secrets",
                res(&admin, "list", "", "secrets", "ns1", ""),
                true,
            ),
            (
                "admin not cluster-wide",
                res(&admin, "list", "", "secrets", "", ""),
                false,
            ),
            (
                "admin cannot touch nodes",
                res(&admin, "get", "", "nodes", "", "n1"),
                false,
            ),
        ],
    );
}

#[test]
fn controller_manager_can_do_what_its_controllers_do() {
    let index = policy();
    let kcm = UserInfo::authenticated(KUBE_CONTROLLER_MANAGER, &[]);
    check(
        &index,
        vec![
            // Garbage collector: any resource, any group.
            (
                "gc delete",
                res(&kcm, "delete", "example.com", "widgets", "ns", "w"),
                true,
            ),
            (
                "gc patch",
                res(&kcm, "patch", "apps", "replicasets", "ns", "rs"),
                true,
            ),
            (
                "gc update",
                res(&kcm, "update", "", "configmaps", "ns", "c"),
                true,
            ),
            ("informers", res(&kcm, "watch", "", "secrets", "", ""), true),
            // Namespace controller.
            (
                "ns deletecollection",
                res(&kcm, "deletecollection", "apps", "deployments", "ns", ""),
                true,
            ),
            (
                "ns delete namespace",
                res(&kcm, "delete", "", "namespaces", "", "ns"),
                true,
            ),
            (
                "ns finalize",
                sub(res(&kcm, "update", "", "namespaces", "", "ns"), "finalize"),
                true,
            ),
            (
                "ns status",
                sub(res(&kcm, "update", "", "namespaces", "", "ns"), "status"),
                true,
            ),
            // Workload controllers.
            (
                "rs creates pods",
                res(&kcm, "create", "", "pods", "ns", ""),
                true,
            ),
            (
                "rs status",
                sub(
                    res(&kcm, "update", "apps", "replicasets", "ns", "r"),
                    "status",
                ),
                true,
            ),
            (
                "rc status",
                sub(
                    res(&kcm, "update", "", "replicationcontrollers", "ns", "r"),
                    "status",
                ),
                true,
            ),
            (
                "deployment creates replicasets",
                res(&kcm, "create", "apps", "replicasets", "ns", ""),
                true,
            ),
            (
                "deployment status",
                sub(
                    res(&kcm, "update", "apps", "deployments", "ns", "d"),
                    "status",
                ),
                true,
            ),
            (
                "job finalizers",
                sub(
                    res(&kcm, "update", "batch", "jobs", "ns", "j"),
                    "finalizers",
                ),
                true,
            ),
            (
                "cronjob creates jobs",
                res(&kcm, "create", "batch", "jobs", "ns", ""),
                true,
            ),
            (
                "cronjob status",
                sub(
                    res(&kcm, "update", "batch", "cronjobs", "ns", "c"),
                    "status",
                ),
                true,
            ),
            // Endpoints and slices.
            (
                "endpoints",
                res(&kcm, "create", "", "endpoints", "ns", ""),
                true,
            ),
            (
                "endpointslices",
                res(
                    &kcm,
                    "create",
                    "discovery.k8s.io",
                    "endpointslices",
                    "ns",
                    "",
                ),
                true,
            ),
            (
                "service finalizers",
                sub(res(&kcm, "update", "", "services", "ns", "s"), "finalizers"),
                true,
            ),
            // Nodes.
            (
                "node taints",
                res(&kcm, "patch", "", "nodes", "", "n1"),
                true,
            ),
            (
                "node status",
                sub(res(&kcm, "patch", "", "nodes", "", "n1"), "status"),
                true,
            ),
            ("evict", res(&kcm, "delete", "", "pods", "ns", "p"), true),
            // Quota, service accounts, root CA, aggregation, certificates.
            (
                "quota status",
                sub(
                    res(&kcm, "update", "", "resourcequotas", "ns", "q"),
                    "status",
                ),
                true,
            ),
            (
                "service accounts",
                res(&kcm, "create", "", "serviceaccounts", "ns", ""),
                true,
            ),
            (
                "tokens",
                sub(
                    res(&kcm, "create", "", "serviceaccounts", "ns", "sa"),
                    "token",
                ),
                true,
            ),
            (
                "root CA",
                res(&kcm, "create", "", "configmaps", "ns", ""),
                true,
            ),
            (
                "aggregate",
                res(
                    &kcm,
                    "escalate",
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "",
                    "admin",
                ),
                true,
            ),
            (
                "aggregate update",
                res(
                    &kcm,
                    "update",
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "",
                    "admin",
                ),
                true,
            ),
            (
                "approve",
                sub(
                    res(
                        &kcm,
                        "update",
                        "certificates.k8s.io",
                        "certificatesigningrequests",
                        "",
                        "c",
                    ),
                    "approval",
                ),
                true,
            ),
            (
                "approve kubelet client",
                res(
                    &kcm,
                    "approve",
                    "certificates.k8s.io",
                    "signers",
                    "",
                    "kubernetes.io/kube-apiserver-client-kubelet",
                ),
                true,
            ),
            (
                "sign",
                res(
                    &kcm,
                    "sign",
                    "certificates.k8s.io",
                    "signers",
                    "",
                    "kubernetes.io/kubelet-serving",
                ),
                true,
            ),
            (
                "no other signer",
                res(
                    &kcm,
                    "sign",
                    "certificates.k8s.io",
                    "signers",
                    "",
                    "example.com/x",
                ),
                false,
            ),
            // Leader election, events, delegated auth.
            (
                "lease",
                res(
                    &kcm,
                    "update",
                    "coordination.k8s.io",
                    "leases",
                    "kube-system",
                    "kube-controller-manager",
                ),
                true,
            ),
            (
                "lease create",
                res(
                    &kcm,
                    "create",
                    "coordination.k8s.io",
                    "leases",
                    "kube-system",
                    "",
                ),
                true,
            ),
            (
                "events",
                res(&kcm, "create", "events.k8s.io", "events", "ns", ""),
                true,
            ),
            (
                "token reviews",
                res(
                    &kcm,
                    "create",
                    "authentication.k8s.io",
                    "tokenreviews",
                    "",
                    "",
                ),
                true,
            ),
            (
                "SARs",
                res(
                    &kcm,
                    "create",
                    "authorization.k8s.io",
                    "subjectaccessreviews",
                    "",
                    "",
                ),
                true,
            ),
            // Not an administrator.
            (
                "no new roles",
                res(
                    &kcm,
                    "create",
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "",
                    "",
                ),
                false,
            ),
            (
                "no bind",
                res(
                    &kcm,
                    "bind",
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "",
                    "admin",
                ),
                false,
            ),
            (
                "no impersonation",
                res(&kcm, "impersonate", "", "users", "", "root"),
                false,
            ),
        ],
    );
}

#[test]
fn scheduler_proxy_and_bootstrap_identities() {
    let index = policy();
    let scheduler = UserInfo::authenticated(KUBE_SCHEDULER, &[]);
    let proxy = UserInfo::authenticated(KUBE_PROXY, &[]);
    let joining = UserInfo::authenticated("system:bootstrap:abcdef", &[BOOTSTRAPPERS]);
    let node = UserInfo::authenticated("system:node:n1", &[NODES]);
    check(
        &index,
        vec![
            (
                "scheduler binds",
                sub(res(&scheduler, "create", "", "pods", "ns", "p"), "binding"),
                true,
            ),
            (
                "scheduler pod status",
                sub(res(&scheduler, "patch", "", "pods", "ns", "p"), "status"),
                true,
            ),
            (
                "scheduler watches nodes",
                res(&scheduler, "watch", "", "nodes", "", ""),
                true,
            ),
            (
                "scheduler watches pods",
                res(&scheduler, "list", "", "pods", "", ""),
                true,
            ),
            (
                "scheduler lease",
                res(
                    &scheduler,
                    "update",
                    "coordination.k8s.io",
                    "leases",
                    "kube-system",
                    "kube-scheduler",
                ),
                true,
            ),
            (
                "scheduler lease create",
                res(
                    &scheduler,
                    "create",
                    "coordination.k8s.io",
                    "leases",
                    "kube-system",
                    "",
                ),
                true,
            ),
            (
                "scheduler events",
                res(&scheduler, "create", "events.k8s.io", "events", "ns", ""),
                true,
            ),
            (
                "scheduler cannot update nodes",
                res(&scheduler, "update", "", "nodes", "", "n1"),
                false,
            ),
            (
                "scheduler cannot read secrets",
                res(&scheduler, "get", "", "secrets", "ns", "s"),
                false,
            ),
            (
                "proxy slices",
                res(
                    &proxy,
                    "watch",
                    "discovery.k8s.io",
                    "endpointslices",
                    "",
                    "",
                ),
                true,
            ),
            (
                "proxy services",
                res(&proxy, "list", "", "services", "", ""),
                true,
            ),
            (
                "proxy cannot write services",
                res(&proxy, "update", "", "services", "ns", "s"),
                false,
            ),
            (
                "join: CSR",
                res(
                    &joining,
                    "create",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    "",
                    "",
                ),
                true,
            ),
            (
                "join: node client",
                sub(
                    res(
                        &joining,
                        "create",
                        "certificates.k8s.io",
                        "certificatesigningrequests",
                        "",
                        "",
                    ),
                    "nodeclient",
                ),
                true,
            ),
            (
                "join: no nodes",
                res(&joining, "get", "", "nodes", "", "n1"),
                false,
            ),
            (
                "node renews itself",
                sub(
                    res(
                        &node,
                        "create",
                        "certificates.k8s.io",
                        "certificatesigningrequests",
                        "",
                        "",
                    ),
                    "selfnodeclient",
                ),
                true,
            ),
            // system:node is bound to nobody: kubelets go through the Node authorizer.
            (
                "node has no RBAC node rights",
                sub(res(&node, "update", "", "nodes", "", "n1"), "status"),
                false,
            ),
        ],
    );
}

#[test]
fn node_rules_cover_kubelet_needs() {
    let node = UserInfo::authenticated("system:node:n1", &[NODES]);
    let rules = node_rules();
    let cases = vec![
        (
            "node status",
            sub(res(&node, "update", "", "nodes", "", "n1"), "status"),
            true,
        ),
        ("register", res(&node, "create", "", "nodes", "", ""), true),
        (
            "pod status",
            sub(res(&node, "patch", "", "pods", "ns", "p"), "status"),
            true,
        ),
        (
            "mirror pod",
            res(&node, "create", "", "pods", "ns", ""),
            true,
        ),
        ("events", res(&node, "create", "", "events", "ns", ""), true),
        (
            "services",
            res(&node, "watch", "", "services", "", ""),
            true,
        ),
        (
            "lease",
            res(
                &node,
                "update",
                "coordination.k8s.io",
                "leases",
                "kube-node-lease",
                "n1",
            ),
            true,
        ),
        (
            "token",
            sub(
                res(&node, "create", "", "serviceaccounts", "ns", "sa"),
                "token",
            ),
            true,
        ),
        (
            "runtime classes",
            res(&node, "list", "node.k8s.io", "runtimeclasses", "", ""),
            true,
        ),
        (
            "no node deletion",
            res(&node, "delete", "", "nodes", "", "n1"),
            false,
        ),
        (
            "no deployments",
            res(&node, "get", "apps", "deployments", "ns", "d"),
            false,
        ),
        (
            "no pod updates",
            res(&node, "update", "", "pods", "ns", "p"),
            false,
        ),
    ];
    for (what, attributes, want) in cases {
        assert_eq!(rules_allow(&attributes, &rules), want, "{what}");
    }
}

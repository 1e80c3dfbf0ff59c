//! Table-driven tests of the RBAC authorizer, its rule resolver, the
//! escalation check and aggregation.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{
    AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef,
    Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};

use super::*;
use crate::attributes::Attributes;
use crate::authz::{Authorizer, Decision, NonResourceRule, ResourceRule, RuleResolver};
use crate::user::UserInfo;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub(crate) fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: strings(verbs),
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        ..Default::default()
    }
}

fn named(mut r: PolicyRule, names: &[&str]) -> PolicyRule {
    r.resource_names = Some(strings(names));
    r
}

fn urls(verbs: &[&str], urls: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: strings(verbs),
        non_resource_urls: Some(strings(urls)),
        ..Default::default()
    }
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        ..Default::default()
    }
}

fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: meta(name, None),
        rules: Some(rules),
        ..Default::default()
    }
}

fn role(namespace: &str, name: &str, rules: Vec<PolicyRule>) -> Role {
    Role {
        metadata: meta(name, Some(namespace)),
        rules: Some(rules),
    }
}

fn subject(kind: &str, name: &str, namespace: Option<&str>) -> Subject {
    Subject {
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: namespace.map(str::to_string),
        api_group: (kind != "ServiceAccount").then(|| "rbac.authorization.k8s.io".to_string()),
    }
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: "rbac.authorization.k8s.io".to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
    }
}

fn crb(name: &str, role: &str, subjects: Vec<Subject>) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(name, None),
        role_ref: role_ref("ClusterRole", role),
        subjects: Some(subjects),
    }
}

fn rb(namespace: &str, name: &str, kind: &str, role: &str, subjects: Vec<Subject>) -> RoleBinding {
    RoleBinding {
        metadata: meta(name, Some(namespace)),
        role_ref: role_ref(kind, role),
        subjects: Some(subjects),
    }
}

fn user(name: &str, groups: &[&str]) -> UserInfo {
    UserInfo::authenticated(name, groups)
}

fn get(user: &UserInfo, resource: &str, namespace: &str, name: &str) -> Attributes {
    Attributes::resource(user.clone(), "get", "", resource, namespace, name)
}

fn with_sub(mut a: Attributes, subresource: &str) -> Attributes {
    a.subresource = subresource.to_string();
    a
}

/// One ClusterRole per binding kind, bound in every way a subject can be.
fn fixture() -> RbacIndex {
    RbacIndex::new(
        vec![
            cluster_role(
                "pod-reader",
                vec![rule(&["get", "list", "watch"], &[""], &["pods"])],
            ),
            cluster_role("node-reader", vec![rule(&["get"], &[""], &["nodes"])]),
            cluster_role(
                "secret-writer",
                vec![rule(&["create", "update"], &[""], &["secrets"])],
            ),
            cluster_role("health", vec![urls(&["get"], &["/healthz", "/healthz/*"])]),
        ],
        vec![
            crb(
                "alice-nodes",
                "node-reader",
                vec![subject("User", "alice", None)],
            ),
            crb(
                "ops-pods",
                "pod-reader",
                vec![subject("Group", "ops", None)],
            ),
            crb(
                "sa-health",
                "health",
                vec![
                    subject("ServiceAccount", "monitor", Some("kube-system")),
                    // No namespace: never matches in a ClusterRoleBinding.
                    subject("ServiceAccount", "anyone", None),
                ],
            ),
        ],
        vec![role(
            "ns1",
            "cm-editor",
            vec![rule(&["*"], &[""], &["configmaps"])],
        )],
        vec![
            rb(
                "ns1",
                "bob-cm",
                "Role",
                "cm-editor",
                vec![subject("User", "bob", None)],
            ),
            rb(
                "ns1",
                "builder-secrets",
                "ClusterRole",
                "secret-writer",
                vec![subject("ServiceAccount", "builder", None)],
            ),
        ],
    )
}

#[test]
fn bindings_and_subjects_allow_with_upstream_reasons() {
    let index = fixture();
    let alice = user("alice", &[]);
    let ops = user("carol", &["ops"]);
    let bob = user("bob", &[]);
    let builder = user(
        "system:serviceaccount:ns1:builder",
        &["system:serviceaccounts"],
    );
    let monitor = user("system:serviceaccount:kube-system:monitor", &[]);
    let cases: Vec<(&str, Attributes, Option<&str>)> = vec![
        (
            "ClusterRoleBinding to a user, cluster-scoped",
            get(&alice, "nodes", "", "n1"),
            Some(
                r#"RBAC: allowed by ClusterRoleBinding "alice-nodes" of ClusterRole "node-reader" to User "alice""#,
            ),
        ),
        (
            "user binding grants only its rules",
            get(&alice, "pods", "ns1", "p"),
            None,
        ),
        (
            "ClusterRoleBinding to a group, in any namespace",
            Attributes::resource(ops.clone(), "list", "", "pods", "ns2", ""),
            Some(
                r#"RBAC: allowed by ClusterRoleBinding "ops-pods" of ClusterRole "pod-reader" to Group "ops""#,
            ),
        ),
        (
            "ClusterRoleBinding to a group, all namespaces",
            Attributes::resource(ops.clone(), "watch", "", "pods", "", ""),
            Some(
                r#"RBAC: allowed by ClusterRoleBinding "ops-pods" of ClusterRole "pod-reader" to Group "ops""#,
            ),
        ),
        (
            "verb not in the rule",
            Attributes::resource(ops.clone(), "delete", "", "pods", "ns1", "p"),
            None,
        ),
        (
            "group of the rule only",
            Attributes::resource(ops.clone(), "get", "apps", "pods", "ns1", "p"),
            None,
        ),
        (
            "RoleBinding to a Role in its namespace",
            Attributes::resource(bob.clone(), "delete", "", "configmaps", "ns1", "c"),
            Some(r#"RBAC: allowed by RoleBinding "bob-cm/ns1" of Role "cm-editor" to User "bob""#),
        ),
        (
            "RoleBinding: other namespace",
            get(&bob, "configmaps", "ns2", "c"),
            None,
        ),
        (
            "RoleBinding: all namespaces",
            get(&bob, "configmaps", "", ""),
            None,
        ),
        (
            "RoleBinding to a ClusterRole applies in its namespace, SA namespace defaulted",
            Attributes::resource(builder.clone(), "create", "", "secrets", "ns1", ""),
            Some(
                r#"RBAC: allowed by RoleBinding "builder-secrets/ns1" of ClusterRole "secret-writer" to ServiceAccount "builder/ns1""#,
            ),
        ),
        (
            "RoleBinding to a ClusterRole: not elsewhere",
            Attributes::resource(builder.clone(), "create", "", "secrets", "ns2", ""),
            None,
        ),
        (
            "RoleBinding SA subject defaults to the binding's namespace only",
            Attributes::resource(
                user("system:serviceaccount:ns2:builder", &[]),
                "create",
                "",
                "secrets",
                "ns1",
                "",
            ),
            None,
        ),
        (
            "ClusterRoleBinding to a service account, non-resource URL",
            Attributes::non_resource(monitor.clone(), "get", "/healthz/etcd"),
            Some(
                r#"RBAC: allowed by ClusterRoleBinding "sa-health" of ClusterRole "health" to ServiceAccount "monitor/kube-system""#,
            ),
        ),
        (
            "ServiceAccount subject without namespace in a ClusterRoleBinding",
            Attributes::non_resource(
                user("system:serviceaccount:default:anyone", &[]),
                "get",
                "/healthz",
            ),
            None,
        ),
        (
            "non-resource verb",
            Attributes::non_resource(monitor.clone(), "post", "/healthz"),
            None,
        ),
        (
            "non-resource path",
            Attributes::non_resource(monitor.clone(), "get", "/metrics"),
            None,
        ),
        (
            "anonymous",
            get(&UserInfo::anonymous(), "nodes", "", "n1"),
            None,
        ),
    ];
    for (what, attributes, want) in cases {
        let got = index.authorize(&attributes);
        match want {
            Some(reason) => assert_eq!(got, Decision::Allow(reason.to_string()), "{what}"),
            None => assert_eq!(got, Decision::NoOpinion(String::new()), "{what}"),
        }
    }
}

#[test]
fn rule_matching_table() {
    let u = user("u", &[]);
    let pods_get = rule(&["get"], &[""], &["pods"]);
    let status = rule(&["get"], &[""], &["pods/status"]);
    let any_scale = rule(&["get"], &["*"], &["*/scale"]);
    let pods_star = rule(&["get"], &[""], &["pods/*"]);
    let everything = rule(&["*"], &["*"], &["*"]);
    let named_cm = named(
        rule(&["get", "list", "create", "update"], &[""], &["configmaps"]),
        &["a"],
    );
    let apps = rule(&["get"], &["apps"], &["deployments"]);
    let healthz = urls(&["get"], &["/healthz"]);
    let api_prefix = urls(&["get"], &["/api/*"]);
    let all_urls = urls(&["*"], &["*"]);
    let attrs = |verb: &str, group: &str, resource: &str, sub: &str, name: &str| {
        with_sub(
            Attributes::resource(u.clone(), verb, group, resource, "ns", name),
            sub,
        )
    };
    let path = |verb: &str, p: &str| Attributes::non_resource(u.clone(), verb, p);
    let cases: Vec<(&str, &PolicyRule, Attributes, bool)> = vec![
        (
            "resource",
            &pods_get,
            attrs("get", "", "pods", "", "p"),
            true,
        ),
        (
            "resource rule vs subresource",
            &pods_get,
            attrs("get", "", "pods", "status", "p"),
            false,
        ),
        (
            "subresource rule",
            &status,
            attrs("get", "", "pods", "status", "p"),
            true,
        ),
        (
            "subresource rule vs resource",
            &status,
            attrs("get", "", "pods", "", "p"),
            false,
        ),
        (
            "other subresource",
            &status,
            attrs("get", "", "pods", "log", "p"),
            false,
        ),
        (
            "*/scale",
            &any_scale,
            attrs("get", "apps", "deployments", "scale", "d"),
            true,
        ),
        (
            "*/scale vs resource",
            &any_scale,
            attrs("get", "apps", "deployments", "", "d"),
            false,
        ),
        (
            "*/scale vs other subresource",
            &any_scale,
            attrs("get", "apps", "deployments", "status", "d"),
            false,
        ),
        // Upstream has no `resource/*` wildcard: it names a subresource "*".
        (
            "pods/* is literal",
            &pods_star,
            attrs("get", "", "pods", "status", "p"),
            false,
        ),
        (
            "* resource, any verb and group",
            &everything,
            attrs("escalate", "rbac.authorization.k8s.io", "roles", "", "r"),
            true,
        ),
        (
            "* covers subresources",
            &everything,
            attrs("update", "", "pods", "status", "p"),
            true,
        ),
        (
            "resource rules never match paths",
            &everything,
            path("get", "/healthz"),
            false,
        ),
        (
            "named: get that name",
            &named_cm,
            attrs("get", "", "configmaps", "", "a"),
            true,
        ),
        (
            "named: other name",
            &named_cm,
            attrs("get", "", "configmaps", "", "b"),
            false,
        ),
        (
            "named: list has no name",
            &named_cm,
            attrs("list", "", "configmaps", "", ""),
            false,
        ),
        (
            "named: create has no name",
            &named_cm,
            attrs("create", "", "configmaps", "", ""),
            false,
        ),
        (
            "named: update with name",
            &named_cm,
            attrs("update", "", "configmaps", "", "a"),
            true,
        ),
        (
            "group",
            &apps,
            attrs("get", "apps", "deployments", "", "d"),
            true,
        ),
        (
            "core group is not apps",
            &apps,
            attrs("get", "", "deployments", "", "d"),
            false,
        ),
        ("exact path", &healthz, path("get", "/healthz"), true),
        (
            "exact path is not a prefix",
            &healthz,
            path("get", "/healthz/etcd"),
            false,
        ),
        ("prefix path", &api_prefix, path("get", "/api/v1"), true),
        (
            "prefix path with its slash",
            &api_prefix,
            path("get", "/api/"),
            true,
        ),
        (
            "prefix path needs the slash",
            &api_prefix,
            path("get", "/api"),
            false,
        ),
        ("* path", &all_urls, path("delete", "/anything"), true),
        (
            "URL rules never match resources",
            &all_urls,
            attrs("get", "", "pods", "", "p"),
            false,
        ),
    ];
    for (what, r, attributes, want) in cases {
        assert_eq!(rule_allows(&attributes, r), want, "{what}");
    }
}

#[test]
fn missing_roles_grant_nothing_and_are_reported() {
    let index = RbacIndex::new(
        vec![cluster_role(
            "reader",
            vec![rule(&["get"], &[""], &["pods"])],
        )],
        vec![
            crb("to-missing", "gone", vec![subject("User", "dave", None)]),
            crb("ok", "reader", vec![subject("User", "dave", None)]),
            ClusterRoleBinding {
                metadata: meta("to-a-role", None),
                role_ref: role_ref("Role", "r"),
                subjects: Some(vec![subject("User", "erin", None)]),
            },
        ],
        vec![],
        vec![rb(
            "ns1",
            "rb-missing",
            "Role",
            "nope",
            vec![subject("User", "dave", None)],
        )],
    );
    let dave = user("dave", &[]);
    assert!(
        index
            .authorize(&get(&dave, "pods", "ns1", "p"))
            .is_allowed()
    );
    assert_eq!(
        index.authorize(&get(&dave, "secrets", "ns1", "s")),
        Decision::NoOpinion(
            r#"RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found, role.rbac.authorization.k8s.io "nope" not found]"#
                .to_string()
        )
    );
    assert_eq!(
        index.authorize(&get(&user("erin", &[]), "pods", "", "")),
        Decision::NoOpinion(r#"RBAC: role.rbac.authorization.k8s.io "r" not found"#.to_string())
    );
    // Errors only concern the users the bindings name.
    assert_eq!(
        index.authorize(&get(&user("frank", &[]), "pods", "ns1", "p")),
        Decision::NoOpinion(String::new())
    );
    let rules = index.rules_for(&dave, "ns1");
    assert!(rules.incomplete);
    assert_eq!(rules.resource_rules.len(), 1);
    assert!(!index.rules_for(&dave, "").resource_rules.is_empty());
    assert!(!index.rules_for(&user("frank", &[]), "ns1").incomplete);
}

#[test]
fn the_first_applying_subject_is_named() {
    let index = RbacIndex::new(
        vec![cluster_role("r", vec![rule(&["get"], &[""], &["pods"])])],
        vec![crb(
            "b",
            "r",
            vec![
                subject("User", "someone-else", None),
                subject("Group", "devs", None),
                subject("User", "gina", None),
            ],
        )],
        vec![],
        vec![],
    );
    assert_eq!(
        index.authorize(&get(&user("gina", &["devs"]), "pods", "ns", "p")),
        Decision::Allow(
            r#"RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "r" to Group "devs""#.into()
        )
    );
    assert_eq!(
        index.authorize(&get(&user("gina", &[]), "pods", "ns", "p")),
        Decision::Allow(
            r#"RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "r" to User "gina""#.into()
        )
    );
}

#[test]
fn rules_for_lists_cluster_then_namespace_rules() {
    let index = fixture();
    let ops_bob = user("bob", &["ops"]);
    let rules = index.rules_for(&ops_bob, "ns1");
    assert!(!rules.incomplete);
    assert_eq!(
        rules.resource_rules,
        vec![
            ResourceRule {
                verbs: strings(&["get", "list", "watch"]),
                api_groups: strings(&[""]),
                resources: strings(&["pods"]),
                resource_names: vec![],
            },
            ResourceRule {
                verbs: strings(&["*"]),
                api_groups: strings(&[""]),
                resources: strings(&["configmaps"]),
                resource_names: vec![],
            },
        ]
    );
    assert!(rules.non_resource_rules.is_empty());
    // Another namespace: the cluster rules only.
    assert_eq!(index.rules_for(&ops_bob, "ns2").resource_rules.len(), 1);
    let monitor = user("system:serviceaccount:kube-system:monitor", &[]);
    let rules = index.rules_for(&monitor, "");
    assert_eq!(
        rules.non_resource_rules,
        vec![NonResourceRule {
            verbs: strings(&["get"]),
            non_resource_urls: strings(&["/healthz", "/healthz/*"]),
        }]
    );
    let (policy, errors) = index.policy_rules_for(&ops_bob, "ns1");
    assert_eq!(policy.len(), 2);
    assert!(errors.is_empty());
}

/// What a rule-cover case checks: owner rules, requested rules, outcome.
type CoverCase<'a> = (
    &'a str,
    &'a [PolicyRule],
    Vec<PolicyRule>,
    Result<(), Vec<PolicyRule>>,
);

#[test]
fn rules_cover_table() {
    let admin = vec![rule(&["*"], &["*"], &["*"]), urls(&["*"], &["*"])];
    let pods_get = vec![rule(&["get"], &[""], &["pods"])];
    let scale = vec![rule(&["get", "update"], &["*"], &["*/scale"])];
    let named_a_b = vec![named(rule(&["get"], &[""], &["secrets"]), &["a", "b"])];
    let api = vec![urls(&["get"], &["/api", "/api/*"])];
    let cases: Vec<CoverCase> = vec![
        (
            "everything covers anything",
            &admin,
            vec![
                named(rule(&["get", "bind"], &["x"], &["y", "z/w"]), &["n"]),
                urls(&["post"], &["/x"]),
            ],
            Ok(()),
        ),
        ("same rule", &pods_get, pods_get.clone(), Ok(())),
        ("nothing requested", &pods_get, vec![], Ok(())),
        (
            "another verb",
            &pods_get,
            vec![rule(&["get", "list"], &[""], &["pods"])],
            Err(vec![rule(&["list"], &[""], &["pods"])]),
        ),
        (
            "a subresource is not the resource",
            &pods_get,
            vec![rule(&["get"], &[""], &["pods/log"])],
            Err(vec![rule(&["get"], &[""], &["pods/log"])]),
        ),
        (
            "a wildcard group is not held",
            &pods_get,
            vec![rule(&["get"], &["*"], &["pods"])],
            Err(vec![rule(&["get"], &["*"], &["pods"])]),
        ),
        (
            "*/scale covers each scale",
            &scale,
            vec![rule(
                &["update"],
                &["apps"],
                &["deployments/scale", "replicasets/scale"],
            )],
            Ok(()),
        ),
        (
            "*/scale is not the resource",
            &scale,
            vec![rule(&["get"], &["apps"], &["deployments"])],
            Err(vec![rule(&["get"], &["apps"], &["deployments"])]),
        ),
        (
            "unnamed covers named",
            &pods_get,
            vec![named(rule(&["get"], &[""], &["pods"]), &["p1"])],
            Ok(()),
        ),
        (
            "named covers a subset",
            &named_a_b,
            vec![named(rule(&["get"], &[""], &["secrets"]), &["b"])],
            Ok(()),
        ),
        (
            "named does not cover all",
            &named_a_b,
            vec![rule(&["get"], &[""], &["secrets"])],
            Err(vec![rule(&["get"], &[""], &["secrets"])]),
        ),
        (
            "named does not cover others",
            &named_a_b,
            vec![named(rule(&["get"], &[""], &["secrets"]), &["a", "c"])],
            Err(vec![named(rule(&["get"], &[""], &["secrets"]), &["c"])]),
        ),
        (
            "url prefix",
            &api,
            vec![urls(&["get"], &["/api/v1", "/api"])],
            Ok(()),
        ),
        (
            "url outside",
            &api,
            vec![urls(&["get"], &["/apis"])],
            Err(vec![urls(&["get"], &["/apis"])]),
        ),
        (
            "url verb",
            &api,
            vec![urls(&["post"], &["/api"])],
            Err(vec![urls(&["post"], &["/api"])]),
        ),
        (
            "urls do not cover resources",
            &api,
            vec![rule(&["get"], &[""], &["pods"])],
            Err(vec![rule(&["get"], &[""], &["pods"])]),
        ),
    ];
    for (what, owner, requested, want) in cases {
        assert_eq!(rules_cover(owner, &requested), want, "{what}");
    }
}

#[test]
fn escalation_message_is_upstreams() {
    let missing = vec![
        rule(&["get"], &[""], &["pods"]),
        rule(&["list"], &[""], &["pods"]),
        urls(&["get"], &["/metrics"]),
    ];
    let message = escalation_message(&user("alice", &["dev"]), &missing, &[]);
    assert_eq!(
        message,
        "user \"alice\" (groups=[\"dev\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n\
         {APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\" \"list\"]}\n\
         {NonResourceURLs:[\"/metrics\"], Verbs:[\"get\"]}"
    );
    let with_errors =
        escalation_message(&user("a", &[]), &missing[..1], &["e1".into(), "e2".into()]);
    assert!(
        with_errors.ends_with("; resolution errors: [[e1, e2]]"),
        "{with_errors}"
    );
    assert_eq!(
        compact_string(&named(rule(&["get"], &["apps"], &["deployments"]), &["d"])),
        r#"{APIGroups:["apps"], Resources:["deployments"], ResourceNames:["d"], Verbs:["get"]}"#
    );
}

fn labelled(name: &str, labels: &[(&str, &str)], rules: Vec<PolicyRule>) -> ClusterRole {
    let mut r = cluster_role(name, rules);
    r.metadata.labels = Some(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    r
}

fn aggregating(name: &str, selectors: Vec<LabelSelector>) -> ClusterRole {
    ClusterRole {
        metadata: meta(name, None),
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: Some(selectors),
        }),
        rules: None,
    }
}

fn match_labels(key: &str, value: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([(key.to_string(), value.to_string())])),
        ..Default::default()
    }
}

#[test]
fn aggregation_collects_matching_roles_sorted_and_once() {
    let get_pods = rule(&["get"], &[""], &["pods"]);
    let list_pods = rule(&["list"], &[""], &["pods"]);
    let get_cm = rule(&["get"], &[""], &["configmaps"]);
    let target = aggregating("agg", vec![match_labels("to-agg", "true")]);
    let all = vec![
        labelled(
            "z-last",
            &[("to-agg", "true")],
            vec![get_cm.clone(), get_pods.clone()],
        ),
        labelled(
            "a-first",
            &[("to-agg", "true")],
            vec![get_pods.clone(), list_pods.clone()],
        ),
        labelled(
            "other",
            &[("to-agg", "false")],
            vec![rule(&["*"], &["*"], &["*"])],
        ),
        cluster_role("unlabelled", vec![rule(&["delete"], &[""], &["pods"])]),
        target.clone(),
    ];
    assert_eq!(
        aggregate_rules(&target, &all),
        vec![get_pods.clone(), list_pods.clone(), get_cm.clone()]
    );

    // Selectors are taken in turn; an expression selector; the target
    // itself is skipped even when it matches.
    let mut target = aggregating(
        "agg",
        vec![
            LabelSelector {
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["gold".into()]),
                }]),
                ..Default::default()
            },
            match_labels("to-agg", "true"),
        ],
    );
    target.metadata.labels = Some(BTreeMap::from([("to-agg".to_string(), "true".to_string())]));
    let all = vec![
        labelled("a-first", &[("to-agg", "true")], vec![get_pods.clone()]),
        labelled("m-gold", &[("tier", "gold")], vec![get_cm.clone()]),
        target.clone(),
    ];
    assert_eq!(aggregate_rules(&target, &all), vec![get_cm, get_pods]);

    // No aggregation rule, or an invalid selector: nothing.
    assert!(aggregate_rules(&cluster_role("plain", vec![]), &all).is_empty());
    let invalid = aggregating(
        "bad",
        vec![LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "Between".into(),
                values: None,
            }]),
            ..Default::default()
        }],
    );
    assert!(aggregate_rules(&invalid, &all).is_empty());
}

#[test]
fn selectors_match_like_label_selectors() {
    let labels = BTreeMap::from([("a".to_string(), "1".to_string())]);
    let expr = |op: &str, values: &[&str]| LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "a".into(),
            operator: op.into(),
            values: (!values.is_empty()).then(|| strings(values)),
        }]),
        ..Default::default()
    };
    assert_eq!(
        selector_matches(&LabelSelector::default(), &labels),
        Some(true)
    );
    assert_eq!(
        selector_matches(&match_labels("a", "1"), &labels),
        Some(true)
    );
    assert_eq!(
        selector_matches(&match_labels("a", "2"), &labels),
        Some(false)
    );
    assert_eq!(
        selector_matches(&expr("In", &["1", "2"]), &labels),
        Some(true)
    );
    assert_eq!(
        selector_matches(&expr("NotIn", &["1"]), &labels),
        Some(false)
    );
    assert_eq!(
        selector_matches(&expr("NotIn", &["2"]), &BTreeMap::new()),
        Some(true)
    );
    assert_eq!(selector_matches(&expr("Exists", &[]), &labels), Some(true));
    assert_eq!(
        selector_matches(&expr("DoesNotExist", &[]), &labels),
        Some(false)
    );
    assert_eq!(selector_matches(&expr("In", &[]), &labels), None);
    assert_eq!(selector_matches(&expr("Exists", &["x"]), &labels), None);
}

#[test]
fn escalation_is_refused_beyond_held_rules() {
    let index = fixture();
    let bob = user("bob", &[]);
    // bob may do anything with config maps in ns1, and nothing elsewhere.
    let configmaps = vec![rule(&["get", "update"], &[""], &["configmaps"])];
    assert_eq!(
        index.confirm_no_escalation(&bob, "ns1", &configmaps),
        Ok(())
    );
    let refused = index
        .confirm_no_escalation(&bob, "ns2", &configmaps)
        .unwrap_err();
    assert_eq!(
        refused,
        "user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n\
         {APIGroups:[\"\"], Resources:[\"configmaps\"], Verbs:[\"get\" \"update\"]}"
    );
    let secrets = vec![rule(&["get"], &[""], &["secrets"])];
    assert!(index.confirm_no_escalation(&bob, "ns1", &secrets).is_err());
    // A missing role shows as a resolution error.
    let index = RbacIndex::new(
        vec![],
        vec![crb("gone", "nope", vec![subject("User", "bob", None)])],
        vec![],
        vec![],
    );
    let refused = index.confirm_no_escalation(&bob, "", &secrets).unwrap_err();
    assert!(
        refused.ends_with(
            r#"; resolution errors: [clusterrole.rbac.authorization.k8s.io "nope" not found]"#
        ),
        "{refused}"
    );
}

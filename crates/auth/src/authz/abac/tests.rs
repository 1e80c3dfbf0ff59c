//! The ABAC policy file: parsing (and its errors), upstream's decision
//! tables, the documented example policies, and `rules_for`.

use super::*;
use crate::user::{AUTHENTICATED, UNAUTHENTICATED};

fn authed(name: &str, groups: &[&str]) -> UserInfo {
    UserInfo::authenticated(name, groups)
}

/// A request as upstream's tests build one: a resource request when it
/// names a namespace or a resource.
fn request(
    user: &UserInfo,
    verb: &str,
    group: &str,
    resource: &str,
    ns: &str,
    path: &str,
) -> Attributes {
    Attributes {
        user: user.clone(),
        verb: verb.to_string(),
        resource_request: !ns.is_empty() || !resource.is_empty(),
        api_group: group.to_string(),
        resource: resource.to_string(),
        namespace: ns.to_string(),
        path: path.to_string(),
        ..Default::default()
    }
}

fn v1(spec: &str) -> String {
    format!(
        r#"{{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{spec}}}"#
    )
}

#[test]
fn parse_errors_name_the_line() {
    let cases: Vec<(String, usize, &str)> = vec![
        ("# comment\n\n{\"user\":".to_string(), 3, "invalid JSON"),
        (
            "{\"user\":\"alice\"} trailing".to_string(),
            1,
            "invalid JSON",
        ),
        ("[1, 2]".to_string(), 1, "must be a JSON object"),
        ("\"alice\"".to_string(), 1, "must be a JSON object"),
        (
            "{\"user\":\"a\"}\n{\"user\":\"bob\", \"ns\": \"projectCaribou\"}".to_string(),
            2,
            "unknown field `ns`",
        ),
        (
            v1(r#"{"user":"a","verbs":["get"]}"#),
            1,
            "unknown field `verbs`",
        ),
        (
            r#"{"user":"bob","nonResourcePath":"*"}"#.to_string(),
            1,
            "unknown field `nonResourcePath`",
        ),
        (
            format!(
                "{}\n\n{}",
                v1(r#"{"user":"a"}"#),
                r#"{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{},"metadata":{}}"#
            ),
            3,
            "unknown field `metadata`",
        ),
        (
            r#"{"apiVersion":"abac.authorization.kubernetes.io/v1","kind":"Policy","spec":{}}"#
                .to_string(),
            1,
            "unknown apiVersion \"abac.authorization.kubernetes.io/v1\"",
        ),
        (
            r#"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role"}"#.to_string(),
            1,
            "unknown apiVersion",
        ),
        (
            r#"{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Rule","spec":{}}"#
                .to_string(),
            1,
            "unknown kind \"Rule\"",
        ),
        (
            r#"{"apiVersion":1,"kind":"Policy"}"#.to_string(),
            1,
            "\"apiVersion\" must be a string",
        ),
        (v1(r#"{"user":"a","readonly":"yes"}"#), 1, "invalid type"),
        (v1(r#"{"user":["a"]}"#), 1, "invalid type"),
        (
            v1(r#"{"user":"a","user":"b"}"#),
            1,
            "duplicate field `user`",
        ),
        // Without a kind the line is read as a legacy policy, which has no spec.
        (
            r#"{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","spec":{"user":"a"}}"#
                .to_string(),
            1,
            "unknown field `spec`",
        ),
    ];
    for (text, line, needle) in cases {
        let err = AbacPolicy::parse(&text).expect_err(&text);
        assert_eq!(err.line, line, "{text}: {err}");
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("policy file line {line}: ")),
            "{shown}"
        );
        assert!(shown.contains(needle), "{text}: {shown} lacks {needle}");
    }
}

#[test]
fn errors_point_into_the_line() {
    let err = AbacPolicy::parse("\n  {\"user\":\"bob\", \"ns\": \"x\"}").unwrap_err();
    assert_eq!(
        err.to_string(),
        "policy file line 2: unknown field `ns`, expected one of `apiVersion`, `kind`, `user`, \
         `group`, `readonly`, `resource`, `namespace` (column 21)"
    );
    let err = AbacPolicy::parse("{\"user\":").unwrap_err();
    assert_eq!(
        err.to_string(),
        "policy file line 1: invalid JSON: EOF while parsing a value (column 8)"
    );
}

#[test]
fn blank_lines_comments_and_line_endings() {
    let text = format!(
        "\n   \n# a comment\n  # an indented comment\r\n{}\r\n\n{{\"user\":\"bob\"}}",
        v1(r#"{"user":"alice","namespace":"*","resource":"*","apiGroup":"*"}"#)
    );
    let policy = AbacPolicy::parse(&text).unwrap();
    let lines: Vec<usize> = policy.policies().iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![5, 7]);
    assert!(AbacPolicy::parse("").unwrap().policies().is_empty());
    assert_eq!(
        AbacPolicy::parse("").unwrap().authorize(&request(
            &authed("a", &[]),
            "get",
            "",
            "pods",
            "ns",
            ""
        )),
        Decision::NoOpinion("No policy matched.".into())
    );
}

#[test]
fn legacy_lines_convert_as_upstream() {
    let policy = AbacPolicy::parse(
        "{}\n{\"user\":\"*\",\"readonly\":true}\n{\"group\":\"ops\",\"resource\":\"pods\"}\n{\"user\":\"u\",\"namespace\":\"ns\"}\n{\"apiVersion\":\"abac.authorization.kubernetes.io/v0\",\"kind\":\"Policy\",\"user\":\"v\"}",
    )
    .unwrap();
    let specs: Vec<&PolicySpec> = policy.policies().iter().map(|p| &p.spec).collect();
    let spec =
        |user: &str, group: &str, readonly: bool, resource: &str, namespace: &str, path: &str| {
            PolicySpec {
                user: user.into(),
                group: group.into(),
                readonly,
                api_group: "*".into(),
                resource: resource.into(),
                namespace: namespace.into(),
                non_resource_path: path.into(),
            }
        };
    assert_eq!(
        specs,
        vec![
            &spec("", AUTHENTICATED, false, "*", "*", "*"),
            &spec("", AUTHENTICATED, true, "*", "*", "*"),
            &spec("", "ops", false, "pods", "*", ""),
            &spec("u", "", false, "*", "ns", ""),
            &spec("v", "", false, "*", "*", "*"),
        ]
    );
    // v1beta1: `*` is every authenticated user, nothing else is defaulted.
    let policy = AbacPolicy::parse(&v1(r#"{"user":"*","readonly":true}"#)).unwrap();
    assert_eq!(
        policy.policies()[0].spec,
        PolicySpec {
            group: AUTHENTICATED.into(),
            readonly: true,
            ..Default::default()
        }
    );
}

#[test]
fn upstream_v0_decisions() {
    let policy = AbacPolicy::parse(
        r#"{                    "readonly": true, "resource": "events"   }
{"user":"scheduler", "readonly": true, "resource": "pods"     }
{"user":"scheduler",                   "resource": "bindings" }
{"user":"kubelet",   "readonly": true, "resource": "bindings" }
{"user":"kubelet",                     "resource": "events"   }
{"user":"alice",                                              "namespace": "projectCaribou"}
{"user":"bob",       "readonly": true,                        "namespace": "projectCaribou"}
"#,
    )
    .unwrap();
    let scheduler = authed("scheduler", &[]);
    let alice = authed("alice", &[]);
    let chuck = authed("chuck", &[]);
    let cases = vec![
        (request(&scheduler, "list", "", "pods", "ns1", ""), true),
        (request(&scheduler, "list", "", "pods", "", ""), true),
        (request(&scheduler, "create", "", "pods", "ns1", ""), false),
        (request(&scheduler, "create", "", "pods", "", ""), false),
        (request(&scheduler, "get", "", "bindings", "ns1", ""), true),
        (request(&scheduler, "get", "", "bindings", "", ""), true),
        (
            request(&alice, "get", "", "pods", "projectCaribou", ""),
            true,
        ),
        (
            request(&alice, "get", "", "widgets", "projectCaribou", ""),
            true,
        ),
        (request(&alice, "get", "", "", "projectCaribou", ""), true),
        (
            request(&alice, "update", "", "pods", "projectCaribou", ""),
            true,
        ),
        (
            request(&alice, "update", "bar", "foo", "projectCaribou", ""),
            true,
        ),
        (request(&alice, "get", "", "pods", "ns1", ""), false),
        (request(&alice, "get", "", "", "ns1", ""), false),
        (request(&chuck, "get", "", "events", "ns1", ""), true),
        (request(&chuck, "get", "", "events", "", ""), true),
        (request(&chuck, "update", "", "events", "ns1", ""), false),
        (request(&chuck, "get", "", "pods", "ns1", ""), false),
        (request(&chuck, "get", "", "", "", "/"), false),
        // Legacy lines never match anonymous requests.
        (
            request(&UserInfo::anonymous(), "get", "", "events", "ns1", ""),
            false,
        ),
    ];
    for (attributes, want) in cases {
        assert_eq!(
            policy.authorize(&attributes).is_allowed(),
            want,
            "{attributes:?}"
        );
    }
}

#[test]
fn upstream_v1beta1_decisions() {
    let lines = [
        r#"{"user":"*",         "readonly": true,                                                        "nonResourcePath": "/api"}"#,
        r#"{"user":"*",                                                                                  "nonResourcePath": "/custom"}"#,
        r#"{"user":"*",                                                                                  "nonResourcePath": "/root/*"}"#,
        r#"{"user":"noresource",                                                                         "nonResourcePath": "*"}"#,
        r#"{"user":"*",         "readonly": true, "resource": "events",   "namespace": "*"}"#,
        r#"{"user":"scheduler", "readonly": true, "resource": "pods",     "namespace": "*"}"#,
        r#"{"user":"scheduler",                   "resource": "bindings", "namespace": "*"}"#,
        r#"{"user":"kubelet",   "readonly": true, "resource": "bindings", "namespace": "*"}"#,
        r#"{"user":"kubelet",                     "resource": "events",   "namespace": "*"}"#,
        r#"{"user":"alice",                       "resource": "*",        "namespace": "projectCaribou"}"#,
        r#"{"user":"bob",       "readonly": true, "resource": "*",        "namespace": "projectCaribou"}"#,
        r#"{"user":"debbie",                      "resource": "pods",     "namespace": "projectCaribou"}"#,
        r#"{"user":"apigroupuser",                "resource": "*",        "namespace": "projectAnyGroup",   "apiGroup": "*"}"#,
        r#"{"user":"apigroupuser",                "resource": "*",        "namespace": "projectEmptyGroup", "apiGroup": "" }"#,
        r#"{"user":"apigroupuser",                "resource": "*",        "namespace": "projectXGroup",     "apiGroup": "x"}"#,
    ];
    let text = format!(
        "\n  # Comment line, after a blank line\n{}",
        lines.iter().map(|l| v1(l)).collect::<Vec<_>>().join("\n")
    );
    let policy = AbacPolicy::parse(&text).unwrap();
    let scheduler = authed("scheduler", &[]);
    let alice = authed("alice", &[]);
    let chuck = authed("chuck", &[]);
    let debbie = authed("debbie", &[]);
    let noresource = authed("noresource", &[]);
    let apigroup = authed("apigroupuser", &[]);
    let cases = vec![
        (request(&scheduler, "list", "", "pods", "ns1", ""), true),
        (request(&scheduler, "list", "", "pods", "", ""), true),
        (request(&scheduler, "create", "", "pods", "ns1", ""), false),
        (request(&scheduler, "get", "", "bindings", "ns1", ""), true),
        (
            request(&alice, "get", "", "pods", "projectCaribou", ""),
            true,
        ),
        (
            request(&alice, "update", "", "widgets", "projectCaribou", ""),
            true,
        ),
        (
            request(&alice, "update", "", "", "projectCaribou", ""),
            true,
        ),
        (request(&alice, "get", "", "pods", "ns1", ""), false),
        (
            request(&debbie, "update", "", "pods", "projectCaribou", ""),
            true,
        ),
        (request(&chuck, "get", "", "events", "ns1", ""), true),
        (request(&chuck, "get", "", "events", "", ""), true),
        (request(&chuck, "update", "", "events", "ns1", ""), false),
        (request(&chuck, "get", "", "pods", "ns1", ""), false),
        (request(&chuck, "get", "", "floop", "ns1", ""), false),
        (request(&chuck, "get", "", "", "", "/"), false),
        (request(&chuck, "get", "", "", "", "/api"), true),
        (request(&chuck, "create", "", "", "", "/api"), false),
        (request(&chuck, "update", "", "", "", "/custom"), true),
        (request(&chuck, "get", "", "", "", "/root"), false),
        (request(&chuck, "get", "", "", "", "/root/"), true),
        (request(&chuck, "get", "", "", "", "/root/test/1/2/3"), true),
        (request(&noresource, "get", "", "", "", ""), true),
        (request(&noresource, "get", "", "", "", "/"), true),
        (
            request(&noresource, "get", "", "", "", "/foo/bar/baz"),
            true,
        ),
        (request(&noresource, "get", "", "", "bar", "/"), false),
        (
            request(&noresource, "get", "", "foo", "bar", "/foo/bar/baz"),
            false,
        ),
        (
            request(&apigroup, "get", "x", "foo", "projectAnyGroup", ""),
            true,
        ),
        (
            request(&apigroup, "get", "x", "foo", "projectEmptyGroup", ""),
            false,
        ),
        (
            request(&apigroup, "get", "", "foo", "projectEmptyGroup", ""),
            true,
        ),
        (
            request(&apigroup, "get", "x", "foo", "projectXGroup", ""),
            true,
        ),
        // `*` is every authenticated user: not anonymous requests.
        (
            request(&UserInfo::anonymous(), "get", "", "", "", "/api"),
            false,
        ),
    ];
    for (attributes, want) in cases {
        assert_eq!(
            policy.authorize(&attributes).is_allowed(),
            want,
            "{attributes:?}"
        );
    }
}

#[test]
fn subjects_match_as_upstream() {
    let anonymous = UserInfo {
        name: "system:anonymous".into(),
        groups: vec![UNAUTHENTICATED.into()],
        ..Default::default()
    };
    let foo = authed("Foo", &["A", "B", "C"]);
    let matches = |line: &str, user: &UserInfo| {
        AbacPolicy::parse(line).unwrap().policies()[0].subject_matches(user)
    };
    let cases: Vec<(String, &UserInfo, bool)> = vec![
        ("{}".into(), &anonymous, false),
        (r#"{"user":"*"}"#.into(), &anonymous, false),
        (r#"{"group":"*"}"#.into(), &anonymous, false),
        ("{}".into(), &foo, true),
        (r#"{"user":"foo"}"#.into(), &foo, false),
        (r#"{"user":"Fo"}"#.into(), &foo, false),
        (r#"{"user":"Foo"}"#.into(), &foo, true),
        (r#"{"group":"b"}"#.into(), &foo, false),
        (r#"{"group":"B"}"#.into(), &foo, true),
        (r#"{"user":"Foo","group":"D"}"#.into(), &foo, false),
        (r#"{"user":"Bar","group":"B"}"#.into(), &foo, false),
        (r#"{"user":"Foo","group":"B"}"#.into(), &foo, true),
        (v1("{}"), &foo, false),
        (v1(r#"{"user":"*"}"#), &anonymous, false),
        (v1(r#"{"group":"*"}"#), &anonymous, false),
        (v1(r#"{"user":"*"}"#), &foo, true),
        (v1(r#"{"group":"*"}"#), &foo, true),
        (v1(r#"{"user":"Foo"}"#), &foo, true),
        (v1(r#"{"user":"Foo"}"#), &anonymous, false),
        (v1(r#"{"group":"C"}"#), &foo, true),
        (v1(r#"{"user":"Foo","group":"D"}"#), &foo, false),
    ];
    for (line, user, want) in cases {
        assert_eq!(matches(&line, user), want, "{line} for {}", user.name);
    }
}

#[test]
fn documented_example_policies() {
    let text = [
        r#"{"user":"alice", "namespace": "*", "resource": "*", "apiGroup": "*"}"#,
        r#"{"user":"kubelet", "namespace": "*", "resource": "pods", "readonly": true}"#,
        r#"{"user":"kubelet", "namespace": "*", "resource": "events"}"#,
        r#"{"user":"bob", "namespace": "projectCaribou", "resource": "pods", "readonly": true}"#,
        r#"{"group":"admins", "namespace": "*", "resource": "*", "apiGroup": "*"}"#,
        r#"{"group":"system:authenticated", "readonly": true, "nonResourcePath": "/version"}"#,
        r#"{"user":"*", "readonly": true, "nonResourcePath": "/healthz/*"}"#,
    ]
    .map(v1)
    .join("\n");
    let policy = AbacPolicy::parse(&text).unwrap();
    let alice = authed("alice", &[]);
    let kubelet = authed("kubelet", &[]);
    let bob = authed("bob", &[]);
    let root = authed("root", &["admins"]);
    let eve = authed("eve", &[]);
    let cases = vec![
        (
            "alice anything",
            request(&alice, "delete", "apps", "deployments", "ns", ""),
            Some(1),
        ),
        (
            "alice cluster-scoped",
            request(&alice, "create", "", "namespaces", "", ""),
            Some(1),
        ),
        (
            "alice no paths",
            request(&alice, "get", "", "", "", "/metrics"),
            None,
        ),
        (
            "kubelet reads pods",
            request(&kubelet, "watch", "", "pods", "", ""),
            Some(2),
        ),
        (
            "kubelet cannot write pods",
            request(&kubelet, "update", "", "pods", "ns", ""),
            None,
        ),
        (
            "kubelet writes events",
            request(&kubelet, "create", "", "events", "ns", ""),
            Some(3),
        ),
        (
            "bob reads pods in his namespace",
            request(&bob, "list", "", "pods", "projectCaribou", ""),
            Some(4),
        ),
        (
            "bob cannot write them",
            request(&bob, "create", "", "pods", "projectCaribou", ""),
            None,
        ),
        (
            "bob elsewhere",
            request(&bob, "get", "", "pods", "other", ""),
            None,
        ),
        (
            "admins group",
            request(&root, "delete", "", "nodes", "", ""),
            Some(5),
        ),
        (
            "version for everyone",
            request(&eve, "get", "", "", "", "/version"),
            Some(6),
        ),
        (
            "version is read-only",
            request(&eve, "post", "", "", "", "/version"),
            None,
        ),
        (
            "health checks",
            request(&eve, "get", "", "", "", "/healthz/etcd"),
            Some(7),
        ),
        (
            "not the health root",
            request(&eve, "get", "", "", "", "/healthz"),
            None,
        ),
        (
            "anonymous",
            request(&UserInfo::anonymous(), "get", "", "", "", "/version"),
            None,
        ),
    ];
    for (what, attributes, line) in cases {
        let got = policy.authorize(&attributes);
        let want = match line {
            Some(line) => Decision::Allow(format!("ABAC: allowed by the policy on line {line}")),
            None => Decision::NoOpinion("No policy matched.".into()),
        };
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn rules_for_as_upstream() {
    // Upstream's table, but its legacy lines 8 and 10 also say
    // `"nonResourcePath": "*"`, a field legacy policies do not have (upstream
    // ignores it; it is refused here, see `parse_errors_name_the_line`).
    // Without namespace and resource, legacy lines allow every path anyway.
    let policy = AbacPolicy::parse(
        r#"
{                    "readonly": true, "resource": "events"   }
{"user":"scheduler", "readonly": true, "resource": "pods"     }
{"user":"scheduler",                   "resource": "bindings" }
{"user":"kubelet",   "readonly": true, "resource": "pods"     }
{"user":"kubelet",                     "resource": "events"   }
{"user":"alice",                                              "namespace": "projectCaribou"}
{"user":"bob",       "readonly": true,                        "namespace": "projectCaribou"}
{"user":"bob",       "readonly": true                                                      }
{"group":"a",                          "resource": "bindings" }
{"group":"b",        "readonly": true                                                      }
"#,
    )
    .unwrap();
    let read = || vec!["get".to_string(), "list".to_string(), "watch".to_string()];
    let all = || vec!["*".to_string()];
    let resource = |verbs: Vec<String>, r: &str| ResourceRule {
        verbs,
        api_groups: vec!["*".into()],
        resources: vec![r.into()],
        resource_names: vec![],
    };
    let paths = |verbs: Vec<String>| NonResourceRule {
        verbs,
        non_resource_urls: vec!["*".into()],
    };
    let scheduler = authed("scheduler", &[]);
    let kubelet = UserInfo {
        name: "kubelet".into(),
        groups: vec!["a".into(), "b".into()],
        ..Default::default()
    };
    let alice = authed("alice", &[]);
    let bob = authed("bob", &[]);
    let cases = vec![
        (
            &scheduler,
            "ns1",
            vec![
                resource(read(), "events"),
                resource(read(), "pods"),
                resource(all(), "bindings"),
            ],
            vec![],
        ),
        (
            &kubelet,
            "ns1",
            vec![
                resource(read(), "pods"),
                resource(all(), "events"),
                resource(all(), "bindings"),
                resource(read(), "*"),
            ],
            vec![paths(read())],
        ),
        (
            &alice,
            "projectCaribou",
            vec![resource(read(), "events"), resource(all(), "*")],
            vec![],
        ),
        (
            &bob,
            "projectCaribou",
            vec![
                resource(read(), "events"),
                resource(read(), "*"),
                resource(read(), "*"),
            ],
            vec![paths(read())],
        ),
    ];
    for (user, namespace, resources, non_resources) in cases {
        let rules = policy.rules_for(user, namespace);
        assert_eq!(rules.resource_rules, resources, "{}", user.name);
        assert_eq!(rules.non_resource_rules, non_resources, "{}", user.name);
        assert!(!rules.incomplete);
    }
}

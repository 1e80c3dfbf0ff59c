//! Reading policies and matching requests against them.

use ironclad_auth::attributes::Attributes;
use ironclad_auth::user::UserInfo;

use super::*;

fn resource(
    user: &str,
    groups: &[&str],
    verb: &str,
    group: &str,
    res: &str,
    ns: &str,
    name: &str,
) -> Attributes {
    Attributes::resource(
        UserInfo::authenticated(user, groups),
        verb,
        group,
        res,
        ns,
        name,
    )
}

fn sub(mut a: Attributes, subresource: &str) -> Attributes {
    a.subresource = subresource.to_string();
    a
}

fn path(user: &str, verb: &str, p: &str) -> Attributes {
    Attributes::non_resource(UserInfo::authenticated(user, &[]), verb, p)
}

/// Upstream's example policy, abridged, with a rule index per level so
/// the table can tell which rule matched.
const POLICY: &str = r#"
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - "RequestReceived"
rules:
  # 0: secrets and configmaps only at Metadata.
  - level: Metadata
    resources:
    - group: ""
      resources: ["secrets", "configmaps"]
  # 1: pod changes in full.
  - level: RequestResponse
    resources:
    - group: ""
      resources: ["pods"]
  # 2: pod subresources status and log.
  - level: Request
    resources:
    - group: ""
      resources: ["pods/log", "pods/status"]
  # 3: a named configmap (never reached: rule 0 wins).
  - level: None
    resources:
    - group: ""
      resources: ["configmaps"]
      resourceNames: ["controller-leader"]
  # 4: kube-proxy's endpoint watches.
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
    - group: ""
      resources: ["endpoints", "services"]
  # 5: authenticated health checks.
  - level: None
    userGroups: ["system:authenticated"]
    nonResourceURLs:
    - "/api*"
    - "/version"
  # 6: kube-system at Request.
  - level: Request
    namespaces: ["kube-system"]
    omitStages: ["ResponseStarted"]
  # 7: any scale subresource, any group.
  - level: Request
    resources:
    - group: "apps"
      resources: ["*/scale", "statefulsets/*"]
  # 8: all of a group.
  - level: RequestResponse
    resources:
    - group: "rbac.authorization.k8s.io"
  # 9: deletes by admins of anything.
  - level: RequestResponse
    userGroups: ["admins"]
    verbs: ["delete"]
  # 10: catch-all for the remaining core and batch resources.
  - level: Metadata
    resources:
    - group: ""
    - group: "batch"
      resources: ["*"]
"#;

#[test]
fn matching_table() {
    let policy = AuditPolicy::from_yaml(POLICY).unwrap();
    let cases: Vec<(Attributes, Level)> = vec![
        (
            resource("alice", &[], "get", "", "secrets", "default", "db"),
            Level::Metadata,
        ),
        (
            resource("alice", &[], "list", "", "configmaps", "", ""),
            Level::Metadata,
        ),
        (
            resource(
                "alice",
                &[],
                "get",
                "",
                "configmaps",
                "kube-system",
                "controller-leader",
            ),
            Level::Metadata,
        ),
        (
            resource("alice", &[], "create", "", "pods", "default", "p"),
            Level::RequestResponse,
        ),
        // Subresources match only their own form.
        (
            sub(
                resource("alice", &[], "get", "", "pods", "default", "p"),
                "log",
            ),
            Level::Request,
        ),
        (
            sub(
                resource("alice", &[], "update", "", "pods", "default", "p"),
                "status",
            ),
            Level::Request,
        ),
        (
            sub(
                resource("alice", &[], "create", "", "pods", "default", "p"),
                "exec",
            ),
            Level::Metadata,
        ),
        // Users and verbs both must match.
        (
            resource("system:kube-proxy", &[], "watch", "", "endpoints", "", ""),
            Level::None,
        ),
        (
            resource("system:kube-proxy", &[], "list", "", "endpoints", "", ""),
            Level::Metadata,
        ),
        (
            resource("bob", &[], "watch", "", "services", "", ""),
            Level::Metadata,
        ),
        // Non-resource URLs: prefix and exact; resource rules never match them.
        (path("alice", "get", "/api"), Level::None),
        (path("alice", "get", "/apis/apps/v1"), Level::None),
        (path("alice", "get", "/version"), Level::None),
        (path("alice", "get", "/version/extra"), Level::None),
        (path("alice", "get", "/healthz"), Level::None),
        (
            Attributes::non_resource(UserInfo::anonymous(), "get", "/version"),
            Level::None,
        ),
        // Namespaces.
        (
            resource("alice", &[], "get", "", "nodes", "", "n1"),
            Level::Metadata,
        ),
        (
            resource(
                "alice",
                &[],
                "get",
                "apps",
                "deployments",
                "kube-system",
                "coredns",
            ),
            Level::Request,
        ),
        (
            resource("alice", &[], "get", "apps", "deployments", "default", "web"),
            Level::None,
        ),
        // */scale and statefulsets/* in apps.
        (
            sub(
                resource(
                    "alice",
                    &[],
                    "update",
                    "apps",
                    "deployments",
                    "default",
                    "web",
                ),
                "scale",
            ),
            Level::Request,
        ),
        (
            sub(
                resource(
                    "alice",
                    &[],
                    "update",
                    "",
                    "replicationcontrollers",
                    "default",
                    "rc",
                ),
                "scale",
            ),
            Level::Metadata,
        ),
        (
            resource("alice", &[], "get", "apps", "statefulsets", "default", "s"),
            Level::Request,
        ),
        (
            sub(
                resource("alice", &[], "get", "apps", "statefulsets", "default", "s"),
                "status",
            ),
            Level::Request,
        ),
        // A whole group.
        (
            resource(
                "alice",
                &[],
                "create",
                "rbac.authorization.k8s.io",
                "roles",
                "default",
                "r",
            ),
            Level::RequestResponse,
        ),
        // Groups.
        (
            resource(
                "carol",
                &["admins"],
                "delete",
                "apps",
                "deployments",
                "default",
                "web",
            ),
            Level::RequestResponse,
        ),
        (
            resource(
                "carol",
                &["admins"],
                "get",
                "apps",
                "deployments",
                "default",
                "web",
            ),
            Level::None,
        ),
        // Wildcard resources of a group.
        (
            resource("alice", &[], "create", "batch", "jobs", "default", "j"),
            Level::Metadata,
        ),
        (
            resource(
                "alice",
                &[],
                "get",
                "policy",
                "poddisruptionbudgets",
                "default",
                "p",
            ),
            Level::None,
        ),
    ];
    for (attrs, want) in cases {
        let got = policy.level_for(&attrs);
        assert_eq!(got.level, want, "for {attrs:?}");
    }
}

#[test]
fn first_match_wins_and_stages_merge() {
    let policy = AuditPolicy::from_yaml(POLICY).unwrap();
    // Rule 3 would say None for this configmap, but rule 0 comes first.
    let leader = resource(
        "x",
        &[],
        "update",
        "",
        "configmaps",
        "kube-system",
        "controller-leader",
    );
    assert_eq!(policy.level_for(&leader).level, Level::Metadata);
    // The policy's omitted stages join every rule's.
    let ks = resource("x", &[], "get", "", "nodes", "", "n1");
    let config = policy.level_for(&resource(
        "x",
        &[],
        "get",
        "apps",
        "deployments",
        "kube-system",
        "",
    ));
    assert_eq!(config.level, Level::Request);
    assert!(config.omit_stages.contains(&Stage::RequestReceived));
    assert!(config.omit_stages.contains(&Stage::ResponseStarted));
    assert!(!config.emits(Stage::RequestReceived));
    assert!(config.emits(Stage::ResponseComplete));
    assert_eq!(
        policy.level_for(&ks).omit_stages,
        vec![Stage::RequestReceived]
    );
    // No match: None, with the policy's stages.
    let none = policy.level_for(&resource(
        "x",
        &[],
        "get",
        "policy",
        "poddisruptionbudgets",
        "a",
        "b",
    ));
    assert_eq!(none.level, Level::None);
    assert!(!none.emits(Stage::ResponseComplete));
}

#[test]
fn omit_managed_fields_policy_and_rule_override() {
    let policy = AuditPolicy::from_yaml(
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitManagedFields: true\nrules:\n- level: Request\n  verbs: [create]\n  omitManagedFields: false\n- level: Request\n",
    )
    .unwrap();
    let create = resource("a", &[], "create", "", "pods", "d", "p");
    let update = resource("a", &[], "update", "", "pods", "d", "p");
    assert!(!policy.level_for(&create).omit_managed_fields);
    assert!(policy.level_for(&update).omit_managed_fields);
}

#[test]
fn default_metadata_records_everything_at_metadata() {
    let policy = AuditPolicy::default_metadata();
    for attrs in [
        resource("a", &[], "get", "", "secrets", "d", "s"),
        path("a", "get", "/healthz"),
        Attributes::non_resource(UserInfo::anonymous(), "get", "/livez"),
    ] {
        let config = policy.level_for(&attrs);
        assert_eq!(config.level, Level::Metadata);
        assert!(Stage::ALL.iter().all(|s| config.emits(*s)));
        assert!(!config.omit_managed_fields);
    }
}

#[test]
fn reads_json_and_files_and_ignores_unknown_fields() {
    let json = r#"{"apiVersion":"audit.k8s.io/v1","kind":"Policy","metadata":{"name":"p"},"rules":[{"level":"Metadata","levle":"x"}]}"#;
    let policy = AuditPolicy::from_yaml(json).unwrap();
    assert_eq!(policy.rules.len(), 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, POLICY).unwrap();
    assert_eq!(AuditPolicy::from_file(&file).unwrap().rules.len(), 11);
    let err = AuditPolicy::from_file(&dir.path().join("missing"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("failed to read file path"), "{err}");
    std::fs::write(
        &file,
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n",
    )
    .unwrap();
    let err = AuditPolicy::from_file(&file).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "loaded illegal policy with 0 rules: from file {}",
            file.display()
        )
    );
}

#[test]
fn invalid_policies() {
    let head = "apiVersion: audit.k8s.io/v1\nkind: Policy\n";
    for (body, want) in [
        (
            "rules:\n- level: Everything",
            r#"rules[0].level: Unsupported value: "Everything": supported values: "None", "Metadata", "Request", "RequestResponse""#,
        ),
        ("rules:\n- users: [a]", "rules[0].level: Required value"),
        (
            "rules:\n- level: None\n  nonResourceURLs: [healthz]",
            r#"rules[0].nonResourceURLs[0]: Invalid value: "healthz": non-resource URL rules must begin with a '/' character"#,
        ),
        (
            "rules:\n- level: None\n  nonResourceURLs: ['/a*/b']",
            r#"rules[0].nonResourceURLs[0]: Invalid value: "/a*/b": non-resource URL wildcards '*' must be the final character of the rule"#,
        ),
        (
            "rules:\n- level: None\n  nonResourceURLs: ['/a']\n  namespaces: [x]",
            r#"rules[0].nonResourceURLs: Invalid value: []string{"/a"}: rules cannot apply to both regular resources and non-resource URLs"#,
        ),
        (
            "rules:\n- level: None\n  resources: [{group: '', resourceNames: [x]}]",
            r#"rules[0].resources.resourceNames: Invalid value: []string{"x"}: using resourceNames requires at least one resource"#,
        ),
        (
            "rules:\n- level: None\n  resources: [{group: 'apps/v1'}]",
            r#"rules[0].resources.group: Invalid value: "apps/v1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
        ),
        (
            "rules:\n- level: None\n  omitStages: [Done]",
            r#"rules[0].omitStages[0]: Invalid value: "Done": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic"#,
        ),
        (
            "omitStages: [Later]\nrules:\n- level: None\n  omitStages: [Done]",
            r#"[omitStages[0]: Invalid value: "Later": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic, rules[0].omitStages[0]: Invalid value: "Done": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic]"#,
        ),
        ("rules:", "loaded illegal policy with 0 rules"),
    ] {
        let err = AuditPolicy::from_yaml(&format!("{head}{body}")).unwrap_err();
        assert_eq!(err.to_string(), want, "for {body}");
    }
    for (text, want) in [
        (
            "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]",
            "unknown group version field audit.k8s.io/v1beta1, Kind=Policy in policy",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nrules: [{level: None}]",
            "unknown group version field v1, Kind=ConfigMap in policy",
        ),
        (
            "apiVersion: audit.k8s.io/v1\nrules: [{level: None}]",
            "failed decoding: Object 'Kind' is missing",
        ),
        (
            "",
            "failed decoding: Object 'Kind' is missing: the policy is not a mapping",
        ),
    ] {
        assert_eq!(
            AuditPolicy::from_yaml(text).unwrap_err().to_string(),
            want,
            "for {text}"
        );
    }
    let err = AuditPolicy::from_yaml(&format!("{head}rules: [{{level: None, users: 5}}]"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("failed decoding: rules[0].users"), "{err}");
}

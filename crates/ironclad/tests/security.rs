//! Security end to end, with the real binary and real kubectl: HTTPS with
//! the admin kubeconfig, user certificates from `ironclad pki issue`
//! allowed and refused exactly as RBAC bindings or an ABAC policy file
//! say (the 403 names the user and the verb), `kubectl auth can-i`
//! answering as enforcement does, service-account tokens, and bad
//! credentials refused while the server keeps serving others.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::Proc;

fn kubectl() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/kubectl");
    p.exists().then_some(p)
}

fn run(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(kubectl().unwrap())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(kubeconfig: &Path, args: &[&str]) -> String {
    let o = run(kubeconfig, args);
    assert!(o.status.success(), "kubectl {args:?} failed: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Retries `args` until it succeeds (RBAC changes reach the authorizer
/// through a watch, a moment after the write).
fn eventually_ok(kubeconfig: &Path, args: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = run(kubeconfig, args);
        if o.status.success() {
            return String::from_utf8_lossy(&o.stdout).into_owned();
        }
        assert!(
            Instant::now() < deadline,
            "kubectl {args:?} never succeeded: {}",
            text(&o)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn forbidden(kubeconfig: &Path, args: &[&str]) -> String {
    let o = run(kubeconfig, args);
    let t = text(&o);
    assert!(
        !o.status.success(),
        "kubectl {args:?} should be refused: {t}"
    );
    assert!(t.contains("forbidden") || t.contains("Forbidden"), "{t}");
    t
}

fn issue(server: &Proc, dir: &Path, user: &str, groups: &[&str]) -> PathBuf {
    let out = dir.join(format!("{user}.kubeconfig"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ironclad"));
    cmd.args(["pki", "issue", "--data-dir"])
        .arg(&server.data_dir)
        .args(["--user", user, "--kubeconfig"])
        .arg(&out);
    for g in groups {
        cmd.args(["--group", g]);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "pki issue: {}", text(&o));
    out
}

/// `kubectl auth can-i` must agree with what the server enforces.
fn can_i_matches(kc: &Path, verb: &str, what: &str, ns: &str, attempt: &[&str]) {
    let can = run(kc, &["auth", "can-i", verb, what, "-n", ns]);
    let said = String::from_utf8_lossy(&can.stdout).trim().to_string();
    let did = run(kc, attempt);
    let allowed = did.status.success() || !text(&did).contains("forbidden");
    assert_eq!(
        said == "yes",
        allowed,
        "can-i {verb} {what} said {said:?} but {attempt:?} gave: {}",
        text(&did)
    );
}

#[test]
fn rbac_users_are_allowed_exactly_what_they_are_bound_to() {
    if kubectl().is_none() {
        eprintln!("skipped: no kubectl");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let audit_log = dir.path().join("audit.log");
    let mut server = Proc::start(
        "server",
        &dir.path().join("server"),
        &["--audit-log-path", audit_log.to_str().unwrap()],
    );
    server.expect("ready");
    let admin = server.kubeconfig();
    let kc = std::fs::read_to_string(&admin).unwrap();
    assert!(kc.contains("server: https://"), "{kc}");
    assert!(kc.contains("client-certificate-data"), "{kc}");
    ok(&admin, &["get", "namespaces"]);
    assert!(
        ok(
            &admin,
            &[
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username}"
            ]
        ) == "admin"
    );

    let alice = issue(&server, dir.path(), "alice", &[]);
    let who = ok(
        &alice,
        &[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
    );
    assert_eq!(who, "alice");
    let refused = forbidden(&alice, &["get", "pods", "-n", "default"]);
    assert!(
        refused.contains(
            r#"User "alice" cannot list resource "pods" in API group "" in the namespace "default""#
        ),
        "{refused}"
    );

    ok(&admin, &["create", "namespace", "team"]);
    ok(
        &admin,
        &[
            "create",
            "rolebinding",
            "alice-view",
            "--clusterrole=view",
            "--user=alice",
            "-n",
            "team",
        ],
    );
    eventually_ok(&alice, &["get", "pods", "-n", "team"]);
    // Bound in team only.
    forbidden(&alice, &["get", "pods", "-n", "default"]);
    let refused = forbidden(&alice, &["create", "configmap", "c1", "-n", "team"]);
    assert!(
        refused.contains(r#"User "alice" cannot create resource "configmaps""#),
        "{refused}"
    );
    ok(
        &admin,
        &[
            "create",
            "secret",
            "generic",
            "s1",
            "--from-literal=k=v",
            "-n",
            "team",
        ],
    );
    forbidden(&alice, &["get", "secret", "s1", "-n", "team"]);

    for (verb, what, attempt) in [
        ("list", "pods", vec!["get", "pods", "-n", "team"]),
        ("get", "secrets", vec!["get", "secret", "s1", "-n", "team"]),
        (
            "create",
            "configmaps",
            vec!["create", "configmap", "c2", "-n", "team"],
        ),
        (
            "delete",
            "secrets",
            vec!["delete", "secret", "s1", "-n", "team"],
        ),
        (
            "list",
            "configmaps",
            vec!["get", "configmaps", "-n", "team"],
        ),
    ] {
        can_i_matches(&alice, verb, what, "team", &attempt);
    }

    // Impersonation: the admin may act as alice, and then gets exactly
    // alice's answers; alice may not act as anyone.
    let as_alice = ok(
        &admin,
        &[
            "auth", "can-i", "list", "pods", "-n", "team", "--as", "alice",
        ],
    );
    assert_eq!(as_alice.trim(), "yes");
    forbidden(
        &admin,
        &["get", "secret", "s1", "-n", "team", "--as", "alice"],
    );
    let refused = forbidden(&alice, &["get", "pods", "-n", "team", "--as", "bob"]);
    assert!(
        refused.contains("cannot impersonate resource \"users\""),
        "{refused}"
    );

    // A group binding: bob is in devs, devs may edit in team.
    let bob = issue(&server, dir.path(), "bob", &["devs"]);
    forbidden(&bob, &["create", "configmap", "b1", "-n", "team"]);
    ok(
        &admin,
        &[
            "create",
            "rolebinding",
            "devs-edit",
            "--clusterrole=edit",
            "--group=devs",
            "-n",
            "team",
        ],
    );
    eventually_ok(&bob, &["create", "configmap", "b1", "-n", "team"]);
    can_i_matches(
        &bob,
        "delete",
        "configmaps",
        "team",
        &["delete", "configmap", "b1", "-n", "team"],
    );
    // edit may not grant roles.
    forbidden(
        &bob,
        &[
            "create",
            "rolebinding",
            "x",
            "--clusterrole=admin",
            "--user=bob",
            "-n",
            "team",
        ],
    );

    // A service account's token authenticates as the account.
    ok(&admin, &["create", "serviceaccount", "robot", "-n", "team"]);
    let token = ok(&admin, &["create", "token", "robot", "-n", "team"]);
    // A kubeconfig with the CA and no client certificate: kubectl would
    // send both, and the certificate would win.
    let tokens_only = dir.path().join("tokens.kubeconfig");
    std::fs::write(
        &tokens_only,
        kc.lines()
            .filter(|l| !l.contains("client-certificate-data") && !l.contains("client-key-data"))
            .map(|l| if l.trim() == "user:" { "  user: {}" } else { l })
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let as_robot = ok(
        &tokens_only,
        &[
            "--token",
            token.trim(),
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
    );
    assert_eq!(as_robot, "system:serviceaccount:team:robot");
    // Without the token there are no credentials: refused.
    let o = run(&tokens_only, &["get", "pods", "-n", "team"]);
    assert!(!o.status.success(), "{}", text(&o));
    let mut tampered = token.trim().to_string();
    tampered.push('x');
    let o = run(
        &tokens_only,
        &["--token", &tampered, "get", "pods", "-n", "team"],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("Unauthorized"), "{}", text(&o));

    // A certificate from another cluster's CA is refused; the server still
    // answers the admin.
    let other = Proc::server(&dir.path().join("other"));
    let stranger = issue(&other, dir.path(), "mallory", &["system:masters"]);
    let mut yaml = std::fs::read_to_string(&stranger).unwrap();
    let theirs = yaml
        .lines()
        .find(|l| l.trim_start().starts_with("server:"))
        .unwrap()
        .to_string();
    let ours = kc
        .lines()
        .find(|l| l.trim_start().starts_with("server:"))
        .unwrap();
    let their_ca = yaml
        .lines()
        .find(|l| l.trim_start().starts_with("certificate-authority-data:"))
        .unwrap()
        .to_string();
    let our_ca = kc
        .lines()
        .find(|l| l.trim_start().starts_with("certificate-authority-data:"))
        .unwrap();
    yaml = yaml.replace(&theirs, ours).replace(&their_ca, our_ca);
    let forged = dir.path().join("forged.kubeconfig");
    std::fs::write(&forged, yaml).unwrap();
    let o = run(&forged, &["get", "pods"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("Unauthorized"), "{}", text(&o));
    ok(&admin, &["get", "namespaces"]);
}

#[test]
fn abac_policy_file_decides() {
    if kubectl().is_none() {
        eprintln!("skipped: no kubectl");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.jsonl");
    std::fs::write(
        &policy,
        concat!(
            "# alice may read everything in projectcaribou; bob may do anything in default\n",
            r#"{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "alice", "namespace": "projectcaribou", "resource": "*", "apiGroup": "*", "readonly": true}}"#,
            "\n",
            r#"{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "bob", "namespace": "default", "resource": "*", "apiGroup": "*"}}"#,
            "\n",
            r#"{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"group": "system:authenticated", "nonResourcePath": "*", "readonly": true}}"#,
            "\n",
            r#"{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"group": "system:authenticated", "apiGroup": "authorization.k8s.io", "resource": "selfsubjectaccessreviews"}}"#,
            "\n",
        ),
    )
    .unwrap();
    let mut server = Proc::start(
        "server",
        &dir.path().join("server"),
        &[
            "--authorization-mode",
            "ABAC",
            "--authorization-policy-file",
            policy.to_str().unwrap(),
        ],
    );
    server.expect("ready");
    let admin = server.kubeconfig();
    ok(&admin, &["create", "namespace", "projectcaribou"]);
    ok(
        &admin,
        &["create", "configmap", "c", "-n", "projectcaribou"],
    );
    let alice = issue(&server, dir.path(), "alice", &[]);
    let bob = issue(&server, dir.path(), "bob", &[]);
    ok(&alice, &["get", "configmaps", "-n", "projectcaribou"]);
    let refused = forbidden(
        &alice,
        &["delete", "configmap", "c", "-n", "projectcaribou"],
    );
    assert!(
        refused.contains(r#"User "alice" cannot delete resource "configmaps""#),
        "{refused}"
    );
    forbidden(&alice, &["get", "configmaps", "-n", "default"]);
    ok(&bob, &["create", "configmap", "b", "-n", "default"]);
    forbidden(&bob, &["get", "configmaps", "-n", "projectcaribou"]);
    can_i_matches(
        &alice,
        "list",
        "configmaps",
        "projectcaribou",
        &["get", "configmaps", "-n", "projectcaribou"],
    );
    can_i_matches(
        &alice,
        "create",
        "configmaps",
        "projectcaribou",
        &["create", "configmap", "x", "-n", "projectcaribou"],
    );
    can_i_matches(
        &bob,
        "delete",
        "configmaps",
        "default",
        &["delete", "configmap", "b", "-n", "default"],
    );
}

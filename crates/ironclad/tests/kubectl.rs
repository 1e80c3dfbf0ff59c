//! Real kubectl against `ironclad server`: every command of
//! ../shared/reference/kubectl-compat.md that needs no node, with the
//! machine's kubectl (its 1.33 build for our 1.33 server) and its 1.32
//! build. Skipped with a message when kubectl is not installed.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::Proc;

fn kubectl_bin(version: Option<&str>) -> Option<PathBuf> {
    let base = std::fs::canonicalize("/usr/bin/kubectl").ok()?;
    match version {
        None => Some(base),
        Some(v) => {
            let p = base.with_file_name(format!("kubectl.{v}"));
            p.exists().then_some(p)
        }
    }
}

struct Kubectl<'a> {
    bin: PathBuf,
    server: &'a Proc,
    ns: String,
}

impl Kubectl<'_> {
    fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--kubeconfig")
            .arg(self.server.kubeconfig())
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    /// Runs kubectl in the test namespace; the command must succeed.
    fn ok(&self, args: &[&str]) -> String {
        self.ok_in(args, None)
    }

    fn ok_in(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut full = vec!["-n", self.ns.as_str()];
        full.extend_from_slice(args);
        let out = self.run_with(&full, stdin, &[]);
        assert!(
            out.status.success(),
            "kubectl {}: {}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The command must fail; returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.ns.as_str()];
        full.extend_from_slice(args);
        let out = self.run_with(&full, None, &[]);
        assert!(
            !out.status.success(),
            "kubectl {} should fail",
            args.join(" ")
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn deployment(ns: &str, replicas: u32, mode: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: {ns}\n  labels: {{app: web}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n      - name: httpd\n        image: busybox:1.35\n        command: [httpd, -f, -p, \"8080\"]\n        env:\n        - {{name: MODE, value: \"{mode}\"}}\n        ports: [{{containerPort: 8080, name: http}}]\n"
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn session(k: &Kubectl<'_>) {
    let tmp = tempfile::tempdir().unwrap();
    let ns = k.ns.clone();
    // Discovery, version, explain.
    let version = k.ok(&["version", "-o", "json"]);
    assert!(version.contains("\"gitVersion\": \"v1.33"), "{version}");
    let resources = k.ok(&["api-resources"]);
    for r in [
        "pods",
        "deployments",
        "leases",
        "endpointslices",
        "clusterroles",
    ] {
        assert!(resources.contains(r), "api-resources lacks {r}");
    }
    assert!(
        k.ok(&["api-versions"])
            .contains("rbac.authorization.k8s.io/v1")
    );
    assert!(k.ok(&["explain", "pod.spec.containers"]).contains("image"));
    assert!(k.ok(&["cluster-info"]).contains("is running at"));

    // Generators (protobuf bodies in 1.32+).
    k.ok(&["create", "namespace", &ns]);
    k.ok(&["create", "configmap", "cm1", "--from-literal=a=1"]);
    k.ok(&[
        "create",
        "secret",
        "generic",
        "s1",
        "--from-literal=password=hunter2",
    ]);
    k.ok(&["create", "serviceaccount", "robot"]);
    k.ok(&[
        "create",
        "deployment",
        "api",
        "--image=busybox:1.35",
        "--replicas=2",
        "--",
        "sleep",
        "3600",
    ]);
    k.ok(&[
        "create",
        "job",
        "once",
        "--image=busybox:1.35",
        "--",
        "true",
    ]);
    k.ok(&["create", "service", "clusterip", "svc1", "--tcp=80:8080"]);
    assert_eq!(
        k.ok(&["get", "deploy", "api", "-o", "jsonpath={.spec.replicas}"]),
        "2"
    );
    assert_eq!(k.ok(&["get", "cm", "cm1", "-o", "jsonpath={.data.a}"]), "1");

    // get in its output formats.
    let table = k.ok(&["get", "configmaps"]);
    assert!(
        table.starts_with("NAME") && table.contains("DATA") && table.contains("cm1"),
        "{table}"
    );
    assert!(
        k.ok(&["get", "cm", "cm1", "-o", "yaml"])
            .contains("kind: ConfigMap")
    );
    assert!(
        k.ok(&["get", "cm", "cm1", "-o", "json"])
            .contains("\"kind\": \"ConfigMap\"")
    );
    assert_eq!(
        k.ok(&["get", "cm", "cm1", "-o", "name"]).trim(),
        "configmap/cm1"
    );
    assert!(k.ok(&["get", "deploy", "-o", "wide"]).contains("SELECTOR"));
    assert!(
        k.ok(&["get", "cm", "-o", "custom-columns=N:.metadata.name"])
            .contains("cm1")
    );
    assert!(k.ok(&["get", "cm", "--show-labels"]).contains("LABELS"));
    assert!(k.ok(&["get", "configmaps", "-A"]).contains(&ns));
    assert!(k.ok(&["get", "svc", "svc1"]).contains("10."));

    // label, annotate, the three patch types, scale, describe.
    k.ok(&["label", "cm", "cm1", "tier=web"]);
    assert_eq!(
        k.ok(&["get", "cm", "-l", "tier=web", "-o", "name"]).trim(),
        "configmap/cm1"
    );
    k.ok(&["annotate", "cm", "cm1", "note=hello"]);
    k.ok(&[
        "patch",
        "cm",
        "cm1",
        "--type=merge",
        "-p",
        r#"{"data":{"b":"2"}}"#,
    ]);
    k.ok(&[
        "patch",
        "cm",
        "cm1",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/data/b"}]"#,
    ]);
    k.ok(&["patch", "deploy", "api", "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"busybox","env":[{"name":"X","value":"1"}]}]}}}}"#]);
    k.ok(&["scale", "deploy", "api", "--replicas=4"]);
    assert_eq!(
        k.ok(&["get", "deploy", "api", "-o", "jsonpath={.spec.replicas}"]),
        "4"
    );
    assert!(k.ok(&["describe", "cm", "cm1"]).contains("note"));
    assert!(
        k.ok(&["describe", "deploy", "api"])
            .contains("busybox:1.35")
    );

    // edit through an EDITOR script.
    let editor = write(
        tmp.path(),
        "editor.sh",
        "#!/bin/sh\nsed -i 's/note: hello/note: edited/' \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut args = vec!["-n", ns.as_str(), "edit", "cm", "cm1"];
    let out = k.run_with(
        &args,
        None,
        &[
            ("EDITOR", editor.as_str()),
            ("KUBE_EDITOR", editor.as_str()),
        ],
    );
    assert!(
        out.status.success(),
        "edit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        k.ok(&[
            "get",
            "cm",
            "cm1",
            "-o",
            "jsonpath={.metadata.annotations.note}"
        ]),
        "edited"
    );
    args.clear();

    // create -f, apply twice, diff, server-side apply with a conflict.
    let d1 = write(tmp.path(), "d1.yaml", &deployment(&ns, 2, "a"));
    let d2 = write(tmp.path(), "d2.yaml", &deployment(&ns, 3, "b"));
    assert!(k.ok(&["apply", "-f", &d1]).contains("created"));
    assert!(k.ok(&["apply", "-f", &d1]).contains("unchanged"));
    let diff = k.run_with(&["-n", &ns, "diff", "-f", &d2], None, &[]);
    assert_eq!(
        diff.status.code(),
        Some(1),
        "diff: {}",
        String::from_utf8_lossy(&diff.stderr)
    );
    assert!(k.ok(&["apply", "-f", &d2]).contains("configured"));
    assert_eq!(
        k.ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].env[0].value}"
        ]),
        "3 b"
    );
    let diff = k.run_with(&["-n", &ns, "diff", "-f", &d2], None, &[]);
    assert_eq!(
        diff.status.code(),
        Some(0),
        "diff: {}",
        String::from_utf8_lossy(&diff.stdout)
    );
    let ssa1 = write(
        tmp.path(),
        "ssa1.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ssa, namespace: {ns}}}\ndata: {{owner: first, shared: \"1\"}}\n"
        ),
    );
    let ssa2 = write(
        tmp.path(),
        "ssa2.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ssa, namespace: {ns}}}\ndata: {{shared: \"2\"}}\n"
        ),
    );
    assert!(
        k.ok(&["apply", "--server-side", "-f", &ssa1])
            .contains("serverside-applied")
    );
    let err = k.fails(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        &ssa2,
    ]);
    assert!(err.to_lowercase().contains("conflict"), "{err}");
    k.ok(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        &ssa2,
    ]);
    assert_eq!(
        k.ok(&[
            "get",
            "cm",
            "ssa",
            "-o",
            "jsonpath={.data.owner} {.data.shared}"
        ]),
        "first 2"
    );
    let pod = write(
        tmp.path(),
        "pod.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p1, namespace: {ns}}}\nspec: {{containers: [{{name: c, image: busybox:1.35}}]}}\n"
        ),
    );
    k.ok(&["create", "-f", &pod]);
    let pods = k.ok(&["get", "pods"]);
    assert!(pods.contains("READY") && pods.contains("Pending"), "{pods}");

    // watch (-w), wait --for=delete, delete --wait.
    let mut w = Command::new(&k.bin)
        .args([
            "--kubeconfig",
            k.server.kubeconfig().to_str().unwrap(),
            "-n",
            &ns,
            "get",
            "cm",
            "-w",
            "--output-watch-events",
            "-o",
            "name",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = w.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    k.ok(&["create", "configmap", "w1", "--from-literal=a=1"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("configmap/w1")) {
        seen.push(
            rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("kubectl get -w saw no event"),
        );
    }
    let _ = w.kill();
    let _ = w.wait();
    let waiter = {
        let bin = k.bin.clone();
        let cfg = k.server.kubeconfig();
        let ns = ns.clone();
        std::thread::spawn(move || {
            Command::new(bin)
                .args([
                    "--kubeconfig",
                    cfg.to_str().unwrap(),
                    "-n",
                    &ns,
                    "wait",
                    "--for=delete",
                    "configmap/w1",
                    "--timeout=30s",
                ])
                .output()
                .unwrap()
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    k.ok(&["delete", "configmap", "w1", "--wait"]);
    let waited = waiter.join().unwrap();
    assert!(
        waited.status.success(),
        "wait: {}",
        String::from_utf8_lossy(&waited.stderr)
    );
    assert!(k.fails(&["get", "configmap", "w1"]).contains("not found"));

    // auth.
    assert_eq!(k.ok(&["auth", "can-i", "create", "pods"]).trim(), "yes");
    assert!(k.ok(&["auth", "whoami"]).contains("Username"));
    k.ok(&["delete", "namespace", &ns, "--wait=false"]);
}

fn run_session(version: Option<&str>) {
    let Some(bin) = kubectl_bin(version) else {
        eprintln!("skipped: kubectl {version:?} is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Proc::server(dir.path());
    let k = Kubectl {
        bin,
        server: &server,
        ns: format!("kt-{}", version.unwrap_or("default").replace('.', "-")),
    };
    session(&k);
}

#[test]
fn kubectl_default_build_runs_the_compat_table() {
    run_session(None);
}

#[test]
fn kubectl_1_32_runs_the_compat_table() {
    run_session(Some("1.32"));
}

//! `ironclad up` end to end: start-up phases, health endpoints, leader
//! election, clean stop on SIGINT, and a second `up` on the same data
//! directory resuming the same store.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

mod support;

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use support::{DEADLINE, Proc};

/// GET `path` over HTTPS as the admin (real kubectl, `get --raw`):
/// 200 and the body, or the failure's text.
fn http_get(kubeconfig: &std::path::Path, path: &str) -> (u16, String) {
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "--raw", path])
        .output()
        .unwrap();
    if out.status.success() {
        (200, String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        (500, String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn metric(body: &str, name: &str) -> i64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

#[test]
fn up_serves_health_leads_stops_cleanly_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let mut up = Proc::start("up", dir.path(), &[]);
    for phase in [
        "[1/6] store",
        "[2/6] PKI",
        "[3/6] election",
        "[4/6] API server",
        "[5/6] control loops",
        "[6/6] kubeconfig",
    ] {
        up.expect(phase);
    }
    up.expect("ready");
    let port = up.port();
    let kc = up.kubeconfig();
    up.expect("election: leader");
    assert_eq!(http_get(&kc, "/healthz"), (200, "ok".into()));
    assert_eq!(http_get(&kc, "/readyz"), (200, "ok".into()));
    let deadline = Instant::now() + DEADLINE;
    let first_rev = loop {
        let (code, body) = http_get(&kc, "/metrics");
        assert_eq!(code, 200);
        if metric(&body, "ironclad_leader") == 1 && metric(&body, "ironclad_store_revision") > 1 {
            break metric(&body, "ironclad_store_revision");
        }
        assert!(
            Instant::now() < deadline,
            "metrics never showed the leader: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let kubeconfig = std::fs::read_to_string(dir.path().join("admin.kubeconfig")).unwrap();
    assert!(
        kubeconfig.contains(&format!("server: https://127.0.0.1:{port}")),
        "{kubeconfig}"
    );
    let (code, body) = http_get(&kc, "/api/v1/namespaces/default");
    assert_eq!(code, 200, "{body}");
    up.stop(Signal::SIGINT);
    let id = std::fs::read_to_string(dir.path().join("server-id")).unwrap();

    let mut again = Proc::start("up", dir.path(), &[]);
    let line = again.expect("store answers at revision");
    let rev: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        rev > first_rev,
        "second up did not resume the store: {rev} <= {first_rev}"
    );
    again.expect(&format!("as {}", id.trim()));
    again.expect("election: leader");
    again.stop(Signal::SIGTERM);
}

//! `ironclad up` end to end: start-up phases, health endpoints, leader
//! election, clean stop on SIGINT, and a second `up` on the same data
//! directory resuming the same store.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use support::{DEADLINE, Proc};

fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let code = resp.split(' ').nth(1).unwrap().parse().unwrap();
    let body = resp
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (code, body)
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
        "[1/5] store",
        "[2/5] election",
        "[3/5] API server",
        "[4/5] control loops",
        "[5/5] kubeconfig",
    ] {
        up.expect(phase);
    }
    up.expect("ready");
    let port = up.port();
    up.expect("election: leader");
    assert_eq!(http_get(port, "/healthz"), (200, "ok".into()));
    assert_eq!(http_get(port, "/readyz"), (200, "ok".into()));
    let deadline = Instant::now() + DEADLINE;
    let first_rev = loop {
        let (code, body) = http_get(port, "/metrics");
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
        kubeconfig.contains(&format!("server: http://127.0.0.1:{port}")),
        "{kubeconfig}"
    );
    let (code, body) = http_get(port, "/api/v1/namespaces/default");
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

//! `ironclad up` end to end: start-up phases, health endpoints, leader
//! election, clean stop on SIGINT, and a second `up` on the same data
//! directory resuming the same store.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const DEADLINE: Duration = Duration::from_secs(30);

struct Up {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Up {
    fn start(dir: &std::path::Path, port: u16) -> Up {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ironclad"))
            .args([
                "up",
                "--data-dir",
                dir.to_str().unwrap(),
                "--api-port",
                &port.to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Up {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `needle`; returns it.
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {needle:?}; saw {:#?}", self.seen),
            }
        }
    }

    fn stop(mut self, signal: Signal) -> Vec<String> {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
        self.expect("stopped");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit status {status}");
        self.seen
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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
    let port = free_port();
    let mut up = Up::start(dir.path(), port);
    for phase in [
        "[1/4] store",
        "[2/4] election",
        "[3/4] API server",
        "[4/4] kubeconfig",
    ] {
        up.expect(phase);
    }
    up.expect("ready");
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

    let mut again = Up::start(dir.path(), port);
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

//! An `ironclad` process started by a test: its output lines, waited on
//! with a deadline, and its port (it listens on any free port, `--api-port
//! 0`, so parallel tests never race for one). Killed when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long a process may take to print a line a test waits for.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A running `ironclad` subcommand.
pub struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
    /// Its data directory.
    pub data_dir: PathBuf,
}

impl Proc {
    /// Starts `ironclad <subcommand> --data-dir DIR --api-port 0 <extra>`.
    pub fn start(subcommand: &str, dir: &Path, extra: &[&str]) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ironclad"))
            .args([
                subcommand,
                "--data-dir",
                dir.to_str().unwrap(),
                "--api-port",
                "0",
            ])
            .args(extra)
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
        Proc {
            child,
            lines,
            seen: Vec::new(),
            data_dir: dir.to_path_buf(),
        }
    }

    /// Starts `ironclad server` and waits until it is ready.
    pub fn server(dir: &Path) -> Proc {
        let mut p = Proc::start("server", dir, &[]);
        p.expect("ready");
        p
    }

    /// Waits for a line containing `needle`; returns it.
    pub fn expect(&mut self, needle: &str) -> String {
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

    /// Waits for a line containing `needle`, counting lines already seen.
    pub fn saw(&mut self, needle: &str) -> String {
        match self.seen.iter().find(|l| l.contains(needle)) {
            Some(l) => l.clone(),
            None => self.expect(needle),
        }
    }

    /// Kills it with SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The port it serves the API on (from its "API server: https://…"
    /// line, waiting for it if not seen yet).
    pub fn port(&mut self) -> u16 {
        const MARK: &str = "API server: https://";
        let line = match self.seen.iter().find(|l| l.contains(MARK)) {
            Some(l) => l.clone(),
            None => self.expect(MARK),
        };
        line.rsplit(':').next().unwrap().trim().parse().unwrap()
    }

    /// Its admin kubeconfig.
    pub fn kubeconfig(&self) -> PathBuf {
        self.data_dir.join("admin.kubeconfig")
    }

    /// Sends `signal`, waits for the "stopped" line and a successful exit;
    /// returns every line seen.
    pub fn stop(mut self, signal: Signal) -> Vec<String> {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
        self.expect("stopped");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit status {status}");
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

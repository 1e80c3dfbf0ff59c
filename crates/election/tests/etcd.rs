//! The election across separate processes on a real etcd: contenders are
//! `ironclad-election-probe` processes, killed, stopped and resumed with
//! real signals. Safety is checked from the recorded history of every
//! process's lines (stamped with the machine-wide `CLOCK_MONOTONIC`): the
//! leadership intervals never overlap, every act lies inside its
//! process's interval, and tokens only grow.

// Test helpers panic on anything unexpected, by design.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use ironclad_store_etcd::EtcdCluster;
use nix::sys::signal::{Signal, kill};
use nix::time::{ClockId, clock_gettime};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

const KEY: &str = "/ironclad/election/probe";
/// Failover after a leader's death must take at most this long (the default
/// TTL is 2 s; etcd checks for expired leases every 500 ms).
const BOUND: Duration = Duration::from_secs(3);
/// How long to wait for anything that should happen promptly.
const PATIENCE: Duration = Duration::from_secs(10);

fn mono_ns() -> i128 {
    let ts = clock_gettime(ClockId::CLOCK_MONOTONIC).unwrap();
    i128::from(ts.tv_sec()) * 1_000_000_000 + i128::from(ts.tv_nsec())
}

fn ms(ns: i128) -> f64 {
    ns as f64 / 1e6
}

/// One parsed line of a probe.
#[derive(Debug, Clone, PartialEq)]
enum Line {
    Follower { leader: String, t: i128 },
    Leader { token: i64, t: i128 },
    Act { token: i64, t: i128 },
    StepDown { token: i64, end: i128, seen: i128 },
    Exit { t: i128 },
}

fn parse(line: &str) -> Option<Line> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let n = |i: usize| w.get(i).and_then(|s| s.parse::<i128>().ok());
    let tok = |i: usize| w.get(i).and_then(|s| s.parse::<i64>().ok());
    Some(match *w.first()? {
        "FOLLOWER" => Line::Follower {
            leader: w.get(1)?.to_string(),
            t: n(2)?,
        },
        "LEADER" => Line::Leader {
            token: tok(1)?,
            t: n(2)?,
        },
        "ACT" => Line::Act {
            token: tok(1)?,
            t: n(2)?,
        },
        "STEPDOWN" => Line::StepDown {
            token: tok(1)?,
            end: n(2)?,
            seen: n(3)?,
        },
        "EXIT" => Line::Exit { t: n(1)? },
        _ => return None,
    })
}

/// A line and the probe that printed it.
#[derive(Debug, Clone)]
struct Record {
    probe: usize,
    line: Line,
}

struct Probe {
    id: String,
    child: Child,
    pid: Pid,
    /// When it was SIGKILLed (after it was reaped), if it was.
    killed_at: Option<i128>,
}

/// An etcd and the probes contending on it, with every line they printed.
struct Harness {
    _cluster: EtcdCluster,
    urls: String,
    probes: Vec<Probe>,
    tx: mpsc::UnboundedSender<Record>,
    rx: mpsc::UnboundedReceiver<Record>,
    history: Vec<Record>,
}

impl Harness {
    async fn start(probes: usize) -> Harness {
        let cluster = EtcdCluster::start(1).await.expect("etcd starts");
        let urls = cluster.client_urls().join(",");
        let (tx, rx) = mpsc::unbounded_channel();
        let mut h = Harness {
            _cluster: cluster,
            urls,
            probes: Vec::new(),
            tx,
            rx,
            history: Vec::new(),
        };
        for i in 0..probes {
            h.spawn(&format!("probe-{i}"));
        }
        h
    }

    fn spawn(&mut self, id: &str) -> usize {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ironclad-election-probe"))
            .args(["--endpoints", &self.urls, "--key", KEY, "--id", id])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("probe starts");
        let pid = Pid::from_raw(child.id().expect("running") as i32);
        let probe = self.probes.len();
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                match parse(&line) {
                    Some(line) => {
                        let _ = tx.send(Record { probe, line });
                    }
                    None => eprintln!("probe {probe}: {line}"),
                }
            }
        });
        self.probes.push(Probe {
            id: id.to_owned(),
            child,
            pid,
            killed_at: None,
        });
        probe
    }

    /// Waits for the next line matching `pred`, recording every line.
    async fn wait_for(&mut self, what: &str, mut pred: impl FnMut(&Record) -> bool) -> Record {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(r)) => {
                    self.history.push(r.clone());
                    if pred(&r) {
                        return r;
                    }
                }
                _ => panic!("timed out waiting for {what}; history:\n{}", self.dump()),
            }
        }
    }

    /// Like [`Harness::wait_for`], but a matching line already recorded counts.
    async fn seen_or_wait(&mut self, what: &str, mut pred: impl FnMut(&Record) -> bool) -> Record {
        match self.history.iter().find(|r| pred(r)) {
            Some(r) => r.clone(),
            None => self.wait_for(what, pred).await,
        }
    }

    /// Records every line that arrives for `d`, asserting none matches `bad`.
    async fn observe(&mut self, d: Duration, what: &str, mut bad: impl FnMut(&Record) -> bool) {
        let until = Instant::now() + d;
        while let Ok(Some(r)) = tokio::time::timeout_at(until, self.rx.recv()).await {
            self.history.push(r.clone());
            assert!(!bad(&r), "{what}: {r:?}; history:\n{}", self.dump());
        }
    }

    async fn leader(&mut self) -> (usize, i64, i128) {
        let r = self
            .wait_for("a leader", |r| matches!(r.line, Line::Leader { .. }))
            .await;
        let Line::Leader { token, t } = r.line else {
            unreachable!()
        };
        (r.probe, token, t)
    }

    /// A new leader other than `not`.
    async fn leader_other_than(&mut self, not: usize) -> (usize, i64, i128) {
        let r = self
            .wait_for("a new leader", |r| {
                r.probe != not && matches!(r.line, Line::Leader { .. })
            })
            .await;
        let Line::Leader { token, t } = r.line else {
            unreachable!()
        };
        (r.probe, token, t)
    }

    /// Sends a signal; returns the time just before it was sent (the target
    /// may run, and print, before `kill` returns to us).
    fn signal(&self, probe: usize, sig: Signal) -> i128 {
        let t = mono_ns();
        kill(self.probes[probe].pid, sig).expect("signal delivered");
        t
    }

    /// SIGKILLs a probe and returns when it is gone, stamped after reaping:
    /// it cannot have acted later than that.
    async fn kill9(&mut self, probe: usize) -> i128 {
        self.signal(probe, Signal::SIGKILL);
        self.probes[probe].child.wait().await.expect("reaped");
        let t = mono_ns();
        self.probes[probe].killed_at = Some(t);
        t
    }

    fn dump(&self) -> String {
        self.history
            .iter()
            .map(|r| format!("  {} {:?}\n", self.probes[r.probe].id, r.line))
            .collect()
    }

    /// Checks the whole history: per process, leadership intervals from
    /// `LEADER` to `STEPDOWN`'s end (or the kill, or still open); every
    /// `ACT` inside its interval; across processes, no two intervals
    /// overlap and tokens grow with time.
    fn check_history(&self) -> Vec<(usize, i64, i128, i128)> {
        let mut intervals = Vec::new();
        let mut open: BTreeMap<usize, (i64, i128)> = BTreeMap::new();
        for r in &self.history {
            match r.line {
                Line::Leader { token, t } => {
                    assert!(
                        open.insert(r.probe, (token, t)).is_none(),
                        "LEADER twice: {r:?}"
                    );
                }
                Line::Act { token, t } => {
                    let (open_token, start) = open.get(&r.probe).copied().unwrap_or_else(|| {
                        panic!("ACT outside leadership: {r:?}\n{}", self.dump())
                    });
                    assert_eq!(open_token, token, "ACT with another term's token: {r:?}");
                    assert!(t >= start, "ACT before LEADER: {r:?}");
                }
                Line::StepDown { token, end, seen } => {
                    let (open_token, start) =
                        open.remove(&r.probe).expect("STEPDOWN while leading");
                    assert_eq!(open_token, token);
                    assert!(end <= seen, "{r:?}");
                    intervals.push((r.probe, token, start, end));
                }
                Line::Follower { .. } | Line::Exit { .. } => {}
            }
        }
        for (probe, (token, start)) in open {
            let end = self.probes[probe].killed_at.unwrap_or(i128::MAX);
            intervals.push((probe, token, start, end));
        }
        // Every ACT lies before its interval's end.
        for r in &self.history {
            if let Line::Act { token, t } = r.line {
                let (.., end) = intervals
                    .iter()
                    .find(|i| i.0 == r.probe && i.1 == token)
                    .unwrap();
                assert!(t <= *end, "ACT after the term ended: {r:?}");
            }
        }
        intervals.sort_by_key(|i| i.2);
        for w in intervals.windows(2) {
            let ((p1, t1, _, end1), (p2, t2, start2, _)) = (w[0], w[1]);
            assert!(
                end1 <= start2,
                "overlap: {} led (token {t1}) until {end1}, {} from {start2} (token {t2})\n{}",
                self.probes[p1].id,
                self.probes[p2].id,
                self.dump()
            );
            assert!(t2 > t1, "tokens must grow: {t1} then {t2}");
        }
        for (p, token, start, end) in &intervals {
            let end = if *end == i128::MAX {
                "(still leading)".into()
            } else {
                format!("{:.1} ms", ms(end - start))
            };
            println!("  {} led with token {token} for {end}", self.probes[*p].id);
        }
        intervals
    }
}

/// Three processes: one leader, the others follow it; SIGKILL the leader
/// and another takes over within the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_among_processes_and_failover_after_sigkill() {
    let mut h = Harness::start(3).await;
    let (l, _, _) = h.leader().await;
    let leader_id = h.probes[l].id.clone();
    for p in (0..3).filter(|&p| p != l) {
        // Lines of different processes race: a follower may name the leader
        // before the leader's own line arrives.
        h.seen_or_wait("the others to follow the leader", |r| {
            r.probe == p && matches!(&r.line, Line::Follower { leader, .. } if *leader == leader_id)
        })
        .await;
    }
    h.observe(Duration::from_secs(1), "a second leader", |r| {
        r.probe != l && matches!(r.line, Line::Leader { .. })
    })
    .await;

    let killed = h.kill9(l).await;
    let (n, _, t) = h.leader_other_than(l).await;
    let failover = t - killed;
    println!(
        "failover after SIGKILL of the leader: {:.1} ms (bound {BOUND:?})",
        ms(failover)
    );
    assert!(
        failover <= BOUND.as_nanos() as i128,
        "failover took {:.1} ms",
        ms(failover)
    );
    h.wait_for("the new leader to act", |r| {
        r.probe == n && matches!(r.line, Line::Act { .. })
    })
    .await;
    assert_eq!(h.check_history().len(), 2);
}

/// SIGSTOP the leader past its TTL: another takes over; on SIGCONT the old
/// leader steps down without acting again, its term having ended (on the
/// shared clock) before the new one began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_stopped_past_its_ttl_steps_down_on_resume() {
    let mut h = Harness::start(3).await;
    let (l, old_token, _) = h.leader().await;
    h.wait_for("the leader to act", |r| {
        r.probe == l && matches!(r.line, Line::Act { .. })
    })
    .await;
    let stopped = h.signal(l, Signal::SIGSTOP);
    let (n, new_token, t) = h.leader_other_than(l).await;
    println!(
        "failover after SIGSTOP of the leader: {:.1} ms",
        ms(t - stopped)
    );
    assert!(new_token > old_token);
    // Let the new leader act for a while before the old one wakes up.
    for _ in 0..10 {
        h.wait_for("the new leader to act", |r| {
            r.probe == n && matches!(r.line, Line::Act { .. })
        })
        .await;
    }
    let resumed = h.signal(l, Signal::SIGCONT);
    let r = h
        .wait_for("the old leader to step down", |r| {
            r.probe == l && matches!(r.line, Line::StepDown { .. } | Line::Act { .. })
        })
        .await;
    let Line::StepDown { token, end, seen } = r.line else {
        panic!(
            "the resumed leader acted before stepping down: {r:?}\n{}",
            h.dump()
        );
    };
    assert_eq!(token, old_token);
    assert!(seen >= resumed);
    assert!(end < t, "old term ended at {end}, new began at {t}");
    println!(
        "stopped leader: term ended {:.1} ms after SIGSTOP, {:.1} ms before the new term; \
         stepped down {:.1} ms after SIGCONT",
        ms(end - stopped),
        ms(t - end),
        ms(seen - resumed)
    );
    let new_id = h.probes[n].id.clone();
    h.wait_for("the old leader to follow", |r| {
        r.probe == l && matches!(&r.line, Line::Follower { leader, .. } if *leader == new_id)
    })
    .await;
    h.observe(Duration::from_millis(500), "the old leader acting", |r| {
        r.probe == l
    })
    .await;
    assert_eq!(h.check_history().len(), 2);
}

/// SIGTERM the leader: it stops acting, resigns, exits cleanly, and
/// another takes over at once rather than after the TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_resigns_and_hands_over_at_once() {
    let mut h = Harness::start(2).await;
    let (l, _, _) = h.leader().await;
    h.wait_for("the leader to act", |r| {
        r.probe == l && matches!(r.line, Line::Act { .. })
    })
    .await;
    let termed = h.signal(l, Signal::SIGTERM);
    let (_, _, t) = h.leader_other_than(l).await;
    let handover = t - termed;
    println!(
        "handover after SIGTERM of the leader: {:.1} ms",
        ms(handover)
    );
    assert!(
        handover < 1_000_000_000,
        "handover took {:.1} ms",
        ms(handover)
    );
    h.seen_or_wait("the old leader to exit", |r| {
        r.probe == l && matches!(r.line, Line::Exit { .. })
    })
    .await;
    let status = h.probes[l].child.wait().await.unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(h.check_history().len(), 2);
}

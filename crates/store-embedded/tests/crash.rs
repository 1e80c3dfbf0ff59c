//! Crash safety: a child process writes as fast as it can and prints each
//! write only after the store acknowledged it; the parent SIGKILLs it at a
//! random moment, reopens the directory and checks every acknowledged write
//! is there with its value. Many rounds on one directory.
//!
//! The child is this same test binary, re-run with `crash_child_writer`
//! (ignored unless `IRONCLAD_CRASH_DIR` is set). Odd rounds never
//! checkpoint (only the open does), so their kills always leave
//! acknowledged writes that only the write-ahead log holds.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ironclad_store::{Compare, CompareOp, KeyRange, Op, Store, Txn};
use ironclad_store_embedded::{Config, EmbeddedStore, WAL_FILE};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rand::Rng;

const ROUNDS: usize = 25;
const WRITERS: usize = 16;

fn value_for(key: &str) -> Vec<u8> {
    format!("value-of-{key}-{}", key.len()).into_bytes()
}

/// Re-runs this test binary as a child that runs only the ignored test
/// `name`, with `env`; returns it, its pid and its stdout.
fn spawn_child(name: &str, env: &[(&str, &str)]) -> (Child, Pid, ChildStdout) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(child.id() as i32);
    let stdout = child.stdout.take().unwrap();
    (child, pid, stdout)
}

/// The child: concurrent writers of unique keys, plus a CAS counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by crash_then_reopen_loses_no_acknowledged_write as a child process"]
async fn crash_child_writer() {
    let Ok(dir) = std::env::var("IRONCLAD_CRASH_DIR") else {
        return;
    };
    let round: usize = std::env::var("IRONCLAD_CRASH_ROUND")
        .unwrap()
        .parse()
        .unwrap();
    let config = Config {
        checkpoint_interval: if round % 2 == 1 {
            Duration::from_secs(3600)
        } else {
            Config::default().checkpoint_interval
        },
        ..Config::default()
    };
    let store = Arc::new(EmbeddedStore::open(&dir, config).await.unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    for w in 0..WRITERS {
        let (store, tx) = (store.clone(), tx.clone());
        tokio::spawn(async move {
            for seq in 0.. {
                if w == 0 {
                    // A compare-and-swap counter: its acknowledged value must
                    // never go back after a crash.
                    let cur = store.get(b"/counter").await.unwrap();
                    let n: u64 = cur.as_ref().map_or(0, |kv| {
                        std::str::from_utf8(&kv.value).unwrap().parse().unwrap()
                    });
                    let cmp = match &cur {
                        Some(kv) => {
                            Compare::mod_revision("/counter", CompareOp::Equal, kv.mod_revision)
                        }
                        None => Compare::absent("/counter"),
                    };
                    let r = store
                        .txn(
                            Txn::new()
                                .when([cmp])
                                .and_then([Op::put("/counter", (n + 1).to_string())]),
                        )
                        .await
                        .unwrap();
                    if r.succeeded {
                        tx.send(format!("COUNTER {} {}", n + 1, r.revision))
                            .unwrap();
                    }
                    continue;
                }
                let key = format!("/crash/{round}/{w}/{seq}");
                let rev = store
                    .put(key.as_bytes(), &value_for(&key))
                    .await
                    .unwrap()
                    .revision;
                tx.send(format!("ACK {key} {rev}")).unwrap();
            }
        });
    }
    drop(tx);
    let mut out = std::io::stdout().lock();
    while let Some(line) = rx.recv().await {
        writeln!(out, "{line}").unwrap();
        out.flush().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_then_reopen_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rng();
    let mut acked: BTreeMap<String, i64> = BTreeMap::new();
    let mut counter = 0u64;
    let mut max_rev = 0i64;
    for round in 0..ROUNDS {
        let (mut child, pid, stdout) = spawn_child(
            "crash_child_writer",
            &[
                ("IRONCLAD_CRASH_DIR", dir.path().to_str().unwrap()),
                ("IRONCLAD_CRASH_ROUND", &round.to_string()),
            ],
        );
        let kill_after = Duration::from_millis(rng.random_range(20..400));
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            let mut first_ack: Option<Instant> = None;
            let mut killed = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("ACK ") || line.starts_with("COUNTER ") {
                    let t = *first_ack.get_or_insert_with(Instant::now);
                    if !killed && t.elapsed() >= kill_after {
                        kill(pid, Signal::SIGKILL).unwrap();
                        killed = true;
                    }
                    lines.push(line);
                }
            }
            (lines, killed)
        });
        // The reader kills the child mid-stream; this is the backstop.
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "child never killed in round {round}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let (lines, killed) = reader.join().unwrap();
        assert!(
            killed,
            "round {round}: child exited before it was killed ({} lines)",
            lines.len()
        );
        let before = acked.len();
        for line in lines {
            let parts: Vec<_> = line.split(' ').collect();
            let rev: i64 = parts[2].parse().unwrap();
            max_rev = max_rev.max(rev);
            match parts[0] {
                "ACK" => {
                    acked.insert(parts[1].to_string(), rev);
                }
                _ => counter = counter.max(parts[1].parse().unwrap()),
            }
        }
        assert!(acked.len() > before, "round {round} acknowledged nothing");

        // Reopen and check everything acknowledged so far, every round.
        let store = EmbeddedStore::open(dir.path(), Config::default())
            .await
            .expect("store reopens cleanly after kill -9");
        let status = store.status().await.unwrap();
        assert!(
            status.revision >= max_rev,
            "revision went back: {} < {max_rev}",
            status.revision
        );
        for (key, rev) in &acked {
            let kv = store
                .get(key.as_bytes())
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: acknowledged {key} lost"));
            assert_eq!(kv.value.as_ref(), value_for(key).as_slice(), "{key}");
            assert_eq!(kv.mod_revision, *rev, "{key}");
        }
        let found: u64 = store.get(b"/counter").await.unwrap().map_or(0, |kv| {
            std::str::from_utf8(&kv.value).unwrap().parse().unwrap()
        });
        assert!(
            found >= counter,
            "counter went back from {counter} to {found}"
        );
        store.close().await.unwrap();
    }
    println!(
        "{ROUNDS} kill -9 rounds, {} acknowledged writes, all present",
        acked.len()
    );
}

/// The child of the torn-tail test: a few writes with no checkpoint after
/// the open, then `DONE`, then it waits to be killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by torn_log_tail_is_ignored_and_unsynced_writes_replay as a child process"]
async fn wal_child_writer() {
    let Ok(dir) = std::env::var("IRONCLAD_WAL_DIR") else {
        return;
    };
    let config = Config {
        checkpoint_interval: Duration::from_secs(3600),
        ..Config::default()
    };
    let store = EmbeddedStore::open(&dir, config).await.unwrap();
    let lease = store.lease_grant(3600).await.unwrap();
    for i in 0..50 {
        let key = format!("/wal/{i}");
        store
            .txn(Txn::new().and_then([Op::put_with_lease(key.clone(), value_for(&key), lease.id)]))
            .await
            .unwrap();
    }
    store.delete(KeyRange::key("/wal/0")).await.unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "DONE {}", lease.id).unwrap();
    out.flush().unwrap();
    drop(out);
    tokio::time::sleep(Duration::from_secs(60)).await;
}

/// Where the valid records of a log end: walks `[len][crc][seq][payload]`
/// headers until a zero length.
fn log_end(wal: &[u8]) -> usize {
    let mut at = 0;
    while at + 16 <= wal.len() {
        let len = u32::from_le_bytes(wal[at..at + 4].try_into().unwrap()) as usize;
        if len == 0 {
            break;
        }
        at += 16 + len;
    }
    at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_log_tail_is_ignored_and_unsynced_writes_replay() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, pid, stdout) = spawn_child(
        "wal_child_writer",
        &[("IRONCLAD_WAL_DIR", dir.path().to_str().unwrap())],
    );
    let mut lease = None;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        // libtest may print "test wal_child_writer ... " before it.
        if let Some((_, id)) = line.split_once("DONE ") {
            lease = id.parse::<i64>().ok();
            break;
        }
    }
    kill(pid, Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    let lease = lease.expect("child finished its writes");

    // Everything since the open is only in the log. Tear a record onto its
    // end: a header promising more than was written, then garbage.
    let path = dir.path().join(WAL_FILE);
    let mut wal = std::fs::read(&path).unwrap();
    let end = log_end(&wal);
    assert!(end > 0, "the writes went to the log");
    let mut torn = Vec::new();
    torn.extend_from_slice(&400u32.to_le_bytes());
    torn.extend_from_slice(&0xdead_beefu32.to_le_bytes());
    torn.extend_from_slice(&u64::MAX.to_le_bytes());
    torn.extend_from_slice(&[0x5a; 100]);
    wal[end..end + torn.len()].copy_from_slice(&torn);
    std::fs::write(&path, &wal).unwrap();

    for round in 0..2 {
        let store = EmbeddedStore::open(dir.path(), Config::default())
            .await
            .expect("reopens after a torn log tail");
        assert!(store.get(b"/wal/0").await.unwrap().is_none());
        for i in 1..50 {
            let key = format!("/wal/{i}");
            let kv = store
                .get(key.as_bytes())
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{key} lost"));
            assert_eq!(kv.value.as_ref(), value_for(&key).as_slice());
            assert_eq!(kv.lease, lease);
        }
        // The replayed lease is live, and new writes follow on: 50 puts and
        // a delete after revision 1, then each round's put and delete.
        store.lease_keep_alive(lease).await.unwrap();
        let head = store.status().await.unwrap().revision;
        assert_eq!(head, 52 + 2 * round);
        assert_eq!(store.put(b"/after", b"x").await.unwrap().revision, head + 1);
        store.close().await.unwrap();
        // Stamp garbage over the start of the (now checkpointed) log: the
        // next open must ignore it too.
        let mut wal = std::fs::read(&path).unwrap();
        wal[..64].copy_from_slice(&[0xa5; 64]);
        std::fs::write(&path, &wal).unwrap();
        let store = EmbeddedStore::open(dir.path(), Config::default())
            .await
            .unwrap();
        assert_eq!(
            store.get(b"/after").await.unwrap().unwrap().value.as_ref(),
            b"x"
        );
        store.delete(KeyRange::key("/after")).await.unwrap();
        store.close().await.unwrap();
    }
}

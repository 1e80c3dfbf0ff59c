//! `ironclad podmaster` end to end: two instances over a real etcd, each
//! with its own destination directory (as on two nodes), copying the same
//! source manifests only while leading.

// Test helpers panic on anything unexpected, by design.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ironclad_store_etcd::EtcdCluster;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

const KEY: &str = "/ironclad/podmaster/test";
/// Failover after the leader's death (default TTL 2 s; etcd expires leases
/// on a 500 ms tick); the new leader copies at once.
const BOUND: Duration = Duration::from_secs(3);
/// For things that should happen promptly.
const PATIENCE: Duration = Duration::from_secs(10);

/// One `ironclad podmaster` process and its log.
struct Instance {
    name: &'static str,
    child: Child,
    dest: PathBuf,
    log: Arc<Mutex<String>>,
}

impl Instance {
    fn spawn(name: &'static str, urls: &str, source: &Path, dest: &Path) -> Instance {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ironclad"))
            .arg("podmaster")
            .args(["--etcd-servers", urls, "--key", KEY, "--id", name])
            .arg("--source-dir")
            .arg(source)
            .arg("--dest-dir")
            .arg(dest)
            .env("IRONCLAD_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("ironclad starts");
        let log = Arc::new(Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[{name}] {line}");
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Instance {
            name,
            child,
            dest: dest.to_owned(),
            log,
        }
    }

    fn logged(&self, what: &str) -> bool {
        self.log.lock().unwrap().contains(what)
    }

    fn files(&self) -> BTreeMap<String, Vec<u8>> {
        files(&self.dest)
    }

    /// Sends a signal; returns the time just before it was sent.
    fn signal(&self, sig: Signal) -> Instant {
        let t = Instant::now();
        kill(Pid::from_raw(self.child.id().expect("running") as i32), sig).expect("signalled");
        t
    }
}

/// The visible (non-dot) files of a directory and their contents.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter_map(|e| {
            let name = e.file_name().into_string().unwrap();
            (!name.starts_with('.')).then(|| (name, std::fs::read(e.path()).unwrap()))
        })
        .collect()
}

/// Polls `f` every 10 ms until it yields, failing after `within`.
async fn eventually<T>(within: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn podmaster_copies_only_while_leading_and_hands_over() {
    let cluster = EtcdCluster::start(1).await.expect("etcd starts");
    let urls = cluster.client_urls().join(",");
    let tmp = tempfile::tempdir().unwrap();
    let (source, dest_a, dest_b) = (
        tmp.path().join("source"),
        tmp.path().join("dest-a"),
        tmp.path().join("dest-b"),
    );
    for d in [&source, &dest_a, &dest_b] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::write(
        source.join("scheduler.yaml"),
        "kind: Pod\nname: scheduler\n",
    )
    .unwrap();
    std::fs::write(
        source.join("controller-manager.yaml"),
        "kind: Pod\nname: cm\n",
    )
    .unwrap();
    let manifests = || files(&source);

    // A starts alone and leads.
    let a = Instance::spawn("a", &urls, &source, &dest_a);
    eventually(PATIENCE, "A to copy the manifests", || {
        (a.files() == manifests()).then_some(())
    })
    .await;

    // B follows and copies nothing, even over a few sync rounds.
    let b = Instance::spawn("b", &urls, &source, &dest_b);
    eventually(PATIENCE, "B to follow A", || {
        b.logged("podmaster: following").then_some(())
    })
    .await;
    let quiet = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < quiet {
        assert!(
            b.files().is_empty(),
            "a follower copied: {:?}",
            b.files().keys()
        );
        assert_eq!(a.files(), manifests());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The leader keeps its copies in sync with the sources.
    std::fs::write(
        source.join("scheduler.yaml"),
        "kind: Pod\nname: scheduler\nv: 2\n",
    )
    .unwrap();
    eventually(
        Duration::from_secs(3),
        "A to re-copy a changed manifest",
        || (a.files() == manifests()).then_some(()),
    )
    .await;

    // SIGKILL A: B takes over within the bound; A's copies stay (nobody
    // is left on that node to remove them).
    let mut a = a;
    let killed = a.signal(Signal::SIGKILL);
    a.child.wait().await.unwrap();
    eventually(BOUND, "B to copy the manifests after A's death", || {
        (b.files() == manifests()).then_some(())
    })
    .await;
    println!(
        "podmaster failover after SIGKILL: {:?} (bound {BOUND:?})",
        killed.elapsed()
    );
    assert_eq!(
        a.files(),
        manifests(),
        "a SIGKILLed podmaster cannot clean up"
    );

    // A comes back on its node: as a follower it removes the stale copies.
    let a = Instance::spawn("a2", &urls, &source, &dest_a);
    eventually(
        PATIENCE,
        "the restarted A to remove its stale copies",
        || (a.logged("podmaster: following") && a.files().is_empty()).then_some(()),
    )
    .await;

    // SIGTERM B: it removes its copies, then resigns, so A takes over at once
    // and the two sets of copies never exist together.
    let mut b = b;
    let termed = b.signal(Signal::SIGTERM);
    let observed = eventually(
        Duration::from_secs(1),
        "A to take over from the resigning B",
        || {
            let a_files = a.files();
            (a_files == manifests()).then(|| b.files())
        },
    )
    .await;
    println!("podmaster handover after SIGTERM: {:?}", termed.elapsed());
    assert!(
        observed.is_empty(),
        "B still had copies when A copied: {:?}",
        observed.keys()
    );
    let status = tokio::time::timeout(PATIENCE, b.child.wait())
        .await
        .expect("B exits")
        .unwrap();
    assert!(status.success(), "B exited with {status}");
    assert!(b.files().is_empty());
    assert!(b.logged("podmaster: removed manifest"));

    // And a clean stop of the last one leaves nothing behind.
    let mut a = a;
    a.signal(Signal::SIGINT);
    let status = tokio::time::timeout(PATIENCE, a.child.wait())
        .await
        .expect("A exits")
        .unwrap();
    assert!(status.success(), "{} exited with {status}", a.name);
    assert!(a.files().is_empty());
    drop(cluster);
}

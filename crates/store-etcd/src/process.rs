//! Real etcd members on loopback, for tests, benchmarks and
//! `ironclad bench store`.
//!
//! [`EtcdCluster::start`] runs `etcd` (or `$IRONCLAD_ETCD_BIN`) once per
//! member on free loopback ports, with data and logs in a temporary
//! directory, and returns when every member serves linearizable reads.
//! Dropping the cluster kills the members and deletes the directory.

use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ironclad_store::{Error, MAX_VALUE_SIZE, Result};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// Environment variable naming the etcd binary; `etcd` on `PATH` otherwise.
pub const ETCD_BIN_ENV: &str = "IRONCLAD_ETCD_BIN";

/// How long a cluster may take to answer after its members start.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// Attempts at starting when a picked port was taken before etcd bound it.
const START_ATTEMPTS: usize = 3;

/// A readiness probe that gets no answer in this long is retried.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Headroom over [`MAX_VALUE_SIZE`] for etcd's `--max-request-bytes`, so a
/// put of the largest value the store accepts fits with its key and framing
/// (etcd's default limit is exactly 1.5 MiB, the value limit itself).
const REQUEST_HEADROOM: usize = 64 * 1024;

/// Tells clusters apart in their `--initial-cluster-token`, so members of
/// two clusters started at once never join each other.
static CLUSTER_SEQ: AtomicU64 = AtomicU64::new(0);

/// How to run the members.
#[derive(Debug, Clone, Default)]
pub struct EtcdOptions {
    /// `--heartbeat-interval` in milliseconds (etcd's default: 100).
    pub heartbeat_interval_ms: Option<u64>,
    /// `--election-timeout` in milliseconds (etcd's default: 1000).
    pub election_timeout_ms: Option<u64>,
    /// More command-line arguments, passed last to every member.
    pub extra_args: Vec<String>,
}

struct Member {
    name: String,
    client_url: String,
    data_dir: PathBuf,
    child: Option<Child>,
}

/// A running local etcd cluster. Dropping it kills every member and
/// deletes their data.
pub struct EtcdCluster {
    members: Vec<Member>,
    // Declared after `members`: deleted once the members are gone.
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for EtcdCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdCluster")
            .field("client_urls", &self.client_urls())
            .field("dir", &self.dir.path())
            .finish()
    }
}

/// Why a start attempt failed.
enum StartError {
    /// A port picked as free was taken before etcd bound it; try again.
    PortTaken(Error),
    /// Anything else; trying again would not help.
    Fatal(Error),
}

/// The etcd binary to run: [`ETCD_BIN_ENV`], or `etcd` on `PATH`.
pub fn etcd_binary() -> PathBuf {
    std::env::var_os(ETCD_BIN_ENV).map_or_else(|| PathBuf::from("etcd"), PathBuf::from)
}

impl EtcdCluster {
    /// Starts a cluster of `members` members with etcd's default settings.
    pub async fn start(members: usize) -> Result<EtcdCluster> {
        Self::start_with(members, EtcdOptions::default()).await
    }

    /// Starts a cluster of `members` members.
    ///
    /// Fails with [`Error::InvalidRequest`] for zero members,
    /// [`Error::Unavailable`] when the etcd binary cannot be run or the
    /// cluster does not answer within 20 s (the message quotes the failing
    /// member's log).
    pub async fn start_with(members: usize, options: EtcdOptions) -> Result<EtcdCluster> {
        if members == 0 {
            return Err(Error::InvalidRequest(
                "an etcd cluster needs at least one member".into(),
            ));
        }
        let bin = etcd_binary();
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(&bin, members, &options).await {
                Ok(cluster) => return Ok(cluster),
                Err(StartError::PortTaken(e)) => {
                    tracing::debug!(error = %e, "etcd port taken; retrying with new ports");
                    last = Some(e);
                }
                Err(StartError::Fatal(e)) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::Unavailable("etcd did not start".into())))
    }

    async fn try_start(
        bin: &Path,
        members: usize,
        options: &EtcdOptions,
    ) -> Result<EtcdCluster, StartError> {
        let fatal = StartError::Fatal;
        let dir = tempfile::Builder::new()
            .prefix("ironclad-etcd-")
            .tempdir()
            .map_err(|e| fatal(Error::backend("creating the etcd data directory", e)))?;
        let ports = free_ports(members * 2).map_err(fatal)?;
        let url = |port: u16| format!("http://127.0.0.1:{port}");
        let peers: Vec<(String, String)> = (0..members)
            .map(|i| (format!("m{i}"), url(ports[members + i])))
            .collect();
        let initial_cluster = peers
            .iter()
            .map(|(name, peer)| format!("{name}={peer}"))
            .collect::<Vec<_>>()
            .join(",");
        let token = format!(
            "ironclad-{}-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
            CLUSTER_SEQ.fetch_add(1, Ordering::Relaxed)
        );

        let mut cluster = EtcdCluster {
            members: Vec::with_capacity(members),
            dir,
        };
        for (i, (name, peer_url)) in peers.iter().enumerate() {
            let client_url = url(ports[i]);
            let data_dir = cluster.dir.path().join(name);
            // etcd 3.4 refuses a data directory others can read.
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&data_dir)
                .map_err(|e| fatal(Error::backend("creating an etcd member directory", e)))?;
            let log = std::fs::File::create(data_dir.join("etcd.log"))
                .map_err(|e| fatal(Error::backend("creating an etcd log file", e)))?;
            let log2 = log
                .try_clone()
                .map_err(|e| fatal(Error::backend("opening an etcd log file", e)))?;
            let mut cmd = Command::new(bin);
            cmd.arg("--name")
                .arg(name)
                .arg("--data-dir")
                .arg(&data_dir)
                .args(["--listen-client-urls", &client_url])
                .args(["--advertise-client-urls", &client_url])
                .args(["--listen-peer-urls", peer_url])
                .args(["--initial-advertise-peer-urls", peer_url])
                .args(["--initial-cluster", &initial_cluster])
                .args(["--initial-cluster-state", "new"])
                .args(["--initial-cluster-token", &token])
                .arg(format!(
                    "--max-request-bytes={}",
                    MAX_VALUE_SIZE + REQUEST_HEADROOM
                ))
                .args(["--logger", "zap", "--log-outputs", "stderr"]);
            if let Some(ms) = options.heartbeat_interval_ms {
                cmd.arg(format!("--heartbeat-interval={ms}"));
            }
            if let Some(ms) = options.election_timeout_ms {
                cmd.arg(format!("--election-timeout={ms}"));
            }
            cmd.args(&options.extra_args);
            // etcd also reads its flags from ETCD_* variables and refuses to
            // start when one shadows a flag given here.
            for (var, _) in std::env::vars_os() {
                if var.to_string_lossy().starts_with("ETCD_") {
                    cmd.env_remove(var);
                }
            }
            cmd.stdin(Stdio::null())
                .stdout(Stdio::from(log))
                .stderr(Stdio::from(log2))
                .kill_on_drop(true);
            let child = cmd.spawn().map_err(|e| {
                fatal(Error::Unavailable(format!(
                    "cannot run etcd binary {} ({e}); install etcd v3 (scripts/setup.sh) or set {ETCD_BIN_ENV}",
                    bin.display()
                )))
            })?;
            cluster.members.push(Member {
                name: name.clone(),
                client_url,
                data_dir,
                child: Some(child),
            });
        }
        cluster.wait_ready().await?;
        Ok(cluster)
    }

    /// Waits until every member serves a linearizable read (which needs
    /// an elected leader and the member caught up with it).
    async fn wait_ready(&mut self) -> Result<(), StartError> {
        let deadline = Instant::now() + START_DEADLINE;
        let mut clients = Vec::with_capacity(self.members.len());
        for m in &self.members {
            let options = etcd_client::ConnectOptions::new()
                .with_connect_timeout(PROBE_TIMEOUT)
                .with_require_leader(true);
            let client = etcd_client::Client::connect([m.client_url.as_str()], Some(options))
                .await
                .map_err(|e| StartError::Fatal(Error::backend("etcd client", e)))?;
            clients.push(Some(client));
        }
        loop {
            for (i, slot) in clients.iter_mut().enumerate() {
                let Some(client) = slot else { continue };
                let probe = tokio::time::timeout(PROBE_TIMEOUT, client.get("ready-probe", None));
                if let Ok(Ok(_)) = probe.await {
                    *slot = None;
                    continue;
                }
                self.check_alive(i)?;
            }
            if clients.iter().all(Option::is_none) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let waiting: Vec<usize> = (0..clients.len())
                    .filter(|&i| clients[i].is_some())
                    .collect();
                let names: Vec<_> = waiting
                    .iter()
                    .map(|&i| self.members[i].name.as_str())
                    .collect();
                let first = waiting.first().copied().unwrap_or(0);
                let excerpt = log_excerpt(&self.log_path(first));
                return Err(StartError::Fatal(Error::Unavailable(format!(
                    "etcd members {names:?} not ready after {START_DEADLINE:?}; {}'s log:\n{excerpt}",
                    self.members[first].name
                ))));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fails if member `i` has exited during start-up.
    fn check_alive(&mut self, i: usize) -> Result<(), StartError> {
        let Some(child) = self.members[i].child.as_mut() else {
            return Ok(());
        };
        let status = match child.try_wait() {
            Ok(None) => return Ok(()),
            Ok(Some(status)) => status.to_string(),
            Err(e) => e.to_string(),
        };
        let excerpt = log_excerpt(&self.log_path(i));
        let e = Error::Unavailable(format!(
            "etcd member {} exited during start-up ({status}); its log:\n{excerpt}",
            self.members[i].name
        ));
        if excerpt.contains("address already in use") {
            Err(StartError::PortTaken(e))
        } else {
            Err(StartError::Fatal(e))
        }
    }

    /// Every member's client URL, killed members included.
    pub fn client_urls(&self) -> Vec<String> {
        self.members.iter().map(|m| m.client_url.clone()).collect()
    }

    /// How many members the cluster was started with.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the cluster has no members (never: [`Self::start`] refuses).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The process id of member `i`; `None` once killed or out of range.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.members.get(i)?.child.as_ref()?.id()
    }

    /// Member `i`'s data directory (its log is `etcd.log` in it).
    pub fn data_dir(&self, i: usize) -> Option<&Path> {
        self.members.get(i).map(|m| m.data_dir.as_path())
    }

    fn log_path(&self, i: usize) -> PathBuf {
        self.members
            .get(i)
            .map(|m| m.data_dir.join("etcd.log"))
            .unwrap_or_default()
    }

    /// Kills member `i` with SIGKILL, as a crash would, and waits for it to
    /// exit. Killing a dead member does nothing.
    pub async fn kill(&mut self, i: usize) -> Result<()> {
        let member = self
            .members
            .get_mut(i)
            .ok_or_else(|| Error::InvalidRequest(format!("no etcd member {i}")))?;
        if let Some(mut child) = member.child.take() {
            // `kill` sends SIGKILL on Unix and reaps the process.
            child
                .kill()
                .await
                .map_err(|e| Error::backend("killing an etcd member", e))?;
        }
        Ok(())
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for m in &mut self.members {
            if let Some(child) = m.child.as_mut() {
                // SIGKILL; tokio reaps the process in the background.
                let _ = child.start_kill();
            }
        }
    }
}

/// `n` distinct free loopback ports. All are held until all are found, so
/// none is picked twice; another process can still take one before etcd
/// binds it, which start-up detects and retries.
fn free_ports(n: usize) -> Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::backend("finding free loopback ports", e))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::backend("finding free loopback ports", e))
}

/// The start and end of a log file, for error messages: etcd states a fatal
/// error last, or first and then its usage text.
fn log_excerpt(path: &Path) -> String {
    const HEAD: usize = 5;
    const TAIL: usize = 15;
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            if lines.len() <= HEAD + TAIL {
                return lines.join("\n");
            }
            let (head, tail) = (&lines[..HEAD], &lines[lines.len() - TAIL..]);
            format!("{}\n[...]\n{}", head.join("\n"), tail.join("\n"))
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

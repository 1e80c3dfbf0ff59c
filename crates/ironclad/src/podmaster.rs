//! `ironclad podmaster`: keep one copy of a set of manifests running in the
//! cluster by copying them into a kubelet's manifest directory only on the
//! node whose podmaster leads an election on etcd.
//!
//! While leading, every regular file of `--source-dir` is copied into
//! `--dest-dir` (atomically: a dot-named temporary file, then a rename, so
//! the kubelet never reads half a manifest and ignores the temporary) and
//! kept in sync by polling every second. On losing leadership, or on
//! SIGTERM/SIGINT, the copies are removed; on shutdown they are removed
//! *before* resigning, so the next leader's copies never run alongside ours.
//! A podmaster killed with SIGKILL leaves its copies behind; the next
//! podmaster started with that `--dest-dir` removes them while it follows.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ironclad_election::{DEFAULT_TTL_SECS, ElectionConfig, Elector, LeaderState, Leadership};
use ironclad_store_etcd::EtcdStore;
use tokio::sync::oneshot;
use tracing::{info, warn};

/// How often the leader re-checks the sources and a follower re-checks that
/// it holds no copies (the seed's podmaster polled the same way).
const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// The election key used when `--key` is not given.
const DEFAULT_KEY: &str = "/ironclad/podmaster/leader";

/// Arguments of `ironclad podmaster`.
#[derive(clap::Args, Debug)]
pub struct PodmasterArgs {
    /// etcd client URLs, comma-separated (e.g. http://10.0.0.1:2379,http://10.0.0.2:2379).
    #[arg(long, value_delimiter = ',', required = true, num_args = 1..)]
    pub etcd_servers: Vec<String>,
    /// The election key every podmaster of this set of manifests shares.
    #[arg(long, default_value = DEFAULT_KEY)]
    pub key: String,
    /// This podmaster's ID, shown to the others as the leader's name
    /// (default: the host name and process ID).
    #[arg(long)]
    pub id: Option<String>,
    /// Lease TTL in seconds: a dead leader is replaced about this long after
    /// it stopped renewing.
    #[arg(long, default_value_t = DEFAULT_TTL_SECS)]
    pub ttl_secs: i64,
    /// Directory of manifests to copy while leading.
    #[arg(long)]
    pub source_dir: PathBuf,
    /// Directory to copy them into (a kubelet's manifest directory).
    #[arg(long)]
    pub dest_dir: PathBuf,
}

/// Runs the podmaster until `shutdown` completes; then removes its copies,
/// resigns, and returns. Fails if etcd cannot be reached at start or the
/// election stops with an error.
pub async fn run(args: PodmasterArgs, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let id = args.id.clone().unwrap_or_else(default_id);
    let config = ElectionConfig::new(args.key.clone(), id.clone()).with_ttl_secs(args.ttl_secs);
    let store = EtcdStore::connect(&args.etcd_servers)
        .await
        .with_context(|| format!("connecting to etcd at {}", args.etcd_servers.join(",")))?;
    let elector = Elector::new(Arc::new(store), config)?;
    let leadership = elector.leadership();
    let (resign, resigned) = oneshot::channel::<()>();
    let mut election = tokio::spawn(elector.run(async move {
        let _ = resigned.await;
    }));
    info!(id, key = args.key, source = %args.source_dir.display(), dest = %args.dest_dir.display(),
        "podmaster: started");

    let mut copier = Copier::new(args.source_dir, args.dest_dir);
    let mut state = leadership.subscribe();
    let mut tick = tokio::time::interval(SYNC_INTERVAL);
    let mut shutdown = std::pin::pin!(shutdown);
    let outcome = loop {
        tokio::select! {
            _ = &mut shutdown => break Ok(()),
            ended = &mut election => break Err(match ended {
                Ok(Ok(())) => anyhow::anyhow!("the election stopped unexpectedly"),
                Ok(Err(e)) => anyhow::Error::new(e).context("the election failed"),
                Err(e) => anyhow::Error::new(e).context("the election task failed"),
            }),
            changed = state.changed() => {
                if changed.is_ok() {
                    log_state(&state.borrow_and_update());
                }
            }
            _ = tick.tick() => {}
        }
        // On every wake-up, not only on state changes: after the process
        // was stopped past its deadline the state is stale, `is_leader` not.
        copier.reconcile(&leadership);
    };

    // Stop acting before letting go: the copies go first, then the key.
    copier.clear();
    let _ = resign.send(());
    if !election.is_finished() {
        match election.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "podmaster: election ended with an error"),
            Err(e) => warn!(error = %e, "podmaster: election task failed"),
        }
    }
    info!(id, "podmaster: stopped");
    outcome
}

fn log_state(state: &LeaderState) {
    match state {
        LeaderState::Leader { token } => info!(token, "podmaster: leading; copying manifests"),
        LeaderState::Follower {
            leader: Some(leader),
        } => {
            info!(leader = leader.as_str(), "podmaster: following")
        }
        LeaderState::Follower { leader: None } => info!("podmaster: following; no leader yet"),
    }
}

/// `<hostname>-<pid>`: unique per process, and says which node leads.
fn default_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "podmaster".to_owned());
    format!("{host}-{}", std::process::id())
}

/// Copies manifests while leading and removes them otherwise. File I/O is
/// plain blocking `std::fs`: manifests are a few small files, cheaper to
/// touch in place than to hand to a blocking thread.
struct Copier {
    source: PathBuf,
    dest: PathBuf,
    /// Names this process copied into `dest` (and has not removed).
    copied: BTreeSet<String>,
    /// The last error logged, so a persistent one is logged once, not every second.
    last_error: Option<String>,
}

impl Copier {
    fn new(source: PathBuf, dest: PathBuf) -> Self {
        Copier {
            source,
            dest,
            copied: BTreeSet::new(),
            last_error: None,
        }
    }

    fn reconcile(&mut self, leadership: &Leadership) {
        if !leadership.is_leader() {
            self.clear();
            return;
        }
        match self.sync(leadership) {
            Ok(()) => self.last_error = None,
            Err(e) => {
                let msg = format!("{e:#}");
                if self.last_error.as_ref() != Some(&msg) {
                    warn!(error = msg, "podmaster: could not sync manifests");
                    self.last_error = Some(msg);
                }
            }
        }
    }

    /// The names of the regular files in the source directory (following
    /// symlinks, as ConfigMap mounts use them; skipping dot-files, which
    /// are editors' and our own temporaries).
    fn sources(&self) -> anyhow::Result<BTreeSet<String>> {
        let dir = std::fs::read_dir(&self.source)
            .with_context(|| format!("reading {}", self.source.display()))?;
        let mut names = BTreeSet::new();
        for entry in dir {
            let entry = entry.with_context(|| format!("reading {}", self.source.display()))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            if std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
                names.insert(name);
            }
        }
        Ok(names)
    }

    /// Brings the destination in line with the sources: copies new and
    /// changed files, removes copies whose source is gone.
    fn sync(&mut self, leadership: &Leadership) -> anyhow::Result<()> {
        let names = self.sources()?;
        for name in &names {
            let src = self.source.join(name);
            let content =
                std::fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
            let dst = self.dest.join(name);
            if std::fs::read(&dst).ok().as_deref() == Some(content.as_slice()) {
                self.copied.insert(name.clone());
                continue;
            }
            let tmp = self.dest.join(format!(".{name}.podmaster-tmp"));
            std::fs::write(&tmp, &content).with_context(|| format!("writing {}", tmp.display()))?;
            // The act itself is the rename; check right before it, as the
            // term may have lapsed while the file was being written.
            if !leadership.is_leader() {
                remove(&tmp);
                return Ok(());
            }
            std::fs::rename(&tmp, &dst)
                .with_context(|| format!("renaming to {}", dst.display()))?;
            self.copied.insert(name.clone());
            info!(file = %dst.display(), "podmaster: copied manifest");
        }
        let gone: Vec<String> = self.copied.difference(&names).cloned().collect();
        for name in gone {
            remove(&self.dest.join(&name));
            self.copied.remove(&name);
        }
        Ok(())
    }

    /// Removes every copy: those this process made, and any file in the
    /// destination named like a source (left by an earlier podmaster run
    /// with this destination that was killed before it could clean up).
    fn clear(&mut self) {
        let mut names = std::mem::take(&mut self.copied);
        names.extend(self.sources().unwrap_or_default());
        for name in names {
            let dst = self.dest.join(&name);
            if remove(&dst) {
                info!(file = %dst.display(), "podmaster: removed manifest");
            }
        }
    }
}

/// Removes a file; returns whether it was there.
fn remove(path: &Path) -> bool {
    match std::fs::remove_file(path) {
        Ok(()) => true,
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => {
            warn!(file = %path.display(), error = %e, "podmaster: could not remove");
            false
        }
    }
}

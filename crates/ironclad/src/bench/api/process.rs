//! The server under test as its own process — `ironclad server` from this
//! very binary — so that its memory is its own and it runs on its own
//! runtime, as it does in production.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use super::credentials::Credentials;
use super::http::Api;
use crate::bench::rss_mib;

/// How long the server may take to answer `/readyz`.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// How long it may take to stop on SIGTERM before it is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(15);

/// A running `ironclad server`. Killed if dropped without [`Self::stop`].
pub struct ServerProcess {
    child: Child,
    pid: u32,
    api: Api,
    // Declared last: removed after the process is gone.
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts a server on a fresh data directory and a free loopback port,
    /// on the embedded store or on `etcd_servers`; returns once it is ready
    /// and a client with the admin certificate of its `admin.kubeconfig`
    /// got an answer from it.
    pub async fn start(etcd_servers: &[String]) -> anyhow::Result<ServerProcess> {
        let dir = tempfile::Builder::new()
            .prefix("ironclad-bench-api-")
            .tempdir()
            .context("temp dir")?;
        let port = free_port()?;
        let log = dir.path().join("server.log");
        let data = dir.path().join("data");
        let exe = std::env::current_exe().context("find the ironclad binary")?;
        let mut cmd = Command::new(exe);
        cmd.arg("server")
            .arg("--data-dir")
            .arg(&data)
            .arg("--api-port")
            .arg(port.to_string());
        if !etcd_servers.is_empty() {
            cmd.arg("--etcd-servers").arg(etcd_servers.join(","));
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).context("create the server log")?)
            .kill_on_drop(true)
            .spawn()
            .context("start `ironclad server`")?;
        let pid = child.id().context("the server exited at once")?;
        let api = wait_ready(&mut child, &data.join("admin.kubeconfig"), &log).await?;
        Ok(ServerProcess {
            child,
            pid,
            api,
            _dir: dir,
        })
    }

    /// A client of it, with the admin certificate (`system:masters`).
    pub fn api(&self) -> Api {
        self.api.clone()
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Stops it with SIGTERM (as an operator would), and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let pid = i32::try_from(self.pid).context("pid")?;
        kill(Pid::from_raw(pid), Signal::SIGTERM).context("signal the server")?;
        match tokio::time::timeout(STOP_DEADLINE, self.child.wait()).await {
            Ok(status) => {
                status?;
                Ok(())
            }
            Err(_) => {
                self.child.kill().await?;
                anyhow::bail!("`ironclad server` did not stop within {STOP_DEADLINE:?} of SIGTERM")
            }
        }
    }
}

/// Waits for the server to write its admin kubeconfig (the last thing it
/// does before it says it is ready) and to answer `/readyz` over TLS;
/// returns a client with the kubeconfig's credentials.
async fn wait_ready(child: &mut Child, kubeconfig: &Path, log: &Path) -> anyhow::Result<Api> {
    let deadline = Instant::now() + START_DEADLINE;
    let mut api = None;
    loop {
        if api.is_none() && kubeconfig.exists() {
            let creds = Credentials::from_kubeconfig(kubeconfig)?;
            api = Some(Api::new(&creds)?);
        }
        if let Some(api) = &api
            && api.ready().await
        {
            return Ok(api.clone());
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("`ironclad server` exited ({status}): {}", log_tail(log));
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "`ironclad server` not ready after {START_DEADLINE:?}: {}",
                log_tail(log)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The end of the server's log, for an error.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let start = text.len().saturating_sub(2000);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!("its log ends: {}", &text[start..])
}

/// A loopback port nobody listens on (a moment ago).
fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(l.local_addr()?.port())
}

/// A process's RSS in MiB once it has settled: read every half second
/// until two readings in a row are within 1 % of each other.
pub async fn settled_rss(pid: u32) -> anyhow::Result<f64> {
    // Let background work that follows a burst of writes (checkpoints,
    // compaction ticks, freed buffers) run first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let read = || rss_mib(pid).with_context(|| format!("read /proc/{pid}/status"));
    let mut last = read()?;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = read()?;
        if (now - last).abs() <= last * 0.01 {
            return Ok(now);
        }
        last = now;
    }
    Ok(last)
}

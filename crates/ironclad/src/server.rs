//! `ironclad server` and `ironclad up`: what a control-plane server runs
//! today — the store (embedded, or etcd for HA), the server election, the
//! Kubernetes API server, and the controller-manager and scheduler (each
//! elected through its Lease, so with several servers one of each acts) —
//! and the admin kubeconfig it writes. The agent lands in its own issue.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use ironclad_election::{ElectionConfig, Elector, LeaderState};
use ironclad_store::Store;
use ironclad_store_embedded::{Config, EmbeddedStore};
use ironclad_store_etcd::EtcdStore;

use ironclad_apiserver::ApiServer;
use prometheus_client::metrics::gauge::Gauge;
use std::sync::atomic::AtomicI64;

/// The store key the servers of one cluster elect their leader on.
pub const SERVER_ELECTION_KEY: &str = "/ironclad/election/server";

/// Options of `ironclad server`.
#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// Where the server keeps its state (store, certificates, kubeconfigs).
    #[arg(long, default_value = "/var/lib/ironclad")]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind_address: IpAddr,
    /// Port of the API (0: any free port, shown in the output and the
    /// kubeconfig).
    #[arg(long, default_value_t = 6443)]
    pub api_port: u16,
    /// etcd client URLs, comma-separated; without them the embedded store is used.
    #[arg(long, value_delimiter = ',')]
    pub etcd_servers: Vec<String>,
    /// Run no agent in this process (the only mode until the agent exists).
    #[arg(long)]
    pub disable_agent: bool,
}

/// Options of `ironclad up`.
#[derive(Args, Debug, Clone)]
pub struct UpArgs {
    /// Where the cluster keeps its state; a second `up` on it resumes the cluster.
    #[arg(long, default_value = "/var/lib/ironclad")]
    pub data_dir: PathBuf,
    /// Port of the API (0: any free port, shown in the output and the
    /// kubeconfig).
    #[arg(long, default_value_t = 6443)]
    pub api_port: u16,
}

impl UpArgs {
    /// `up` is a server on the embedded store, on loopback.
    pub fn into_server(self) -> ServerArgs {
        ServerArgs {
            data_dir: self.data_dir,
            bind_address: IpAddr::from([127, 0, 0, 1]),
            api_port: self.api_port,
            etcd_servers: Vec::new(),
            disable_agent: false,
        }
    }
}

/// Runs a server until `shutdown` resolves.
pub async fn run(args: ServerArgs, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let phase = |n: u32, what: &str| println!("[{n}/5] {what}");
    if !args.bind_address.is_loopback() {
        anyhow::bail!(
            "--bind-address {}: until TLS and authentication land, the API is served over plain HTTP \
             without authentication, so only on a loopback address (e.g. 127.0.0.1)",
            args.bind_address
        );
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("create {}", args.data_dir.display()))?;

    let (store, embedded): (Arc<dyn Store>, Option<Arc<EmbeddedStore>>) =
        if args.etcd_servers.is_empty() {
            let dir = args.data_dir.join("store");
            phase(1, &format!("store: embedded, in {}", dir.display()));
            let s = Arc::new(
                EmbeddedStore::open(&dir, Config::default())
                    .await
                    .context("open the embedded store")?,
            );
            (s.clone(), Some(s))
        } else {
            phase(
                1,
                &format!("store: etcd at {}", args.etcd_servers.join(",")),
            );
            let s = EtcdStore::connect(&args.etcd_servers)
                .await
                .context("connect to etcd")?;
            (Arc::new(s), None)
        };
    let status = store.status().await.context("read the store status")?;
    println!("      store answers at revision {}", status.revision);

    let id = server_id(&args)?;
    phase(
        2,
        &format!("election: joining {SERVER_ELECTION_KEY} as {id}"),
    );
    let elector = Elector::new(store.clone(), ElectionConfig::new(SERVER_ELECTION_KEY, &id))?;
    let leadership = elector.leadership();
    let (stop_election, election_stopped) = tokio::sync::oneshot::channel::<()>();
    let election = tokio::spawn(elector.run(async move {
        let _ = election_stopped.await;
    }));

    let wanted = SocketAddr::new(args.bind_address, args.api_port);
    let listener = tokio::net::TcpListener::bind(wanted)
        .await
        .with_context(|| format!("listen on {wanted}"))?;
    let addr = listener
        .local_addr()
        .context("read the listening address")?;
    phase(3, &format!("API server: http://{addr}"));
    let api = ApiServer::new(
        store.clone(),
        ironclad_apiserver::Config::new(args.bind_address, addr.port()),
    )
    .await
    .context("start the API server")?;
    let store_revision = Gauge::<i64, AtomicI64>::default();
    let is_leader = Gauge::<i64, AtomicI64>::default();
    api.metrics().with_registry(|r| {
        r.register(
            "ironclad_store_revision",
            "Current revision of the cluster store",
            store_revision.clone(),
        );
        r.register(
            "ironclad_leader",
            "1 while this server holds the leader election",
            is_leader.clone(),
        );
    });
    let http = tokio::spawn(axum::serve(listener, api.router()).into_future());
    phase(
        4,
        &format!("control loops: controller-manager and scheduler, campaigning as {id}"),
    );
    let loops = crate::control::Loops::start(
        crate::control::client_for_url(&format!("http://{addr}"))?,
        &id,
    )?;
    let kubeconfig = args.data_dir.join("admin.kubeconfig");
    phase(5, &format!("kubeconfig: {}", kubeconfig.display()));
    write_kubeconfig(&kubeconfig, &format!("http://{addr}"))?;
    println!(
        "ironclad server {id}: ready. Try: kubectl --kubeconfig {} get namespaces",
        kubeconfig.display()
    );

    let watch_health = {
        let store = store.clone();
        let mut states = leadership.subscribe();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Ok(st) = store.status().await {
                            store_revision.set(st.revision);
                        }
                    }
                    changed = states.changed() => {
                        if changed.is_err() { return; }
                        let state = states.borrow_and_update().clone();
                        let leading = matches!(state, LeaderState::Leader { .. });
                        is_leader.set(i64::from(leading));
                        println!("      election: {state}");
                    }
                }
            }
        })
    };

    shutdown.await;
    println!("ironclad server {id}: stopping");
    api.set_ready(false);
    loops.stop().await;
    if let Err(e) = api.withdraw().await {
        eprintln!("      could not withdraw from the kubernetes endpoints: {e}");
    }
    let _ = stop_election.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), election).await;
    watch_health.abort();
    http.abort();
    // The aborted task holds a store handle until it has really stopped;
    // wait for it so the store below is closed (and checkpointed) cleanly.
    let _ = watch_health.await;
    let _ = http.await;
    drop(api);
    drop(store);
    if let Some(s) = embedded.and_then(|s| Arc::try_unwrap(s).ok()) {
        s.close().await.context("close the store")?;
    }
    println!("ironclad server {id}: stopped");
    Ok(())
}

/// Writes the admin kubeconfig (mode 0600: it is the key to the cluster
/// once credentials are in it).
fn write_kubeconfig(path: &std::path::Path, server: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: ironclad\n  cluster:\n    server: {server}\n\
         contexts:\n- name: ironclad\n  context:\n    cluster: ironclad\n    user: admin\n    namespace: default\n\
         current-context: ironclad\nusers:\n- name: admin\n  user: {{}}\n"
    );
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("write {}", tmp.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("write {}", path.display()))?;
    Ok(())
}

/// A stable ID for this server: kept in the data directory, made once from
/// the host name and a random suffix.
fn server_id(args: &ServerArgs) -> anyhow::Result<String> {
    let path = args.data_dir.join("server-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim().to_string();
        if !id.is_empty() {
            return Ok(id);
        }
    }
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "server".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let id = format!("{host}-{:06x}", (nanos ^ std::process::id()) & 0xff_ffff);
    std::fs::write(&path, &id).with_context(|| format!("write {}", path.display()))?;
    Ok(id)
}

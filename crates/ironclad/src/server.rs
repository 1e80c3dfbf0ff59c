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
    #[command(flatten)]
    pub security: SecurityArgs,
}

/// Security options of a server (upstream's kube-apiserver flag names).
#[derive(Args, Debug, Clone, Default)]
pub struct SecurityArgs {
    /// The cluster's join token (`<id>.<secret>`): servers that join an
    /// existing cluster need the first server's (its DATA_DIR/token).
    #[arg(long, env = "IRONCLAD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Extra names or addresses for the serving certificate.
    #[arg(long = "tls-san", value_delimiter = ',')]
    pub tls_san: Vec<String>,
    /// Authorizers, in order: Node, RBAC, ABAC, AlwaysAllow, AlwaysDeny.
    #[arg(long, default_value = "Node,RBAC")]
    pub authorization_mode: String,
    /// ABAC policy file (one JSON policy per line).
    #[arg(long)]
    pub authorization_policy_file: Option<PathBuf>,
    /// Static bearer tokens (CSV: token,user,uid,"group1,group2").
    #[arg(long)]
    pub token_auth_file: Option<PathBuf>,
    /// Serve requests without credentials as system:anonymous.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    pub anonymous_auth: bool,
    /// Encryption at rest (apiserver.config.k8s.io/v1
    /// EncryptionConfiguration); default: secrets with aescbc under the
    /// cluster's shared key.
    #[arg(long)]
    pub encryption_provider_config: Option<PathBuf>,
    /// Audit log file (JSON lines; "-" for standard output).
    #[arg(long)]
    pub audit_log_path: Option<PathBuf>,
    /// Audit policy (audit.k8s.io/v1 Policy); default: every request at Metadata.
    #[arg(long)]
    pub audit_policy_file: Option<PathBuf>,
    /// Issuer of service-account tokens.
    #[arg(long, default_value = "https://kubernetes.default.svc.cluster.local")]
    pub service_account_issuer: String,
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
    #[command(flatten)]
    pub security: SecurityArgs,
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
            security: self.security,
        }
    }
}

/// Runs a server until `shutdown` resolves.
pub async fn run(args: ServerArgs, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let phase = |n: u32, what: &str| println!("[{n}/6] {what}");
    ironclad_apiserver::tls::install_crypto_provider();
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("create {}", args.data_dir.display()))?;

    let (raw_store, embedded): (Arc<dyn Store>, Option<Arc<EmbeddedStore>>) =
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
    let status = raw_store.status().await.context("read the store status")?;
    println!("      store answers at revision {}", status.revision);

    let pki = Arc::new(ironclad_pki::PkiDir::new(&args.data_dir));
    let joined =
        crate::cluster::join(raw_store.as_ref(), &pki, args.security.token.as_deref()).await?;
    phase(
        2,
        &format!(
            "PKI: {} the cluster CA, in {}",
            if joined.minted { "minted" } else { "joined" },
            args.data_dir.join("pki").display()
        ),
    );
    let security = crate::security::Security::load(&args.security, &joined)?;
    let store = raw_store.clone();

    let id = server_id(&args)?;
    phase(
        3,
        &format!("election: joining {SERVER_ELECTION_KEY} as {id}"),
    );
    let elector = Elector::new(
        raw_store.clone(),
        ElectionConfig::new(SERVER_ELECTION_KEY, &id),
    )?;
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
    let advertise = advertise_address(args.bind_address);
    let mut addresses = vec![advertise];
    if args.bind_address != advertise && !args.bind_address.is_unspecified() {
        addresses.push(args.bind_address);
    }
    let mut api_config = ironclad_apiserver::Config::new(advertise, addr.port());
    let service_ip = ironclad_apiserver::services::first_ip(&api_config.service_cidr)
        .context("the service CIDR")?;
    let serving_spec = ironclad_pki::serving_spec(&addresses, service_ip, &args.security.tls_san);
    let certs = crate::cluster::certificates(&pki, &joined.ca, &serving_spec)?;
    api_config.auth = Some(security.auth.clone());
    api_config.audit = security.audit;
    api_config.encryption = Some(Arc::new(security.transformers));
    let url = format!(
        "https://{}",
        SocketAddr::new(local_ip(args.bind_address), addr.port())
    );
    phase(4, &format!("API server: {url}"));
    let api = ApiServer::new(store.clone(), api_config)
        .await
        .context("start the API server")?;
    crate::security::ensure_join_token(&api, &joined.token).await?;
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
    let serving =
        ironclad_apiserver::tls::ServingCert::new(&certs.serving.cert_pem, &certs.serving.key_pem)?;
    let tls = ironclad_apiserver::tls::server_config(serving.clone(), &joined.secrets.ca_cert_pem)?;
    let http = tokio::spawn(ironclad_apiserver::tls::serve(
        listener,
        tls,
        api.router(),
        Default::default(),
    ));
    let rotation = tokio::spawn(crate::cluster::rotate_serving(
        pki.clone(),
        joined.ca.clone(),
        serving_spec,
        serving,
    ));
    phase(
        5,
        &format!("control loops: controller-manager and scheduler, campaigning as {id}"),
    );
    let ca_pem = joined.secrets.ca_cert_pem.clone();
    let cm = crate::cluster::kubeconfig(
        &url,
        &ca_pem,
        "system:kube-controller-manager",
        &certs.controller_manager,
    );
    let sched =
        crate::cluster::kubeconfig(&url, &ca_pem, "system:kube-scheduler", &certs.scheduler);
    let loops = crate::control::Loops::start(
        crate::cluster::client(&cm)?,
        crate::cluster::client(&sched)?,
        &id,
        crate::security::controller_config(&joined),
        Some(Arc::new(crate::security::CaSigner(joined.ca.clone()))),
    )?;
    let kubeconfig = args.data_dir.join("admin.kubeconfig");
    phase(6, &format!("kubeconfig: {}", kubeconfig.display()));
    let admin = crate::cluster::kubeconfig(&url, &ca_pem, "admin", &certs.admin);
    admin
        .write(&kubeconfig)
        .with_context(|| format!("write {}", kubeconfig.display()))?;
    println!(
        "ironclad server {id}: ready. Try: kubectl --kubeconfig {} get namespaces",
        kubeconfig.display()
    );

    let watch_health = {
        let store = raw_store.clone();
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
    api.close_audit().await;
    let _ = stop_election.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), election).await;
    watch_health.abort();
    http.abort();
    rotation.abort();
    // The aborted task holds a store handle until it has really stopped;
    // wait for it so the store below is closed (and checkpointed) cleanly.
    let _ = watch_health.await;
    let _ = http.await;
    let _ = rotation.await;
    drop(api);
    drop(store);
    drop(raw_store);
    if let Some(s) = embedded.and_then(|s| Arc::try_unwrap(s).ok()) {
        s.close().await.context("close the store")?;
    }
    println!("ironclad server {id}: stopped");
    Ok(())
}

/// The address other components reach this server at: the bind address,
/// or for a wildcard bind the host's first non-loopback address.
fn advertise_address(bind: IpAddr) -> IpAddr {
    if !bind.is_unspecified() {
        return bind;
    }
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| {
            s.connect("10.255.255.255:9")?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// The address this process's own clients use: loopback for a wildcard bind.
fn local_ip(bind: IpAddr) -> IpAddr {
    if bind.is_unspecified() {
        IpAddr::from([127, 0, 0, 1])
    } else {
        bind
    }
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

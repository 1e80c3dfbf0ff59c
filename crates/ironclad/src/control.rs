//! The control loops a server runs beside its API server — the
//! controller-manager and the scheduler, each elected through its Lease —
//! and `ironclad controller-manager` / `ironclad scheduler`, which run one
//! of them alone against any API server, with their own health and metrics
//! endpoints.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicI64;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use clap::Args;
use ironclad_controllers::{Context, ControllerManager};
use ironclad_leader::{LeaseConfig, LeaseElector, while_leading};
use ironclad_scheduler::Scheduler;
use kube::Client;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::sync::watch;

/// A client from a kubeconfig file.
pub async fn client_from_kubeconfig(path: &PathBuf) -> anyhow::Result<Client> {
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .with_context(|| format!("read {}", path.display()))?;
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .with_context(|| format!("use {}", path.display()))?;
    Client::try_from(config).context("build the API client")
}

/// The controller-manager and the scheduler of a server, running until
/// [`Loops::stop`].
pub struct Loops {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Resolves once `true` is sent.
async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

impl Loops {
    /// Starts both, campaigning as `identity`: the controller-manager with
    /// `controllers` (its own identity's client, and its configuration), the
    /// scheduler with `scheduler`.
    pub fn start(
        controllers: Client,
        scheduler: Client,
        identity: &str,
        config: ironclad_controllers::Config,
        signer: Option<std::sync::Arc<dyn ironclad_controllers::CsrSigner>>,
    ) -> anyhow::Result<Loops> {
        let (stop, rx) = watch::channel(false);
        let mut tasks = Vec::new();
        for which in [Component::ControllerManager, Component::Scheduler] {
            let client = match which {
                Component::ControllerManager => controllers.clone(),
                Component::Scheduler => scheduler.clone(),
            };
            let mut elected = Elected::new(which, client, identity, config.clone())?;
            elected.signer = signer.clone();
            let mut leading = elected.elector.subscribe();
            tasks.push(tokio::spawn(elected.run(stopped(rx.clone()))));
            tasks.push(tokio::spawn(async move {
                while leading.changed().await.is_ok() {
                    let now = *leading.borrow_and_update();
                    println!(
                        "      {}: {}",
                        which.name(),
                        if now { "leading" } else { "standing by" }
                    );
                }
            }));
        }
        Ok(Loops { stop, tasks })
    }

    /// Stops both, releasing their Leases so a standby takes over at once.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
        }
    }
}

/// One component's election and the work it runs while elected.
struct Elected {
    which: Component,
    client: Client,
    elector: LeaseElector,
    config: ironclad_controllers::Config,
    signer: Option<std::sync::Arc<dyn ironclad_controllers::CsrSigner>>,
}

impl Elected {
    fn new(
        which: Component,
        client: Client,
        identity: &str,
        config: ironclad_controllers::Config,
    ) -> anyhow::Result<Elected> {
        let lease = match which {
            Component::ControllerManager => ironclad_controllers::manager::LEASE_NAME,
            Component::Scheduler => ironclad_scheduler::LEASE_NAME,
        };
        let elector = LeaseElector::new(client.clone(), LeaseConfig::new(lease, identity))?;
        Ok(Elected {
            which,
            client,
            elector,
            config,
            signer: None,
        })
    }

    /// Campaigns until `shutdown`; the work runs only while leading and
    /// is aborted the moment leadership is lost.
    async fn run(self, shutdown: impl Future<Output = ()>) {
        let leading = self.elector.subscribe();
        let client = self.client.clone();
        let work = match self.which {
            Component::ControllerManager => {
                let mut ctx = Context::new(client, self.config.clone());
                if let Some(signer) = self.signer.clone() {
                    ctx = ctx.with_csr_signer(signer);
                }
                tokio::spawn(while_leading(leading, move || {
                    ControllerManager::run_all(ctx.clone())
                }))
            }
            Component::Scheduler => tokio::spawn(while_leading(leading, move || {
                Scheduler::run(client.clone(), ironclad_scheduler::Config::default())
            })),
        };
        self.elector.run(shutdown).await;
        let _ = work.await;
    }
}

/// Options of `ironclad controller-manager` and `ironclad scheduler`.
#[derive(Args, Debug, Clone)]
pub struct ComponentArgs {
    /// The kubeconfig to reach the API server with.
    #[arg(long)]
    pub kubeconfig: PathBuf,
    /// The identity to campaign as (default: host name and process ID).
    #[arg(long)]
    pub identity: Option<String>,
    /// Address of /healthz, /readyz and /metrics (upstream: 127.0.0.1:10257
    /// for the controller-manager, 127.0.0.1:10259 for the scheduler).
    #[arg(long)]
    pub health_address: Option<SocketAddr>,
}

/// Which loop a standalone component runs.
#[derive(Debug, Clone, Copy)]
pub enum Component {
    /// `ironclad controller-manager`.
    ControllerManager,
    /// `ironclad scheduler`.
    Scheduler,
}

impl Component {
    fn name(self) -> &'static str {
        match self {
            Component::ControllerManager => "controller-manager",
            Component::Scheduler => "scheduler",
        }
    }

    fn default_health(self) -> SocketAddr {
        let port = match self {
            Component::ControllerManager => 10257,
            Component::Scheduler => 10259,
        };
        SocketAddr::from(([127, 0, 0, 1], port))
    }
}

/// Runs one component alone until `shutdown`.
pub async fn run_component(
    which: Component,
    args: ComponentArgs,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let client = client_from_kubeconfig(&args.kubeconfig).await?;
    client
        .apiserver_version()
        .await
        .context("reach the API server")?;
    let identity = args.identity.clone().unwrap_or_else(default_identity);
    let health = args.health_address.unwrap_or(which.default_health());
    let listener = tokio::net::TcpListener::bind(health)
        .await
        .with_context(|| format!("listen on {health}"))?;
    let leader = Gauge::<i64, AtomicI64>::default();
    let mut registry = Registry::default();
    registry.register(
        "ironclad_leader",
        "1 while this process holds its Lease",
        leader.clone(),
    );
    let registry = std::sync::Arc::new(registry);
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }))
        .route("/livez", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(move || {
                let registry = registry.clone();
                async move {
                    let mut out = String::new();
                    let _ = encode(&mut out, &registry);
                    out
                }
            }),
        );
    let http = tokio::spawn(axum::serve(listener, app).into_future());
    println!(
        "ironclad {} {identity}: health on http://{health}; campaigning",
        which.name()
    );

    // The CA the kubeconfig trusts is the cluster's: published in every
    // namespace as kube-root-ca.crt.
    let config = ironclad_controllers::Config {
        root_ca_pem: ironclad_pki::ca_of_kubeconfig(&args.kubeconfig).ok(),
        ..Default::default()
    };
    let elected = Elected::new(which, client, &identity, config)?;
    let mut leading = elected.elector.subscribe();
    let name = which.name();
    let report = async move {
        while leading.changed().await.is_ok() {
            let now = *leading.borrow_and_update();
            leader.set(i64::from(now));
            println!(
                "      {name}: {}",
                if now { "leading" } else { "standing by" }
            );
        }
    };
    tokio::select! {
        _ = elected.run(shutdown) => {}
        _ = report => {}
    }
    http.abort();
    println!("ironclad {name} {identity}: stopped");
    Ok(())
}

fn default_identity() -> String {
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "ironclad".into());
    format!("{host}_{}", std::process::id())
}

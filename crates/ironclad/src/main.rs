//! The ironclad binary: one program for every role. Each subcommand wires
//! library crates together; the logic lives in the crates.

mod bench;
mod cluster;
mod control;
mod pki;
mod podmaster;
mod security;
mod server;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// ironclad: a Kubernetes-compatible, highly available cluster orchestrator.
#[derive(Parser, Debug)]
#[command(name = "ironclad", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// A single-node cluster on the embedded store (server + agent).
    Up(server::UpArgs),
    /// A control-plane server (embedded store, or etcd with --etcd-servers).
    Server(server::ServerArgs),
    /// The controller-manager alone, against the API server of a kubeconfig.
    ControllerManager(control::ComponentArgs),
    /// The scheduler alone, against the API server of a kubeconfig.
    Scheduler(control::ComponentArgs),
    /// Copy manifests into a directory while holding a leader election on etcd.
    Podmaster(podmaster::PodmasterArgs),
    /// The cluster PKI: issue user certificates and kubeconfigs.
    Pki(pki::PkiArgs),
    /// Benchmarks, side by side with a baseline measured in the same run.
    Bench(bench::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("IRONCLAD_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Command::Pki(args) = cli.command {
        return pki::run(args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Up(args) => server::run(args.into_server(), shutdown_signal()).await,
            Command::Server(args) => server::run(args, shutdown_signal()).await,
            Command::ControllerManager(args) => {
                control::run_component(
                    control::Component::ControllerManager,
                    args,
                    shutdown_signal(),
                )
                .await
            }
            Command::Scheduler(args) => {
                control::run_component(control::Component::Scheduler, args, shutdown_signal()).await
            }
            Command::Podmaster(args) => podmaster::run(args, shutdown_signal()).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Pki(_) => Ok(()),
        }
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

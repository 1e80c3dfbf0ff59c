//! `ironclad pki`: certificates signed by the cluster CA, for people and
//! components, as kubeconfig files.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};

/// `ironclad pki ...`.
#[derive(Args, Debug)]
pub struct PkiArgs {
    #[command(subcommand)]
    command: PkiCommand,
}

#[derive(Subcommand, Debug)]
enum PkiCommand {
    /// A client certificate for a user (CN = user, O = groups), as a kubeconfig.
    Issue(IssueArgs),
}

#[derive(Args, Debug)]
struct IssueArgs {
    /// The server's data directory (its CA is in DIR/pki).
    #[arg(long, default_value = "/var/lib/ironclad")]
    data_dir: PathBuf,
    /// The user name (the certificate's CN).
    #[arg(long)]
    user: String,
    /// A group (the certificate's O); repeat for several.
    #[arg(long = "group")]
    groups: Vec<String>,
    /// Where to write the kubeconfig (mode 0600).
    #[arg(long)]
    kubeconfig: PathBuf,
    /// The API server URL (default: the one in DIR/admin.kubeconfig).
    #[arg(long)]
    server: Option<String>,
    /// How long the certificate is valid, in days.
    #[arg(long, default_value_t = 365)]
    days: u64,
}

/// Runs `ironclad pki`.
pub fn run(args: PkiArgs) -> anyhow::Result<()> {
    match args.command {
        PkiCommand::Issue(a) => {
            if a.user.trim().is_empty() {
                anyhow::bail!("--user must not be empty");
            }
            ironclad_pki::issue_user(
                &a.data_dir,
                &a.user,
                &a.groups,
                &a.kubeconfig,
                a.server.as_deref(),
                Duration::from_secs(a.days.max(1) * 24 * 3600),
            )
            .with_context(|| format!("issue a certificate for {:?}", a.user))?;
            println!(
                "wrote {} for user {:?}{}",
                a.kubeconfig.display(),
                a.user,
                if a.groups.is_empty() {
                    String::new()
                } else {
                    format!(" in groups {}", a.groups.join(","))
                }
            );
            Ok(())
        }
    }
}

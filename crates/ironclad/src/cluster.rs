//! What makes several servers one cluster: the CA, the service-account key
//! and the encryption key, shared through the store sealed with the
//! cluster's join token (as k3s does). The first server to start mints
//! them and publishes them with a compare-and-swap, so two servers
//! starting together cannot both mint a CA; every later server opens the
//! published bundle with the token and so issues and accepts the same
//! certificates and tokens.
//!
//! Then each server's own certificates: its serving certificate (every
//! address it answers on, the cluster service IP, the `kubernetes`
//! names), and client certificates for the admin and for its
//! controller-manager and scheduler; each is re-issued when it nears
//! expiry.

#[cfg(test)]
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ironclad_pki::{Ca, ClusterSecrets, Ensured, JoinToken, PkiDir};
use ironclad_store::{Compare, Op, Store, Txn};

/// Where the sealed bundle lives in the store.
pub const SECRETS_KEY: &str = "/ironclad/cluster/secrets";

/// Leaf certificates are re-issued this long before they expire.
pub const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);

/// The cluster's shared secrets, and how this server came by them.
pub struct Joined {
    /// The secrets.
    pub secrets: ClusterSecrets,
    /// The CA, ready to issue.
    pub ca: Ca,
    /// The join token.
    pub token: JoinToken,
    /// Whether this server minted them (the first server of the cluster).
    pub minted: bool,
}

/// Reads or mints the cluster secrets, agreeing with the store.
pub async fn join(store: &dyn Store, pki: &PkiDir, token: Option<&str>) -> anyhow::Result<Joined> {
    let given = token
        .map(|t| JoinToken::parse(t.trim()).context("--token"))
        .transpose()?;
    let existing_token = pki.read_token().context("read the join token")?;
    let published = store
        .get(SECRETS_KEY.as_bytes())
        .await
        .context("read the cluster secrets from the store")?;
    let (secrets, token, minted) = match published {
        Some(kv) => {
            let token = given.or(existing_token).context(
                "this store already holds a cluster; pass its join token with --token \
                 (the first server keeps it in DATA_DIR/token)",
            )?;
            let secrets = ClusterSecrets::open(&kv.value, &token.to_string()).context(
                "open the cluster secrets in the store: the join token does not match this cluster's",
            )?;
            (secrets, token, false)
        }
        None => {
            let token = match given.or(existing_token) {
                Some(t) => t,
                None => JoinToken::generate().context("generate a join token")?,
            };
            let local = pki.read_cluster_secrets().context("read the local PKI")?;
            let secrets = match local {
                Some(s) => s,
                None => ClusterSecrets::generate().context("generate the cluster CA and keys")?,
            };
            let sealed = secrets
                .seal(&token.to_string())
                .context("seal the cluster secrets")?;
            let txn = Txn::new()
                .when([Compare::absent(SECRETS_KEY.as_bytes().to_vec())])
                .and_then([Op::put(SECRETS_KEY.as_bytes().to_vec(), sealed)]);
            let resp = store
                .txn(txn)
                .await
                .context("publish the cluster secrets")?;
            if resp.succeeded {
                (secrets, token, true)
            } else {
                // Another server published first: use theirs.
                let kv = store
                    .get(SECRETS_KEY.as_bytes())
                    .await
                    .context("read the cluster secrets from the store")?
                    .context("the cluster secrets vanished from the store")?;
                let secrets = ClusterSecrets::open(&kv.value, &token.to_string()).context(
                    "another server bootstrapped this cluster with a different join token; pass its token with --token",
                )?;
                (secrets, token, false)
            }
        }
    };
    pki.write_cluster_secrets(&secrets)
        .context("write the cluster PKI to the data directory")?;
    pki.write_token(&token).context("write the join token")?;
    let ca =
        Ca::from_pem(&secrets.ca_cert_pem, &secrets.ca_key_pem).context("load the cluster CA")?;
    Ok(Joined {
        secrets,
        ca,
        token,
        minted,
    })
}

/// This server's certificates.
pub struct Certificates {
    /// Serving certificate.
    pub serving: Ensured,
    /// `admin` in `system:masters`.
    pub admin: Ensured,
    /// `system:kube-controller-manager`.
    pub controller_manager: Ensured,
    /// `system:kube-scheduler`.
    pub scheduler: Ensured,
}

/// Issues (or reuses) this server's certificates.
pub fn certificates(
    pki: &PkiDir,
    ca: &Ca,
    spec: &ironclad_pki::ServingSpec,
) -> anyhow::Result<Certificates> {
    use ironclad_pki::identities;
    let client = |identity: &identities::ClientIdentity| {
        pki.ensure_identity(ca, identity, RENEW_BEFORE)
            .with_context(|| format!("issue the {} certificate", identity.file_stem))
    };
    Ok(Certificates {
        serving: pki
            .ensure_serving_cert(ca, spec, RENEW_BEFORE)
            .context("issue the serving certificate")?,
        // The admin keeps the user name `admin` its kubeconfig has always
        // had (pki's ADMIN identity is k3s's `system:admin`).
        admin: pki
            .ensure_client_cert(
                ca,
                "admin",
                "admin",
                &["system:masters".to_string()],
                RENEW_BEFORE,
            )
            .context("issue the admin certificate")?,
        controller_manager: client(&identities::CONTROLLER_MANAGER)?,
        scheduler: client(&identities::SCHEDULER)?,
    })
}

/// A kubeconfig for `cert` against `server`.
pub fn kubeconfig(
    server: &str,
    ca_pem: &str,
    user: &str,
    cert: &Ensured,
) -> ironclad_pki::Kubeconfig {
    ironclad_pki::Kubeconfig {
        cluster_name: "ironclad".into(),
        servers: vec![server.to_string()],
        ca_pem: ca_pem.to_string(),
        user_name: user.to_string(),
        credential: ironclad_pki::Credential::ClientCert {
            cert_pem: cert.cert_pem.clone(),
            key_pem: cert.key_pem.clone(),
        },
        namespace: Some("default".into()),
        context_name: "ironclad".into(),
    }
}

/// A kube client from a kubeconfig held in memory.
pub fn client(kubeconfig: &ironclad_pki::Kubeconfig) -> anyhow::Result<kube::Client> {
    let parsed = kube::config::Kubeconfig::from_yaml(&kubeconfig.to_yaml()?)
        .context("parse a generated kubeconfig")?;
    let config = kube::Config::try_from(parsed).context("use a generated kubeconfig")?;
    kube::Client::try_from(config).context("build the API client")
}

/// Re-issues the serving certificate whenever it nears expiry, for as long
/// as the server runs, swapping it in for new connections.
pub async fn rotate_serving(
    pki: Arc<PkiDir>,
    ca: Ca,
    spec: ironclad_pki::ServingSpec,
    serving: Arc<ironclad_apiserver::tls::ServingCert>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    tick.tick().await;
    loop {
        tick.tick().await;
        match pki.ensure_serving_cert(&ca, &spec, RENEW_BEFORE) {
            Ok(e) if e.renewed => match serving.replace(&e.cert_pem, &e.key_pem) {
                Ok(()) => println!("      rotated the serving certificate"),
                Err(err) => {
                    eprintln!("      could not load the rotated serving certificate: {err}")
                }
            },
            Ok(_) => {}
            Err(err) => eprintln!("      could not rotate the serving certificate: {err}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    async fn store(dir: &Path) -> Arc<dyn Store> {
        Arc::new(
            ironclad_store_embedded::EmbeddedStore::open(dir, Default::default())
                .await
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn servers_starting_together_agree_on_one_ca() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir.path().join("store")).await;
        let token = JoinToken::generate().unwrap().to_string();
        let dirs: Vec<PkiDir> = (0..4)
            .map(|i| PkiDir::new(dir.path().join(format!("server{i}"))))
            .collect();
        let joined =
            futures::future::join_all(dirs.iter().map(|d| join(store.as_ref(), d, Some(&token))))
                .await;
        let cas: Vec<String> = joined
            .into_iter()
            .map(|j| j.unwrap().secrets.ca_cert_pem)
            .collect();
        assert!(cas.windows(2).all(|w| w[0] == w[1]), "two CAs were minted");
        // A later server with the wrong token is refused; with none, told
        // to pass one.
        let late = PkiDir::new(dir.path().join("late"));
        let wrong = JoinToken::generate().unwrap().to_string();
        let err = join(store.as_ref(), &late, Some(&wrong))
            .await
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("join token"), "{err:#}");
        let err = join(store.as_ref(), &late, None).await.err().unwrap();
        assert!(format!("{err:#}").contains("--token"), "{err:#}");
        // The first server restarted without --token uses its own file.
        let again = join(store.as_ref(), &dirs[0], None).await.unwrap();
        assert_eq!(again.secrets.ca_cert_pem, cas[0]);
        assert!(!again.minted);
    }
}

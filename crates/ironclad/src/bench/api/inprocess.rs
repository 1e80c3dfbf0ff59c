//! API servers in this process for the security-chain comparison: both on
//! their own embedded store, both served over TLS by
//! `ironclad_apiserver::tls::serve` with the same throwaway CA and serving
//! certificate, one with authentication and authorization off
//! (`Config.auth = None`, `Config.admission = false`) and one with the
//! whole chain on (`Node,RBAC`, client certificates, admission).
//! Everything else — the store, the watch caches — is the same on both.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ironclad_apiserver::security::AuthConfig;
use ironclad_apiserver::{ApiServer, Config};
use ironclad_pki::{Ca, Issued, LeafSpec, Usage};
use ironclad_store::Store;
use ironclad_store_embedded::EmbeddedStore;

use super::credentials::Credentials;

/// How long the throwaway certificates are valid.
const VALIDITY: Duration = Duration::from_secs(86400);

/// The throwaway CA and the certificates it issued for one run.
pub struct Pki {
    ca: Ca,
    serving: Issued,
}

impl Pki {
    /// A new CA and a serving certificate for 127.0.0.1.
    pub fn generate() -> anyhow::Result<Pki> {
        let ca = Ca::generate("ironclad-bench-ca", VALIDITY).context("generate a CA")?;
        let serving = ca
            .issue(&LeafSpec {
                common_name: "kube-apiserver".into(),
                organizations: Vec::new(),
                dns_names: vec!["localhost".into()],
                ips: vec![[127, 0, 0, 1].into()],
                usage: Usage::Server,
                validity: VALIDITY,
            })
            .context("issue the serving certificate")?;
        Ok(Pki { ca, serving })
    }

    /// A client certificate for `user` in `groups`.
    pub fn client(&self, user: &str, groups: &[&str]) -> anyhow::Result<Issued> {
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        self.ca
            .issue(&LeafSpec::client(user, &groups, VALIDITY))
            .with_context(|| format!("issue a client certificate for {user}"))
    }
}

/// A running in-process API server; stops serving when dropped.
pub struct InProcessServer {
    /// `https://127.0.0.1:<port>`.
    url: String,
    /// The server (its state holds the authenticator and authorizers).
    api: ApiServer,
    serve: tokio::task::JoinHandle<()>,
    // Declared last: removed once the server is dropped.
    _dir: tempfile::TempDir,
}

impl InProcessServer {
    /// Starts a server on a new embedded store (fsync on when `durable`),
    /// with authentication and authorization on (`Node,RBAC`) or off.
    pub async fn start(pki: &Pki, auth: bool, durable: bool) -> anyhow::Result<InProcessServer> {
        ironclad_apiserver::tls::install_crypto_provider();
        let dir = tempfile::Builder::new()
            .prefix("ironclad-bench-auth-")
            .tempdir()
            .context("temp dir")?;
        let store: Arc<dyn Store> = Arc::new(
            EmbeddedStore::open(
                dir.path(),
                ironclad_store_embedded::Config {
                    durable,
                    ..Default::default()
                },
            )
            .await
            .context("open the embedded store")?,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("listen on loopback")?;
        let addr = listener.local_addr().context("the listening address")?;
        let mut config = Config::new(addr.ip(), addr.port());
        // The baseline has no security chain at all: no admission either.
        config.admission = auth;
        if auth {
            // Node,RBAC, client certificates from the CA: what
            // `ironclad server` configures, without the service-account
            // key (no tokens are used here).
            config.auth = Some(AuthConfig::new(pki.ca.cert_pem().to_string()));
        }
        let api = ApiServer::new(store, config)
            .await
            .context("start the API server")?;
        let serving =
            ironclad_apiserver::tls::ServingCert::new(&pki.serving.cert_pem, &pki.serving.key_pem)
                .context("the serving certificate")?;
        let tls = ironclad_apiserver::tls::server_config(serving, pki.ca.cert_pem())
            .context("the TLS configuration")?;
        let serve = tokio::spawn(ironclad_apiserver::tls::serve(
            listener,
            tls,
            api.router(),
            Default::default(),
        ));
        Ok(InProcessServer {
            url: format!("https://{addr}"),
            api,
            serve,
            _dir: dir,
        })
    }

    /// Credentials for it with a client certificate.
    pub fn credentials(&self, pki: &Pki, cert: &Issued) -> Credentials {
        Credentials {
            server: self.url.clone(),
            ca_pem: pki.ca.cert_pem().to_string(),
            cert_pem: cert.cert_pem.clone(),
            key_pem: cert.key_pem.clone(),
        }
    }

    /// The server itself.
    pub fn api(&self) -> &ApiServer {
        &self.api
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        self.serve.abort();
    }
}

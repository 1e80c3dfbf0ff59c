//! An API server in this process, on loopback, served over HTTPS with
//! authentication and authorization on (Node,RBAC), as `ironclad server`
//! serves it: tests talk to it as real clients do.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ironclad_apiserver::security::{AuthConfig, AuthzMode, ServiceAccountKeys};
use ironclad_apiserver::{ApiServer, Config};
use ironclad_pki::{Ca, Credential, Kubeconfig, LeafSpec, ServiceAccountKey, Usage};
use ironclad_store::Store;
use ironclad_store_embedded::EmbeddedStore;
use kube::Client;

use crate::Error;

/// The issuer of the test clusters' service-account tokens.
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// One CA and service-account key for every test cluster of a process
/// (making an RSA key takes a while).
struct Keys {
    ca: Ca,
    service_account: ServiceAccountKey,
    serving: ironclad_pki::Issued,
}

fn keys() -> Result<&'static Keys, Error> {
    static KEYS: OnceLock<Result<Keys, String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ca = Ca::generate("ironclad-test-ca", Duration::from_secs(10 * 365 * 86400))
            .map_err(|e| format!("CA: {e}"))?;
        let serving = ca
            .issue(&LeafSpec {
                common_name: "kube-apiserver".into(),
                organizations: Vec::new(),
                dns_names: vec!["localhost".into()],
                ips: vec![[127, 0, 0, 1].into()],
                usage: Usage::Server,
                validity: Duration::from_secs(365 * 86400),
            })
            .map_err(|e| format!("serving certificate: {e}"))?;
        let service_account =
            ServiceAccountKey::generate().map_err(|e| format!("service-account key: {e}"))?;
        Ok(Keys {
            ca,
            service_account,
            serving,
        })
    })
    .as_ref()
    .map_err(|e| Error::Setup(e.clone()))
}

/// How a test cluster is secured.
#[derive(Clone)]
pub struct Options {
    /// The authorizers (default `Node,RBAC`).
    pub modes: Vec<AuthzMode>,
    /// The ABAC policy, for `modes` with ABAC.
    pub abac: Option<Arc<ironclad_auth::authz::abac::AbacPolicy>>,
    /// Static tokens.
    pub token_file: Option<Arc<ironclad_auth::authn::tokenfile::TokenFile>>,
    /// Anonymous requests allowed.
    pub anonymous: bool,
    /// Limits on each connection (short ones test slow clients).
    pub limits: ironclad_apiserver::tls::ConnectionLimits,
    /// Encryption at rest (default: secrets with aescbc, as `ironclad
    /// server` does).
    pub encryption: Option<ironclad_apiserver::encryption::EncryptionConfig>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            modes: vec![AuthzMode::Node, AuthzMode::Rbac],
            abac: None,
            token_file: None,
            anonymous: false,
            limits: Default::default(),
            encryption: Some(
                ironclad_apiserver::encryption::EncryptionConfig::default_for_key(&[7u8; 32]),
            ),
        }
    }
}

/// A running API server on a throwaway store, and clients for it. The
/// server stops when this is dropped.
pub struct TestCluster {
    /// Where it listens (`https://{addr}`).
    pub addr: SocketAddr,
    /// The store under it.
    pub store: Arc<dyn Store>,
    /// The server.
    pub api: ApiServer,
    serve: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl TestCluster {
    /// Starts a server on a new store, on a free loopback port, with the
    /// default security (Node,RBAC; client certificates and tokens).
    pub async fn start() -> Result<TestCluster, Error> {
        Self::start_with(Options::default()).await
    }

    /// Starts a server secured as `options` say.
    pub async fn start_with(options: Options) -> Result<TestCluster, Error> {
        let setup = |what: &str, e: &dyn std::fmt::Display| Error::Setup(format!("{what}: {e}"));
        ironclad_apiserver::tls::install_crypto_provider();
        let keys = keys()?;
        let dir = tempfile::tempdir().map_err(|e| setup("temp dir", &e))?;
        let config = ironclad_store_embedded::Config {
            // Throwaway store: no fsync per write, so tests run at memory speed.
            durable: false,
            ..Default::default()
        };
        let store: Arc<dyn Store> = Arc::new(
            EmbeddedStore::open(dir.path(), config)
                .await
                .map_err(|e| setup("open the store", &e))?,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| setup("listen", &e))?;
        let addr = listener.local_addr().map_err(|e| setup("listen", &e))?;
        let mut auth = AuthConfig::new(keys.ca.cert_pem().to_string());
        auth.modes = options.modes.clone();
        auth.abac = options.abac.clone();
        auth.token_file = options.token_file.clone();
        auth.anonymous = options.anonymous;
        auth.service_account = Some(ServiceAccountKeys {
            signing_key_pem: keys.service_account.private_pem.clone(),
            verifying_keys_pem: vec![keys.service_account.public_pem.clone()],
            issuer: ISSUER.into(),
        });
        let mut config = Config::new(addr.ip(), addr.port());
        config.auth = Some(auth);
        if let Some(e) = &options.encryption {
            config.encryption = Some(Arc::new(
                e.transformers().map_err(|e| setup("encryption", &e))?,
            ));
        }
        let api = ApiServer::new(store.clone(), config)
            .await
            .map_err(|e| setup("start the API server", &e))?;
        let serving = ironclad_apiserver::tls::ServingCert::new(
            &keys.serving.cert_pem,
            &keys.serving.key_pem,
        )
        .map_err(|e| setup("serving certificate", &e))?;
        let tls = ironclad_apiserver::tls::server_config(serving, keys.ca.cert_pem())
            .map_err(|e| setup("TLS", &e))?;
        let serve = tokio::spawn(ironclad_apiserver::tls::serve(
            listener,
            tls,
            api.router(),
            options.limits,
        ));
        Ok(TestCluster {
            addr,
            store,
            api,
            serve,
            _dir: dir,
        })
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The cluster CA (PEM).
    pub fn ca_pem(&self) -> Result<String, Error> {
        Ok(keys()?.ca.cert_pem().to_string())
    }

    /// The service-account key pair tokens are signed with.
    pub fn service_account_key(&self) -> Result<&'static ServiceAccountKey, Error> {
        Ok(&keys()?.service_account)
    }

    /// The CA, to issue test certificates.
    pub fn ca(&self) -> Result<&'static Ca, Error> {
        Ok(&keys()?.ca)
    }

    /// A kubeconfig for a user with a client certificate (CN = `user`,
    /// O = `groups`).
    pub fn kubeconfig_for(&self, user: &str, groups: &[&str]) -> Result<Kubeconfig, Error> {
        let issued = keys()?
            .ca
            .issue(&LeafSpec {
                common_name: user.into(),
                organizations: groups.iter().map(|g| g.to_string()).collect(),
                dns_names: Vec::new(),
                ips: Vec::new(),
                usage: Usage::Client,
                validity: Duration::from_secs(86400),
            })
            .map_err(|e| Error::Setup(format!("client certificate: {e}")))?;
        Ok(self.kubeconfig_with(
            user,
            Credential::ClientCert {
                cert_pem: issued.cert_pem,
                key_pem: issued.key_pem,
            },
        ))
    }

    /// A kubeconfig with any credential.
    pub fn kubeconfig_with(&self, user: &str, credential: Credential) -> Kubeconfig {
        Kubeconfig {
            cluster_name: "test".into(),
            servers: vec![self.url()],
            ca_pem: keys()
                .map(|k| k.ca.cert_pem().to_string())
                .unwrap_or_default(),
            user_name: user.into(),
            credential,
            namespace: Some("default".into()),
            context_name: "test".into(),
        }
    }

    /// Writes `kubeconfig` to a file that lives as long as the cluster
    /// (for kubectl).
    pub fn write_kubeconfig(
        &self,
        name: &str,
        kubeconfig: &Kubeconfig,
    ) -> Result<std::path::PathBuf, Error> {
        let path = self._dir.path().join(format!("{name}.kubeconfig"));
        kubeconfig
            .write(&path)
            .map_err(|e| Error::Setup(format!("write {}: {e}", path.display())))?;
        Ok(path)
    }

    /// A client for the cluster administrator (`system:masters`), default
    /// namespace `default`.
    pub fn client(&self) -> Result<Client, Error> {
        self.client_as("admin", &["system:masters"])
    }

    /// A client with a certificate for `user` in `groups`.
    pub fn client_as(&self, user: &str, groups: &[&str]) -> Result<Client, Error> {
        client_from(&self.kubeconfig_for(user, groups)?)
    }

    /// A client presenting a bearer token.
    pub fn client_with_token(&self, token: &str) -> Result<Client, Error> {
        client_from(&self.kubeconfig_with("token", Credential::Token(token.to_string())))
    }
}

/// A client from an in-memory kubeconfig.
pub fn client_from(kubeconfig: &Kubeconfig) -> Result<Client, Error> {
    let yaml = kubeconfig
        .to_yaml()
        .map_err(|e| Error::Setup(format!("kubeconfig: {e}")))?;
    let parsed = kube::config::Kubeconfig::from_yaml(&yaml)
        .map_err(|e| Error::Setup(format!("kubeconfig: {e}")))?;
    let config =
        kube::Config::try_from(parsed).map_err(|e| Error::Setup(format!("kubeconfig: {e}")))?;
    Client::try_from(config).map_err(Error::Api)
}

/// A client for a plain-HTTP API server at `url` without credentials: only
/// for in-process harnesses that serve the router with authentication off
/// (the scheduler benchmark).
pub fn client_for(url: &str) -> Result<Client, Error> {
    let uri = url
        .parse()
        .map_err(|e| Error::Setup(format!("server URL {url:?}: {e}")))?;
    let config = kube::Config::new(uri);
    Client::try_from(config).map_err(Error::Api)
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.serve.abort();
    }
}

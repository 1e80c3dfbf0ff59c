//! What every controller gets: the client, the configuration and the
//! cluster's CSR signer.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;

use crate::certificates::CsrSigner;

/// Settings of the controllers (upstream's kube-controller-manager flags).
#[derive(Debug, Clone)]
pub struct Config {
    /// The pod network, from which each node gets a pod CIDR
    /// (`--cluster-cidr`, default 10.244.0.0/16).
    pub cluster_cidr: String,
    /// Prefix length of each node's pod CIDR (`--node-cidr-mask-size`, 24).
    pub node_cidr_mask_size: u8,
    /// How long a node may go without renewing its Lease before it is
    /// marked NotReady (`--node-monitor-grace-period`, upstream 40 s).
    pub node_monitor_grace_period: Duration,
    /// How long pods stay on a NotReady or unreachable node before they are
    /// evicted so their controllers recreate them elsewhere (upstream: the
    /// 300 s default toleration of the not-ready/unreachable taints).
    pub pod_eviction_timeout: Duration,
    /// How often level-triggered loops resync everything.
    pub resync_period: Duration,
    /// The cluster CA's certificate (PEM) that the root-ca-cert-publisher
    /// puts into every namespace's `kube-root-ca.crt` ConfigMap; None
    /// leaves that controller idle.
    pub root_ca_pem: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cluster_cidr: "10.244.0.0/16".into(),
            node_cidr_mask_size: 24,
            node_monitor_grace_period: Duration::from_secs(40),
            pod_eviction_timeout: Duration::from_secs(300),
            resync_period: Duration::from_secs(300),
            root_ca_pem: None,
        }
    }
}

/// Shared by every controller.
#[derive(Clone)]
pub struct Context {
    /// A client of the API server.
    pub client: Client,
    /// Settings.
    pub config: Arc<Config>,
    /// Issues certificates for approved CertificateSigningRequests of the
    /// built-in signers; None leaves the csrsigning controller idle.
    pub csr_signer: Option<Arc<dyn CsrSigner>>,
}

impl Context {
    /// A context for `client` with `config` (and no CSR signer).
    pub fn new(client: Client, config: Config) -> Context {
        Context {
            client,
            config: Arc::new(config),
            csr_signer: None,
        }
    }

    /// This context with `signer` issuing CSRs' certificates.
    pub fn with_csr_signer(mut self, signer: Arc<dyn CsrSigner>) -> Context {
        self.csr_signer = Some(signer);
        self
    }
}

//! What every controller gets: the client and the configuration.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;

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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cluster_cidr: "10.244.0.0/16".into(),
            node_cidr_mask_size: 24,
            node_monitor_grace_period: Duration::from_secs(40),
            pod_eviction_timeout: Duration::from_secs(300),
            resync_period: Duration::from_secs(300),
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
}

impl Context {
    /// A context for `client` with `config`.
    pub fn new(client: Client, config: Config) -> Context {
        Context {
            client,
            config: Arc::new(config),
        }
    }
}

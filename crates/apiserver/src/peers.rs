//! The API servers of a cluster and the `kubernetes` Service's endpoints.
//!
//! As upstream's lease endpoint reconciler does, every server keeps a key
//! of its own under [`LEASE_PREFIX`] attached to a store lease that it
//! renews; the `kubernetes` Endpoints and EndpointSlice in `default` list
//! exactly the servers whose keys are alive. A server that stops withdraws
//! its key at once; one that dies loses it when the lease expires, and the
//! next renewal of any other server drops its address.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Weak};

use ironclad_api::registry::lookup;
use ironclad_store::{Error as StoreError, KeyRange, Op, RangeRequest, Txn};
use serde_json::{Value, json};

use crate::error::{ApiError, Result};
use crate::handlers::{WriteOpts, create_object, update_object};
use crate::request::Target;
use crate::server::AppState;

/// Where the servers' lease keys live (`<prefix><ip>:<port>`).
pub const LEASE_PREFIX: &str = "/registry/ironclad/apiserverleases/";

const MANAGER: &str = "ironclad-apiserver";

/// This server's registration: the store lease its key is attached to.
#[derive(Debug, Default)]
pub struct Registration {
    lease: AtomicI64,
}

fn own_key(state: &AppState) -> String {
    format!(
        "{LEASE_PREFIX}{}:{}",
        state.config.advertise_address, state.config.port
    )
}

/// Puts this server's key under a new lease.
async fn register(state: &AppState) -> Result<()> {
    let ttl = state.config.peer_lease_ttl.as_secs().max(1) as i64;
    let grant = state.store.lease_grant(ttl).await?;
    let value =
        json!({"ip": state.config.advertise_address.to_string(), "port": state.config.port});
    state
        .store
        .txn(Txn::new().and_then(vec![Op::put_with_lease(
            own_key(state),
            value.to_string(),
            grant.id,
        )]))
        .await?;
    state.peers.lease.store(grant.id, Ordering::SeqCst);
    Ok(())
}

/// Renews this server's lease, registering again if it expired.
async fn renew(state: &AppState) -> Result<()> {
    let id = state.peers.lease.load(Ordering::SeqCst);
    match state.store.lease_keep_alive(id).await {
        Ok(_) => Ok(()),
        Err(StoreError::LeaseNotFound(_)) => register(state).await,
        Err(e) => Err(e.into()),
    }
}

/// The live servers, by port: `port -> sorted addresses`.
async fn live(state: &AppState) -> Result<BTreeMap<u16, Vec<String>>> {
    let r = state
        .store
        .range(RangeRequest::new(KeyRange::prefix(
            LEASE_PREFIX.as_bytes().to_vec(),
        )))
        .await?;
    let mut by_port: BTreeMap<u16, Vec<String>> = BTreeMap::new();
    for kv in r.kvs {
        let Ok(v) = serde_json::from_slice::<Value>(&kv.value) else {
            continue;
        };
        let (Some(ip), Some(port)) = (v["ip"].as_str(), v["port"].as_u64()) else {
            continue;
        };
        let Ok(port) = u16::try_from(port) else {
            continue;
        };
        by_port.entry(port).or_default().push(ip.to_string());
    }
    for ips in by_port.values_mut() {
        ips.sort();
        ips.dedup();
    }
    Ok(by_port)
}

fn target(resource: &str, group: &str) -> Result<Target> {
    let info = lookup(group, "v1", resource)
        .ok_or_else(|| ApiError::internal(format!("{resource} not registered")))?;
    Ok(Target {
        info,
        namespace: Some("default".into()),
        name: Some("kubernetes".into()),
        subresource: None,
    })
}

/// Writes `body` as the object `t` (creating it when missing) unless it
/// already says that.
async fn put(state: &Arc<AppState>, t: &Target, body: Value) -> Result<()> {
    let opts = WriteOpts::system(MANAGER);
    let fields = ["subsets", "endpoints", "ports", "addressType"];
    let result = update_object(state, t, &opts, |old| {
        let mut new = old.clone();
        for f in fields {
            if let Some(v) = body.get(f) {
                new[f] = v.clone();
            }
        }
        Ok(new)
    })
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.code == 404 => {
            match create_object(state, t.info, Some("default"), body, &opts, Vec::new()).await {
                Ok(_) => Ok(()),
                // Another server created it first; its next pass or ours
                // converges.
                Err(e) if e.code == 409 => Ok(()),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Makes the `kubernetes` Endpoints and EndpointSlice list the live servers.
pub(crate) async fn reconcile(state: &Arc<AppState>) -> Result<()> {
    let by_port = live(state).await?;
    let subsets: Vec<Value> = by_port
        .iter()
        .map(|(port, ips)| {
            json!({
                "addresses": ips.iter().map(|ip| json!({"ip": ip})).collect::<Vec<_>>(),
                "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
            })
        })
        .collect();
    let endpoints = json!({
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": subsets,
    });
    put(state, &target("endpoints", "")?, endpoints).await?;

    // A slice holds one set of ports: it lists the servers on this
    // server's port (all of them, in any real cluster).
    let port = state.config.port;
    let ips = by_port.get(&port).cloned().unwrap_or_default();
    let slice = json!({
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": ips.iter().map(|ip| json!({"addresses": [ip], "conditions": {"ready": true}})).collect::<Vec<_>>(),
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    });
    put(state, &target("endpointslices", "discovery.k8s.io")?, slice).await
}

/// Registers this server and publishes the endpoints.
pub(crate) async fn start(state: &Arc<AppState>) -> Result<()> {
    register(state).await?;
    reconcile(state).await
}

/// Renews this server's lease and reconciles the endpoints every third of
/// the lease's time to live, until the server is gone.
pub(crate) async fn run(state: Weak<AppState>) {
    let Some(period) = state
        .upgrade()
        .map(|s| (s.config.peer_lease_ttl / 3).max(std::time::Duration::from_millis(100)))
    else {
        return;
    };
    loop {
        tokio::time::sleep(period).await;
        let Some(state) = state.upgrade() else {
            return;
        };
        if state.peers.lease.load(Ordering::SeqCst) == 0 {
            return; // withdrawn
        }
        if let Err(e) = renew(&state).await {
            tracing::warn!(error = %e, "renewing the API server's lease");
            continue;
        }
        if let Err(e) = reconcile(&state).await {
            tracing::warn!(error = %e, "reconciling the kubernetes endpoints");
        }
    }
}

/// Withdraws this server: its key goes, and the endpoints drop it.
pub(crate) async fn withdraw(state: &Arc<AppState>) -> Result<()> {
    let id = state.peers.lease.swap(0, Ordering::SeqCst);
    if id != 0 {
        match state.store.lease_revoke(id).await {
            Ok(()) | Err(StoreError::LeaseNotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    reconcile(state).await
}

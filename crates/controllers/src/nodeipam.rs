//! The node IPAM controller (upstream's range allocator): every Node
//! without `spec.podCIDR` gets the next free subnet of the cluster CIDR
//! (one per family when dual-stack) in `spec.podCIDR` and `spec.podCIDRs`;
//! subnets in use are rebuilt from the nodes at start and released when a
//! node goes; a full range is reported with a `CIDRNotAvailable` event.
//!
//! The subnet size is `node_cidr_mask_size` for IPv4; IPv6 ranges use it
//! when it is an IPv6-sized prefix, else /64 (upstream's
//! `--node-cidr-mask-size-ipv6`).

pub mod cidrset;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::join_all;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::pods::cache::{self, Change};
use crate::pods::queue::WorkQueue;
use crate::{Config, Context, Error, Result};
use cidrset::{Cidr, CidrError, CidrSet};

/// Writes of one allocation before giving up (upstream's
/// `cidrUpdateRetries`).
const UPDATE_RETRIES: usize = 3;
const WORKERS: usize = 1;

/// The cluster's subnet sets, and which node holds which subnet.
struct Allocator {
    sets: Vec<CidrSet>,
    owners: HashMap<String, String>,
}

impl Allocator {
    fn new(config: &Config) -> Result<Allocator> {
        let mut sets = Vec::new();
        for part in config
            .cluster_cidr
            .split(',')
            .filter(|s| !s.trim().is_empty())
        {
            let cluster: Cidr = part
                .parse()
                .map_err(|e: CidrError| Error::Config(e.to_string()))?;
            let v6_sized = config.node_cidr_mask_size > 32;
            let mask = if !cluster.is_v6()
                || (v6_sized && config.node_cidr_mask_size >= cluster.prefix())
            {
                config.node_cidr_mask_size
            } else {
                64
            };
            sets.push(CidrSet::new(cluster, mask).map_err(|e| Error::Config(e.to_string()))?);
        }
        if sets.is_empty() {
            return Err(Error::Config("no cluster CIDR".into()));
        }
        Ok(Allocator {
            sets,
            owners: HashMap::new(),
        })
    }

    /// Marks a node's subnets taken.
    fn occupy(&mut self, node: &Node) {
        let name = node.name_any();
        for cidr in pod_cidrs(node) {
            let Ok(c) = cidr.parse::<Cidr>() else {
                continue;
            };
            match self.sets.iter_mut().find(|s| s.contains(c)) {
                Some(set) => {
                    let _ = set.occupy(c);
                    self.owners.insert(c.to_string(), name.clone());
                }
                None => {
                    tracing::warn!(node = %name, cidr = %cidr, "node CIDR outside the cluster CIDR");
                }
            }
        }
    }

    /// Gives back `cidrs` if `node` holds them.
    fn release(&mut self, node: &str, cidrs: &[String]) -> bool {
        let mut any = false;
        for cidr in cidrs {
            let Ok(c) = cidr.parse::<Cidr>() else {
                continue;
            };
            if self.owners.get(&c.to_string()).map(String::as_str) != Some(node) {
                continue;
            }
            self.owners.remove(&c.to_string());
            if let Some(set) = self.sets.iter_mut().find(|s| s.contains(c)) {
                let _ = set.release(c);
                any = true;
            }
        }
        any
    }

    /// The next subnet of each family for `node`.
    fn allocate(&mut self, node: &str) -> Result<Vec<String>, CidrError> {
        let mut got: Vec<Cidr> = Vec::new();
        for i in 0..self.sets.len() {
            match self.sets[i].allocate_next() {
                Ok(c) => got.push(c),
                Err(e) => {
                    for (j, c) in got.iter().enumerate() {
                        let _ = self.sets[j].release(*c);
                    }
                    return Err(e);
                }
            }
        }
        let cidrs: Vec<String> = got.iter().map(Cidr::to_string).collect();
        for c in &cidrs {
            self.owners.insert(c.clone(), node.to_string());
        }
        Ok(cidrs)
    }
}

/// A node's `spec.podCIDRs`, else its `spec.podCIDR`.
fn pod_cidrs(node: &Node) -> Vec<String> {
    let Some(spec) = node.spec.as_ref() else {
        return Vec::new();
    };
    match spec.pod_cidrs.as_ref().filter(|c| !c.is_empty()) {
        Some(list) => list.clone(),
        None => spec
            .pod_cidr
            .iter()
            .filter(|c| !c.is_empty())
            .cloned()
            .collect(),
    }
}

/// Runs the controller until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    let allocator = Arc::new(Mutex::new(Allocator::new(&ctx.config)?));
    let client = ctx.client.clone();
    let (nodes, nodes_w) = cache::store::<Node>();
    let queue: WorkQueue<String> = WorkQueue::new();
    let watch = cache::follow(
        watcher::watcher(Api::<Node>::all(client.clone()), watcher::Config::default()),
        nodes_w,
        {
            let queue = queue.clone();
            let allocator = allocator.clone();
            let nodes = nodes.clone();
            move |change| {
                let mut alloc = allocator.lock().unwrap_or_else(|e| e.into_inner());
                let mut released = false;
                match change {
                    Change::Applied { new, .. } => {
                        if pod_cidrs(&new).is_empty() {
                            queue.add(new.name_any());
                        } else {
                            alloc.occupy(&new);
                        }
                    }
                    Change::Deleted(old) => {
                        released = alloc.release(&old.name_any(), &pod_cidrs(&old));
                    }
                    Change::Relisted { gone } => {
                        for n in &gone {
                            released |= alloc.release(&n.name_any(), &pod_cidrs(n));
                        }
                        for n in nodes.state() {
                            if pod_cidrs(&n).is_empty() {
                                queue.add(n.name_any());
                            } else {
                                alloc.occupy(&n);
                            }
                        }
                    }
                }
                if released {
                    // Nodes that found the range full may fit now.
                    nodes
                        .state()
                        .iter()
                        .filter(|n| pod_cidrs(n).is_empty())
                        .for_each(|n| queue.add(n.name_any()));
                }
            }
        },
    );
    let ipam = Arc::new(Ipam {
        api: Api::all(client.clone()),
        nodes: nodes.clone(),
        allocator,
        recorder: Recorder::new(
            client.clone(),
            Reporter {
                controller: "cidrAllocator".into(),
                instance: None,
            },
        ),
    });
    let work = async {
        // Every node's subnet must be known before handing out new ones.
        if nodes.wait_until_ready().await.is_err() {
            return;
        }
        join_all((0..WORKERS).map(|_| worker(ipam.clone(), queue.clone()))).await;
    };
    tokio::join!(watch, work);
    Ok(())
}

async fn worker(ipam: Arc<Ipam>, queue: WorkQueue<String>) {
    loop {
        let name = queue.next().await;
        match ipam.sync(&name).await {
            Ok(()) => queue.forget(&name),
            Err(e) => {
                tracing::debug!(node = %name, error = %e, "pod CIDR allocation failed; retrying");
                queue.add_rate_limited(name.clone());
            }
        }
        queue.done(&name);
    }
}

struct Ipam {
    api: Api<Node>,
    nodes: Store<Node>,
    allocator: Arc<Mutex<Allocator>>,
    recorder: Recorder,
}

// === impl Ipam ===

impl Ipam {
    fn allocator(&self) -> std::sync::MutexGuard<'_, Allocator> {
        self.allocator.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn sync(&self, name: &str) -> Result<()> {
        let Some(cached) = self.nodes.get(&ObjectRef::new(name)) else {
            return Ok(());
        };
        if !pod_cidrs(&cached).is_empty() {
            self.allocator().occupy(&cached);
            return Ok(());
        }
        let allocated = self.allocator().allocate(name);
        let cidrs = match allocated {
            Ok(c) => c,
            Err(e) => {
                self.event(&cached, "CIDRNotAvailable", EventType::Normal)
                    .await;
                return Err(Error::Invalid(format!("node {name}: {e}")));
            }
        };
        for _ in 0..UPDATE_RETRIES {
            // A fresh read: the node may have got a CIDR meanwhile.
            let node = match self.api.get_opt(name).await {
                Ok(Some(n)) => n,
                Ok(None) => {
                    self.allocator().release(name, &cidrs);
                    return Ok(());
                }
                Err(e) => {
                    self.allocator().release(name, &cidrs);
                    return Err(e.into());
                }
            };
            let have = pod_cidrs(&node);
            if have == cidrs {
                return Ok(());
            }
            if !have.is_empty() {
                let mut alloc = self.allocator();
                alloc.release(name, &cidrs);
                alloc.occupy(&node);
                return Ok(());
            }
            let patch = json!({
                "metadata": {"resourceVersion": node.metadata.resource_version},
                "spec": {"podCIDR": cidrs[0], "podCIDRs": cidrs},
            });
            match self
                .api
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    tracing::info!(node = %name, cidrs = ?cidrs, "Set node PodCIDR");
                    return Ok(());
                }
                Err(kube::Error::Api(e)) if e.code == 409 => continue,
                Err(e) => {
                    self.allocator().release(name, &cidrs);
                    self.event(&node, "CIDRAssignmentFailed", EventType::Normal)
                        .await;
                    return Err(e.into());
                }
            }
        }
        self.allocator().release(name, &cidrs);
        Err(Error::Invalid(format!(
            "node {name} kept changing while its pod CIDR was written"
        )))
    }

    /// Upstream's `RecordNodeStatusChange`.
    async fn event(&self, node: &Node, status: &str, type_: EventType) {
        let ev = Event {
            type_,
            reason: status.into(),
            note: Some(format!("Node {} status is now: {status}", node.name_any())),
            action: "AllocateCIDR".into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &node.object_ref(&())).await {
            tracing::debug!(error = %e, "cannot record event");
        }
    }
}

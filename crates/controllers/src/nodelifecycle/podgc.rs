//! Pod garbage collection (upstream's `pod-garbage-collector`): pods bound
//! to nodes that no longer exist (confirmed after a quarantine), terminating
//! pods that were never scheduled or whose node is declared out of service,
//! and terminated pods beyond a threshold are force-deleted, marked Failed
//! first as upstream does.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::reflector::{ObjectRef, Store};
use serde_json::json;
use tokio::time::Instant;

use super::health::condition;
use super::taints::{self, NO_EXECUTE, OUT_OF_SERVICE};
use crate::pods;

/// Terminated pods kept before the oldest are deleted
/// (`--terminated-pod-gc-threshold`).
pub const TERMINATED_THRESHOLD: usize = 12500;

/// The collector's state: nodes found missing, and since when.
pub struct PodGc {
    client: Client,
    nodes: Store<Node>,
    pods: Store<Pod>,
    quarantine: Duration,
    missing: HashMap<String, Instant>,
}

impl PodGc {
    /// A collector over these caches; a node must stay missing for
    /// `quarantine` before its pods go.
    pub fn new(client: Client, nodes: Store<Node>, pods: Store<Pod>, quarantine: Duration) -> Self {
        PodGc {
            client,
            nodes,
            pods,
            quarantine,
            missing: HashMap::new(),
        }
    }

    /// One collection pass.
    pub async fn pass(&mut self) {
        let all = self.pods.state();
        self.terminated(&all).await;
        self.terminating(&all).await;
        self.orphaned(&all).await;
    }

    async fn terminated(&self, all: &[Arc<Pod>]) {
        let mut done: Vec<&Arc<Pod>> = all.iter().filter(|p| pods::is_pod_terminal(p)).collect();
        if done.len() <= TERMINATED_THRESHOLD {
            return;
        }
        done.sort_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0));
        let extra = done.len() - TERMINATED_THRESHOLD;
        for p in done.into_iter().take(extra) {
            self.fail_and_delete(p, None).await;
        }
    }

    async fn terminating(&self, all: &[Arc<Pod>]) {
        for p in all.iter().filter(|p| pods::is_terminating(p)) {
            let node = pods::node_name(p);
            let gone = if node.is_empty() {
                // Never scheduled: nothing will ever finish deleting it.
                true
            } else {
                self.nodes.get(&ObjectRef::new(node)).is_some_and(|n| {
                    let ready =
                        condition(n.status.as_ref(), "Ready").is_some_and(|c| c.status == "True");
                    !ready && taints::has(&n, OUT_OF_SERVICE, NO_EXECUTE)
                })
            };
            if gone {
                self.fail_and_delete(p, None).await;
            }
        }
    }

    async fn orphaned(&mut self, all: &[Arc<Pod>]) {
        let now = Instant::now();
        let known: HashSet<String> = self
            .nodes
            .state()
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        let wanted: HashSet<&str> = all
            .iter()
            .map(|p| pods::node_name(p))
            .filter(|n| !n.is_empty() && !known.contains(*n))
            .collect();
        self.missing.retain(|n, _| wanted.contains(n.as_str()));
        for n in &wanted {
            self.missing.entry(n.to_string()).or_insert(now);
        }
        let api: Api<Node> = Api::all(self.client.clone());
        let mut deleted = HashSet::new();
        for (name, since) in &self.missing {
            if now.saturating_duration_since(*since) < self.quarantine {
                continue;
            }
            // The cache may lag: ask the API server itself.
            if let Ok(None) = api.get_opt(name).await {
                deleted.insert(name.clone());
            }
        }
        for p in all.iter().filter(|p| deleted.contains(pods::node_name(p))) {
            let cond = json!({
                "type": "DisruptionTarget",
                "status": "True",
                "reason": "DeletionByPodGC",
                "message": "PodGC: node no longer exists",
            });
            self.fail_and_delete(p, Some(cond)).await;
        }
    }

    /// Upstream's `markFailedAndDeletePodWithCondition`: Failed (with the
    /// condition) unless already terminal, then deleted at once.
    async fn fail_and_delete(&self, pod: &Pod, cond: Option<serde_json::Value>) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        tracing::info!(pod = %format!("{ns}/{name}"), "PodGC is force deleting Pod");
        if !pods::is_pod_terminal(pod) {
            let mut status = json!({"phase": "Failed"});
            if let Some(c) = cond {
                status["conditions"] = json!([c]);
            }
            let patch = json!({"status": status});
            match api
                .patch_status(&name, &PatchParams::default(), &Patch::Strategic(&patch))
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => return,
                Err(e) => {
                    tracing::warn!(pod = %name, error = %e, "cannot mark pod failed");
                    return;
                }
            }
        }
        if let Err(e) = api
            .delete(&name, &DeleteParams::default().grace_period(0))
            .await
            && !matches!(&e, kube::Error::Api(s) if s.code == 404)
        {
            tracing::warn!(pod = %name, error = %e, "cannot delete pod");
        }
    }
}

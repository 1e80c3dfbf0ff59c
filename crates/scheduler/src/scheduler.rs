//! The scheduling loop: pop a pod, filter the nodes, score the ones that
//! fit, pick the best (ties broken at random), assume the pod onto it and
//! bind it through `pods/<name>/binding` without waiting, so the next pod
//! is decided while the write is under way. A failed binding forgets the
//! assumed pod and requeues it with backoff; a pod no node fits is
//! reported (FailedScheduling event, PodScheduled=False) and waits in the
//! queue for a cluster change.
//!
//! With many nodes, filtering stops once enough feasible nodes are found
//! (upstream's adaptive `percentageOfNodesToScore`), and the next pod
//! starts where this one stopped, so every node gets its turn.

use std::sync::{Arc, Mutex, MutexGuard};

use k8s_openapi::api::core::v1::{Binding, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use kube::api::{Api, PostParams};
use rand::Rng;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::cache::Cache;
use crate::events::{self, Events, FitError};
use crate::framework::Framework;
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;
use crate::queue::{ClusterEvent, Queue, QueuedPod};

/// Below this many nodes every node is filtered.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// The adaptive percentage never goes below this.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// How many feasible nodes to look for among `num_all` (upstream's
/// `numFeasibleNodesToFind`): all of them below 100 nodes, else
/// `percentage`% of them (0 = adaptive: 50% minus 1% per 125 nodes, at
/// least 5%), and never fewer than 100.
pub fn num_feasible_nodes_to_find(percentage: u32, num_all: usize) -> usize {
    if num_all < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all;
    }
    let percentage = match percentage as usize {
        0 => 50usize
            .saturating_sub(num_all / 125)
            .max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND),
        p => p.min(100),
    };
    (num_all * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// Decides where pods go.
pub struct Decider {
    framework: Framework,
    percentage: u32,
    next_start: usize,
}

// === impl Decider ===

impl Decider {
    /// A decider running `framework`'s plugins.
    pub fn new(framework: Framework, percentage_of_nodes_to_score: u32) -> Decider {
        Decider {
            framework,
            percentage: percentage_of_nodes_to_score,
            next_start: 0,
        }
    }

    /// The node `pod` should go to, or why none fits.
    pub fn decide(&mut self, pod: &PodInfo, cache: &Cache) -> Result<String, Box<FitError>> {
        let nodes = cache.nodes();
        let mut fit = Box::new(FitError {
            num_all_nodes: nodes.len(),
            ..Default::default()
        });
        if nodes.is_empty() {
            return Err(fit);
        }
        let mut cycle = match self.framework.pre_filter(pod, cache) {
            Ok(c) => c,
            Err(r) => {
                fit.plugins.insert(r.plugin);
                fit.pre_filter = Some(r);
                return Err(fit);
            }
        };
        let want = num_feasible_nodes_to_find(self.percentage, nodes.len());
        let mut feasible: Vec<&NodeInfo> = Vec::with_capacity(want);
        let start = self.next_start % nodes.len();
        let mut processed = 0;
        for i in 0..nodes.len() {
            let node = &nodes[(start + i) % nodes.len()];
            processed += 1;
            match self.framework.filter(&cycle, pod, node) {
                Ok(()) => {
                    feasible.push(node);
                    if feasible.len() >= want {
                        break;
                    }
                }
                Err(r) => fit.add(&r),
            }
        }
        self.next_start = (start + processed) % nodes.len();
        match feasible.as_slice() {
            [] => Err(fit),
            [only] => Ok(only.name.clone()),
            _ => {
                let scores = self.framework.score(&mut cycle, pod, &feasible, cache);
                Ok(feasible[select_host(&scores)].name.clone())
            }
        }
    }
}

/// The index of the highest score, a uniformly random one among equals
/// (reservoir sampling, as upstream's `selectHost`).
pub fn select_host(scores: &[i64]) -> usize {
    let mut rng = rand::rng();
    let mut best = 0;
    let mut ties = 0u32;
    for (i, &s) in scores.iter().enumerate() {
        if i == 0 || s > scores[best] {
            best = i;
            ties = 1;
        } else if s == scores[best] {
            ties += 1;
            if rng.random_range(0..ties) == 0 {
                best = i;
            }
        }
    }
    best
}

/// What the loop, the binders and the watchers share.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) cache: Mutex<Cache>,
    pub(crate) queue: Queue,
    pub(crate) events: Events,
}

impl Shared {
    pub(crate) fn cache(&self) -> MutexGuard<'_, Cache> {
        // A panic while holding the lock leaves plain data; keep going.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Schedules pods from the queue until aborted. At most `max_binding`
/// bindings (and unschedulable reports) are under way at once.
pub(crate) async fn run_loop(shared: Arc<Shared>, mut decider: Decider, max_binding: usize) {
    let slots = Arc::new(Semaphore::new(max_binding.max(1)));
    let mut tasks = JoinSet::new();
    loop {
        let queued = shared.queue.pop().await;
        while tasks.try_join_next().is_some() {}
        let key = queued.info.key.clone();
        if shared.cache().has_pod(&key) {
            // Bound (or being bound) already: the watch is behind.
            shared.queue.done(&key);
            continue;
        }
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let decision = {
            let mut cache = shared.cache();
            let d = decider.decide(&queued.info, &cache);
            if let Ok(node) = &d {
                cache.assume(queued.info.clone(), node);
            }
            d
        };
        match decision {
            Ok(node) => {
                tasks.spawn(bind(shared.clone(), queued, node, permit));
            }
            Err(fit) => {
                let message = fit.to_string();
                tracing::debug!(pod = %key, "unschedulable: {message}");
                shared.queue.requeue_unschedulable(&queued, fit.plugins);
                shared.events.failed(&queued.info.pod, &message);
                let client = shared.client.clone();
                tasks.spawn(async move {
                    let _permit = permit;
                    if let Err(e) =
                        events::mark_unschedulable(&client, &queued.info.pod, &message).await
                    {
                        tracing::debug!(pod = %queued.info.key, "PodScheduled=False: {e}");
                    }
                });
            }
        }
    }
}

/// The Binding object for `pod` onto `node`.
pub fn binding(pod: &Pod, node: &str) -> Binding {
    Binding {
        metadata: ObjectMeta {
            name: pod.metadata.name.clone(),
            namespace: pod.metadata.namespace.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        },
        target: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Node".into()),
            name: Some(node.into()),
            ..Default::default()
        },
    }
}

/// POSTs the binding; on failure forgets the assumed pod and requeues it.
async fn bind(shared: Arc<Shared>, queued: QueuedPod, node: String, _permit: OwnedSemaphorePermit) {
    let pod = &queued.info.pod;
    let api: Api<Pod> = Api::namespaced(shared.client.clone(), &queued.info.namespace);
    let result = api
        .create_subresource::<_, serde_json::Value>(
            "binding",
            &queued.info.name,
            &PostParams::default(),
            &binding(pod, &node),
        )
        .await
        .map(|_| ());
    match result {
        Ok(()) => {
            shared.queue.done(&queued.info.key);
            shared.events.scheduled(pod, &node);
        }
        Err(e) => {
            shared.cache().forget(&queued.info.key);
            // What the assumed pod held is free again.
            shared.queue.on_event(ClusterEvent::AssignedPodDelete);
            let gone = matches!(&e, kube::Error::Api(s) if s.code == 404
                || (s.code == 409 && (s.message.contains("already assigned")
                    || s.message.contains("being deleted"))));
            if gone {
                // Deleted, or assigned by someone else: the watch will say.
                shared.queue.done(&queued.info.key);
                tracing::debug!(pod = %queued.info.key, "binding refused: {e}");
            } else {
                tracing::warn!(pod = %queued.info.key, node, "binding failed: {e}");
                shared.queue.requeue_backoff(&queued);
                shared.events.failed(pod, &format!("Binding rejected: {e}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::framework::Profile;
    use crate::plugins::testing::{node_object, pod, pod_with, requests};

    #[test]
    fn the_adaptive_percentage_follows_upstream() {
        assert_eq!(num_feasible_nodes_to_find(0, 50), 50);
        assert_eq!(num_feasible_nodes_to_find(0, 100), 100); // 50% = 50 -> at least 100
        assert_eq!(num_feasible_nodes_to_find(0, 1000), 420); // 50 - 8 = 42%
        assert_eq!(num_feasible_nodes_to_find(0, 5000), 500); // 50 - 40 = 10%
        assert_eq!(num_feasible_nodes_to_find(0, 10000), 500); // at least 5%
        assert_eq!(num_feasible_nodes_to_find(100, 1000), 1000);
    }

    #[test]
    fn ties_are_broken_at_random_among_the_best() {
        let mut seen = [0; 4];
        for _ in 0..400 {
            seen[select_host(&[5, 9, 1, 9])] += 1;
        }
        assert_eq!((seen[0], seen[2]), (0, 0));
        assert!(seen[1] > 100 && seen[3] > 100, "{seen:?}");
    }

    #[test]
    fn assumed_pods_steer_the_next_decision() {
        let mut cache = Cache::new();
        cache.add_node(node_object("a"));
        cache.add_node(node_object("b"));
        let mut d = Decider::new(Framework::new(&Profile::default()).unwrap(), 0);
        let big = |n: &str| pod_with(n, |p| requests(p, &[("cpu", "3")]));
        let first = d.decide(&big("p1"), &cache).unwrap();
        cache.assume(Arc::new(big("p1")), &first);
        let second = d.decide(&big("p2"), &cache).unwrap();
        assert_ne!(first, second);
        cache.assume(Arc::new(big("p2")), &second);
        let err = d.decide(&big("p3"), &cache).unwrap_err();
        assert_eq!(
            err.to_string(),
            "0/2 nodes are available: 2 Insufficient cpu."
        );
    }

    #[test]
    fn no_nodes_is_its_own_error() {
        let mut d = Decider::new(Framework::new(&Profile::default()).unwrap(), 0);
        let err = d.decide(&pod("p"), &Cache::new()).unwrap_err();
        assert_eq!(err.num_all_nodes, 0);
    }
}

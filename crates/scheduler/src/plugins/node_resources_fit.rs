//! NodeResourcesFit: a pod fits where the node's allocatable minus what
//! its pods request covers the pod's requests, and the node has room for
//! one more pod (filter); among the nodes that fit, the emptier scores
//! higher (score, upstream's LeastAllocated strategy on cpu and memory,
//! weight 1 each, with the scoring defaults for pods that request nothing).

use std::sync::Arc;

use crate::cache::Cache;
use crate::framework::{CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, ScorePlugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;
use crate::resources::{CPU, EPHEMERAL_STORAGE, MEMORY};

/// Upstream's name.
pub const NAME: &str = "NodeResourcesFit";
/// Why a node with no room for another pod was refused.
pub const TOO_MANY_PODS: &str = "Too many pods";

/// The plugin.
pub struct NodeResourcesFit;

/// For the registry.
pub fn new() -> Arc<dyn Plugin> {
    Arc::new(NodeResourcesFit)
}

/// What `node` lacks for `pod`, in upstream's words ("Too many pods",
/// "Insufficient cpu", ...); empty when it fits. A pod that requests
/// nothing needs only a pod slot.
pub fn insufficient(pod: &PodInfo, node: &NodeInfo) -> Vec<String> {
    let mut out = Vec::new();
    if node.pods.len() as i64 + 1 > node.allocatable.allowed_pod_number {
        out.push(TOO_MANY_PODS.to_string());
    }
    let want = &pod.requests;
    if want.is_zero() {
        return out;
    }
    let (alloc, used) = (&node.allocatable, &node.requested);
    for name in [CPU, MEMORY, EPHEMERAL_STORAGE] {
        let w = want.get(name);
        if w > 0 && w > alloc.get(name) - used.get(name) {
            out.push(format!("Insufficient {name}"));
        }
    }
    for (name, &w) in &want.scalar {
        if w > 0 && w > alloc.get(name) - used.get(name) {
            out.push(format!("Insufficient {name}"));
        }
    }
    out
}

/// `(capacity - requested) * 100 / capacity`, 0 when over capacity.
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// LeastAllocated: the mean of cpu's and memory's
/// [`least_requested_score`] once the pod is added (resources the node
/// does not have are left out).
pub fn least_allocated(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let pairs = [
        (
            node.non_zero_requested.milli_cpu + pod.non_zero.milli_cpu,
            node.allocatable.milli_cpu,
        ),
        (
            node.non_zero_requested.memory + pod.non_zero.memory,
            node.allocatable.memory,
        ),
    ];
    let (mut score, mut weights) = (0, 0);
    for (requested, capacity) in pairs {
        if capacity == 0 {
            continue;
        }
        score += least_requested_score(requested, capacity);
        weights += 1;
    }
    if weights == 0 { 0 } else { score / weights }
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeResourcesFit {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let reasons = insufficient(pod, node);
        if reasons.is_empty() {
            Status::success()
        } else {
            Status {
                code: crate::framework::Code::Unschedulable,
                reasons,
            }
        }
    }
}

impl ScorePlugin for NodeResourcesFit {
    fn pre_score(&self, _: &mut CycleState, _: &PodInfo, _: &[&NodeInfo], _: &Cache) -> Status {
        Status::success()
    }

    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        least_allocated(pod, node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, node_with, pod, pod_with, requests};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn asking(cpu: &str, mem: &str) -> PodInfo {
        pod_with("p", |p| requests(p, &[("cpu", cpu), ("memory", mem)]))
    }

    #[test]
    fn a_pod_fits_while_requests_leave_room() {
        let mut n = node("n"); // 4 cpu, 8Gi
        assert!(insufficient(&asking("4", "8Gi"), &n).is_empty());
        n.add_pod(Arc::new(asking("3", "1Gi")));
        assert_eq!(
            insufficient(&asking("2", "1Gi"), &n),
            vec!["Insufficient cpu"]
        );
        assert_eq!(
            insufficient(&asking("2", "8Gi"), &n),
            vec!["Insufficient cpu", "Insufficient memory"]
        );
        assert!(insufficient(&asking("1", "7Gi"), &n).is_empty());
    }

    #[test]
    fn pods_without_requests_fit_anywhere_with_a_pod_slot() {
        let mut n = node_with("n", |n| {
            n.status
                .get_or_insert_default()
                .allocatable
                .get_or_insert_default()
                .insert("pods".into(), Quantity("1".into()));
        });
        n.add_pod(Arc::new(asking("4", "8Gi")));
        assert_eq!(insufficient(&pod("q"), &n), vec![TOO_MANY_PODS]);
        let mut roomy = node("m");
        roomy.add_pod(Arc::new(asking("4", "8Gi")));
        assert!(insufficient(&pod("q"), &roomy).is_empty());
    }

    #[test]
    fn extended_resources_must_be_allocatable() {
        let gpu = pod_with("p", |p| requests(p, &[("example.com/gpu", "1")]));
        assert_eq!(
            insufficient(&gpu, &node("n")),
            vec!["Insufficient example.com/gpu"]
        );
        let with_gpu = node_with("g", |n| {
            n.status
                .get_or_insert_default()
                .allocatable
                .get_or_insert_default()
                .insert("example.com/gpu".into(), Quantity("2".into()));
        });
        assert!(insufficient(&gpu, &with_gpu).is_empty());
    }

    #[test]
    fn the_emptier_node_scores_higher() {
        let empty = node("a");
        let mut busy = node("b");
        busy.add_pod(Arc::new(asking("2", "4Gi")));
        let p = asking("1", "2Gi");
        // empty: cpu (4-1)/4 = 75, mem (8-2)/8 = 75; busy: 25 and 25.
        assert_eq!(least_allocated(&p, &empty), 75);
        assert_eq!(least_allocated(&p, &busy), 25);
        // No requests: scored as 100m and 200Mi.
        let nz = least_allocated(&pod("q"), &empty);
        assert_eq!(nz, (97 + 97) / 2);
    }
}

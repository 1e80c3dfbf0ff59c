//! NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory
//! would be used in the same proportion once the pod is added (score:
//! `(1 - std) * 100` of the used fractions, on actual requests, as
//! upstream). Pods that request nothing are not scored.

use std::sync::Arc;

use crate::cache::Cache;
use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin, ScorePlugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;

/// Upstream's name.
pub const NAME: &str = "NodeResourcesBalancedAllocation";

/// The plugin.
pub struct BalancedAllocation;

/// For the registry.
pub fn new() -> Arc<dyn Plugin> {
    Arc::new(BalancedAllocation)
}

/// The score of `node` for `pod`.
pub fn balanced(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let pairs = [
        (
            node.requested.milli_cpu + pod.requests.milli_cpu,
            node.allocatable.milli_cpu,
        ),
        (
            node.requested.memory + pod.requests.memory,
            node.allocatable.memory,
        ),
    ];
    let fractions: Vec<f64> = pairs
        .iter()
        .filter(|(_, alloc)| *alloc != 0)
        .map(|&(req, alloc)| (req as f64 / alloc as f64).min(1.0))
        .collect();
    let std = match fractions.as_slice() {
        [a, b] => ((a - b) / 2.0).abs(),
        _ => 0.0,
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl ScorePlugin for BalancedAllocation {
    fn pre_score(&self, _: &mut CycleState, pod: &PodInfo, _: &[&NodeInfo], _: &Cache) -> Status {
        if pod.requests.milli_cpu == 0 && pod.requests.memory == 0 {
            Status::skip()
        } else {
            Status::success()
        }
    }

    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        balanced(pod, node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod_with, requests};

    #[test]
    fn even_use_scores_higher() {
        // 4 cpu, 8Gi: 2 cpu + 4Gi is 50% / 50%.
        let even = pod_with("p", |p| requests(p, &[("cpu", "2"), ("memory", "4Gi")]));
        let lopsided = pod_with("p", |p| requests(p, &[("cpu", "2"), ("memory", "0")]));
        assert_eq!(balanced(&even, &node("n")), 100);
        assert_eq!(balanced(&lopsided, &node("n")), 75);
    }

    #[test]
    fn pods_without_requests_are_not_scored() {
        let p = pod_with("p", |_| {});
        let status =
            BalancedAllocation.pre_score(&mut CycleState::default(), &p, &[], &Cache::new());
        assert_eq!(status.code, crate::framework::Code::Skip);
    }
}

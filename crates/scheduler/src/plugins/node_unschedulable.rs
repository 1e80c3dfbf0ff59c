//! NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes only
//! pods that tolerate the `node.kubernetes.io/unschedulable:NoSchedule`
//! taint.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Taint;

use crate::framework::{CycleState, FilterPlugin, Plugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::plugins::taint_toleration::tolerates_taint;
use crate::podinfo::PodInfo;

/// Upstream's name.
pub const NAME: &str = "NodeUnschedulable";
/// Why a node was refused.
pub const REASON: &str = "node(s) were unschedulable";
/// The taint a cordoned node is treated as having.
pub const TAINT_KEY: &str = "node.kubernetes.io/unschedulable";

/// The plugin.
pub struct NodeUnschedulable;

/// For the registry.
pub fn new() -> Arc<dyn Plugin> {
    Arc::new(NodeUnschedulable)
}

/// Whether `pod` may go to `node` as far as cordoning goes.
pub fn fits(pod: &PodInfo, node: &NodeInfo) -> bool {
    if !node.unschedulable {
        return true;
    }
    let taint = Taint {
        key: TAINT_KEY.into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    };
    pod.spec()
        .tolerations
        .iter()
        .flatten()
        .any(|t| tolerates_taint(t, &taint))
}

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeUnschedulable {
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if fits(pod, node) {
            Status::success()
        } else {
            Status::unresolvable(REASON)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, node_with, pod, pod_with, spec};
    use k8s_openapi::api::core::v1::Toleration;

    #[test]
    fn cordoned_nodes_take_only_tolerating_pods() {
        let cordoned = node_with("n", |n| {
            n.spec.get_or_insert_default().unschedulable = Some(true)
        });
        assert!(fits(&pod("p"), &node("n")));
        assert!(!fits(&pod("p"), &cordoned));
        let tolerant = pod_with("p", |p| {
            spec(p).tolerations = Some(vec![Toleration {
                key: Some(TAINT_KEY.into()),
                operator: Some("Exists".into()),
                effect: Some("NoSchedule".into()),
                ..Default::default()
            }])
        });
        assert!(fits(&tolerant, &cordoned));
    }
}

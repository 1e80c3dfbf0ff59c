//! NodeName: a pod that names its node fits only there.

use std::sync::Arc;

use crate::framework::{CycleState, FilterPlugin, Plugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;

/// Upstream's name.
pub const NAME: &str = "NodeName";
/// Why a node was refused.
pub const REASON: &str = "node(s) didn't match the requested node name";

/// The plugin.
pub struct NodeName;

/// For the registry.
pub fn new() -> Arc<dyn Plugin> {
    Arc::new(NodeName)
}

/// Whether `pod` may go to `node`: it names no node, or this one.
pub fn fits(pod: &PodInfo, node: &NodeInfo) -> bool {
    pod.node_name().is_none_or(|n| n == node.name)
}

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeName {
    fn pre_filter(&self, _: &mut CycleState, pod: &PodInfo, _: &crate::cache::Cache) -> Status {
        if pod.node_name().is_none() {
            Status::skip()
        } else {
            Status::success()
        }
    }

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
    use crate::plugins::testing::{node, pod};

    #[test]
    fn only_the_named_node_fits() {
        let n = node("n1");
        assert!(fits(&pod("p"), &n));
        let mut named = pod("p");
        named.pod.spec.get_or_insert_default().node_name = Some("n1".into());
        let named = PodInfo::new(named.pod);
        assert!(fits(&named, &n));
        assert!(!fits(&named, &node("n2")));
    }
}

//! NodePorts: two pods cannot hold the same host port (and protocol) on
//! one node; `0.0.0.0` conflicts with every address.

use std::sync::Arc;

use crate::cache::Cache;
use crate::framework::{CycleState, FilterPlugin, Plugin, Status};
use crate::nodeinfo::NodeInfo;
use crate::podinfo::{HostPort, PodInfo};

/// Upstream's name.
pub const NAME: &str = "NodePorts";
/// Why a node was refused.
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

const ANY: &str = "0.0.0.0";

/// The plugin.
pub struct NodePorts;

/// For the registry.
pub fn new() -> Arc<dyn Plugin> {
    Arc::new(NodePorts)
}

/// Whether `wanted` collides with a port already held, as upstream's
/// `HostPortInfo.CheckConflict`.
pub fn conflicts(wanted: &HostPort, used: &[HostPort]) -> bool {
    used.iter().any(|u| {
        u.port == wanted.port
            && u.protocol == wanted.protocol
            && (u.ip == wanted.ip || u.ip == ANY || wanted.ip == ANY)
    })
}

/// Whether every host port of `pod` is free on `node`.
pub fn fits(pod: &PodInfo, node: &NodeInfo) -> bool {
    pod.host_ports
        .iter()
        .all(|p| !conflicts(p, &node.used_ports))
}

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodePorts {
    fn pre_filter(&self, _: &mut CycleState, pod: &PodInfo, _: &Cache) -> Status {
        if pod.host_ports.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if fits(pod, node) {
            Status::success()
        } else {
            Status::unschedulable(REASON)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod_with, spec};
    use k8s_openapi::api::core::v1::ContainerPort;

    fn with_port(name: &str, port: i32, ip: Option<&str>, protocol: Option<&str>) -> PodInfo {
        pod_with(name, |p| {
            spec(p).containers[0].ports = Some(vec![ContainerPort {
                container_port: 80,
                host_port: Some(port),
                host_ip: ip.map(str::to_string),
                protocol: protocol.map(str::to_string),
                ..Default::default()
            }])
        })
    }

    #[test]
    fn the_same_port_and_protocol_conflict() {
        let mut n = node("n");
        n.add_pod(Arc::new(with_port("a", 8080, None, None)));
        assert!(!fits(&with_port("b", 8080, None, None), &n));
        assert!(!fits(&with_port("b", 8080, Some("10.0.0.1"), None), &n));
        assert!(fits(&with_port("b", 8080, None, Some("UDP")), &n));
        assert!(fits(&with_port("b", 8081, None, None), &n));
    }

    #[test]
    fn distinct_addresses_do_not_conflict() {
        let mut n = node("n");
        n.add_pod(Arc::new(with_port("a", 53, Some("10.0.0.1"), Some("UDP"))));
        assert!(fits(&with_port("b", 53, Some("10.0.0.2"), Some("UDP")), &n));
        assert!(!fits(
            &with_port("b", 53, Some("10.0.0.1"), Some("UDP")),
            &n
        ));
        assert!(!fits(&with_port("b", 53, None, Some("UDP")), &n));
    }
}

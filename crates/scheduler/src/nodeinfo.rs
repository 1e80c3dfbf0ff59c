//! A node and the pods assigned to it, with their requests summed
//! (upstream's `framework.NodeInfo`): what every filter and score reads.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Taint};

use crate::podinfo::{HostPort, PodInfo};
use crate::resources::{NonZero, Resources};

/// A node as the plugins see it.
#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    /// metadata.name.
    pub name: String,
    /// The object (None for a node the cache only knows from its pods).
    pub node: Option<Arc<Node>>,
    /// metadata.labels.
    pub labels: BTreeMap<String, String>,
    /// spec.taints.
    pub taints: Vec<Taint>,
    /// spec.unschedulable.
    pub unschedulable: bool,
    /// status.allocatable.
    pub allocatable: Resources,
    /// The sum of the assigned pods' requests.
    pub requested: Resources,
    /// The sum of the assigned pods' requests with scoring defaults.
    pub non_zero_requested: NonZero,
    /// The assigned (and assumed) pods.
    pub pods: Vec<Arc<PodInfo>>,
    /// The host ports those pods hold.
    pub used_ports: Vec<HostPort>,
    /// How many of those pods have required anti-affinity terms.
    pub pods_with_required_anti_affinity: usize,
}

// === impl NodeInfo ===

impl NodeInfo {
    /// A node with no pods.
    pub fn new(node: Node) -> NodeInfo {
        let mut info = NodeInfo {
            name: node.metadata.name.clone().unwrap_or_default(),
            ..Default::default()
        };
        info.set_node(Arc::new(node));
        info
    }

    /// A node known only from the pods assigned to it.
    pub fn placeholder(name: &str) -> NodeInfo {
        NodeInfo {
            name: name.to_string(),
            ..Default::default()
        }
    }

    /// Replaces the node object, keeping the pods.
    pub fn set_node(&mut self, node: Arc<Node>) {
        self.labels = node.metadata.labels.clone().unwrap_or_default();
        let spec = node.spec.as_ref();
        self.taints = spec.and_then(|s| s.taints.clone()).unwrap_or_default();
        self.unschedulable = spec.and_then(|s| s.unschedulable).unwrap_or(false);
        self.allocatable = Resources::allocatable(&node);
        self.node = Some(node);
    }

    /// Counts `pod` on this node.
    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        self.requested.add(&pod.requests);
        self.non_zero_requested.milli_cpu += pod.non_zero.milli_cpu;
        self.non_zero_requested.memory += pod.non_zero.memory;
        self.used_ports.extend(pod.host_ports.iter().cloned());
        if !pod.required_anti_affinity.is_empty() {
            self.pods_with_required_anti_affinity += 1;
        }
        self.pods.push(pod);
    }

    /// Stops counting the pod with `key`; returns it if it was here.
    pub fn remove_pod(&mut self, key: &str) -> Option<Arc<PodInfo>> {
        let i = self.pods.iter().position(|p| p.key == key)?;
        let pod = self.pods.swap_remove(i);
        self.requested.sub(&pod.requests);
        self.non_zero_requested.milli_cpu -= pod.non_zero.milli_cpu;
        self.non_zero_requested.memory -= pod.non_zero.memory;
        for port in &pod.host_ports {
            if let Some(j) = self.used_ports.iter().position(|p| p == port) {
                self.used_ports.swap_remove(j);
            }
        }
        if !pod.required_anti_affinity.is_empty() {
            self.pods_with_required_anti_affinity -= 1;
        }
        Some(pod)
    }

    /// The value of a node label.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, ResourceRequirements};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(name: &str, cpu: &str) -> Arc<PodInfo> {
        Arc::new(PodInfo::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    resources: Some(ResourceRequirements {
                        requests: Some(BTreeMap::from([("cpu".into(), Quantity(cpu.into()))])),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    #[test]
    fn pods_add_and_remove_their_requests() {
        let mut n = NodeInfo::placeholder("n");
        n.add_pod(pod("a", "500m"));
        n.add_pod(pod("b", "250m"));
        assert_eq!(n.requested.milli_cpu, 750);
        assert_eq!(n.non_zero_requested.milli_cpu, 750);
        assert!(n.remove_pod("default/a").is_some());
        assert!(n.remove_pod("default/a").is_none());
        assert_eq!(n.requested.milli_cpu, 250);
        assert_eq!(n.pods.len(), 1);
    }
}

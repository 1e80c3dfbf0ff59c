//! The scheduler's view of the cluster: every node and the pods assigned
//! to it, with their requests summed. A pod is *assumed* onto its node as
//! soon as the scheduler decides, before the binding write returns, so the
//! next decision already counts it; the pod watch later confirms it, or a
//! failed binding forgets it (upstream's `internal/cache`).

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Node;

use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;

/// What a node event changed, for requeueing unschedulable pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeChange {
    /// A node the cache did not have.
    Added,
    /// Something a filter reads changed (allocatable, labels, taints,
    /// spec.unschedulable).
    Updated,
    /// Only things no filter reads (conditions, heartbeats, images).
    Unchanged,
}

#[derive(Debug, Clone)]
struct PodState {
    node: String,
    assumed: bool,
}

/// Nodes and assigned pods.
#[derive(Debug, Default)]
pub struct Cache {
    /// The nodes that exist, in the order the scheduler walks them.
    nodes: Vec<NodeInfo>,
    index: HashMap<String, usize>,
    /// Nodes known only from pods assigned to them (not candidates).
    orphans: HashMap<String, NodeInfo>,
    pods: HashMap<String, PodState>,
    /// controller uid -> node -> how many of its pods are there.
    by_controller: HashMap<String, HashMap<String, u32>>,
}

// === impl Cache ===

impl Cache {
    /// An empty cache.
    pub fn new() -> Cache {
        Cache::default()
    }

    /// The nodes, in scheduling order.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).map(|&i| &self.nodes[i])
    }

    /// How many of `controller`'s pods are on each node.
    pub fn controller_pods(&self, controller: &str) -> Option<&HashMap<String, u32>> {
        self.by_controller.get(controller)
    }

    /// Adds or replaces a node.
    pub fn add_node(&mut self, node: Node) -> NodeChange {
        let name = node.metadata.name.clone().unwrap_or_default();
        let node = Arc::new(node);
        if let Some(&i) = self.index.get(&name) {
            let info = &mut self.nodes[i];
            let before = (
                info.labels.clone(),
                info.taints.clone(),
                info.unschedulable,
                info.allocatable.clone(),
            );
            info.set_node(node);
            let after = (
                &info.labels,
                &info.taints,
                info.unschedulable,
                &info.allocatable,
            );
            let same = before.0 == *after.0
                && before.1 == *after.1
                && before.2 == after.2
                && before.3 == *after.3;
            return if same {
                NodeChange::Unchanged
            } else {
                NodeChange::Updated
            };
        }
        let mut info = self
            .orphans
            .remove(&name)
            .unwrap_or_else(|| NodeInfo::placeholder(&name));
        info.set_node(node);
        self.index.insert(name, self.nodes.len());
        self.nodes.push(info);
        NodeChange::Added
    }

    /// Removes a node. Pods still assigned to it stay counted (their own
    /// deletion will follow), on a placeholder that is no candidate.
    pub fn remove_node(&mut self, name: &str) {
        let Some(i) = self.index.remove(name) else {
            return;
        };
        let mut info = self.nodes.swap_remove(i);
        if let Some(moved) = self.nodes.get(i) {
            self.index.insert(moved.name.clone(), i);
        }
        if !info.pods.is_empty() {
            info.node = None;
            self.orphans.insert(name.to_string(), info);
        }
    }

    /// The names of every node the cache holds.
    pub fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }

    /// Whether the pod is assumed or assigned.
    pub fn has_pod(&self, key: &str) -> bool {
        self.pods.contains_key(key)
    }

    /// The pod with `key`, as counted.
    pub fn pod(&self, key: &str) -> Option<Arc<PodInfo>> {
        let state = self.pods.get(key)?;
        let node = match self.index.get(&state.node) {
            Some(&i) => &self.nodes[i],
            None => self.orphans.get(&state.node)?,
        };
        node.pods.iter().find(|p| p.key == key).cloned()
    }

    /// Whether the pod is assumed and not yet confirmed by the watch.
    pub fn is_assumed(&self, key: &str) -> bool {
        self.pods.get(key).is_some_and(|s| s.assumed)
    }

    /// The keys of every pod the watch confirmed (not the assumed ones).
    pub fn confirmed_pod_keys(&self) -> Vec<String> {
        self.pods
            .iter()
            .filter(|(_, s)| !s.assumed)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Counts `pod` on `node` before its binding is written.
    pub fn assume(&mut self, pod: Arc<PodInfo>, node: &str) {
        self.place(pod, node, true);
    }

    /// Undoes [`Cache::assume`] after a failed binding (a pod the watch
    /// has confirmed meanwhile stays).
    pub fn forget(&mut self, key: &str) {
        if self.is_assumed(key) {
            self.remove_pod(key);
        }
    }

    /// Records an assigned pod seen by the watch (new, updated, or
    /// confirming an assumed one).
    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        let Some(node) = pod.node_name().map(str::to_string) else {
            return;
        };
        self.place(pod, &node, false);
    }

    fn place(&mut self, pod: Arc<PodInfo>, node: &str, assumed: bool) {
        self.remove_pod(&pod.key);
        if let Some(c) = &pod.controller_uid {
            *self
                .by_controller
                .entry(c.clone())
                .or_default()
                .entry(node.to_string())
                .or_default() += 1;
        }
        self.pods.insert(
            pod.key.clone(),
            PodState {
                node: node.to_string(),
                assumed,
            },
        );
        self.node_mut(node).add_pod(pod);
    }

    /// Stops counting a pod (deleted, or finished).
    pub fn remove_pod(&mut self, key: &str) {
        let Some(state) = self.pods.remove(key) else {
            return;
        };
        let removed = match self.index.get(&state.node) {
            Some(&i) => self.nodes[i].remove_pod(key),
            None => {
                let removed = self
                    .orphans
                    .get_mut(&state.node)
                    .and_then(|n| n.remove_pod(key));
                if self
                    .orphans
                    .get(&state.node)
                    .is_some_and(|n| n.pods.is_empty())
                {
                    self.orphans.remove(&state.node);
                }
                removed
            }
        };
        if let Some(c) = removed.as_ref().and_then(|p| p.controller_uid.as_ref())
            && let Some(per_node) = self.by_controller.get_mut(c)
        {
            if let Some(n) = per_node.get_mut(&state.node) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    per_node.remove(&state.node);
                }
            }
            if per_node.is_empty() {
                self.by_controller.remove(c);
            }
        }
    }

    fn node_mut(&mut self, name: &str) -> &mut NodeInfo {
        match self.index.get(name) {
            Some(&i) => &mut self.nodes[i],
            None => self
                .orphans
                .entry(name.to_string())
                .or_insert_with(|| NodeInfo::placeholder(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use k8s_openapi::api::core::v1::{Pod, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    fn node(name: &str) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn pod(name: &str, node: Option<&str>) -> Arc<PodInfo> {
        Arc::new(PodInfo::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                owner_references: Some(vec![OwnerReference {
                    uid: "rs".into(),
                    controller: Some(true),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: node.map(str::to_string),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    #[test]
    fn assumed_pods_count_until_forgotten_or_confirmed() {
        let mut c = Cache::new();
        c.add_node(node("n1"));
        c.assume(pod("a", None), "n1");
        assert!(c.is_assumed("ns/a"));
        assert_eq!(c.node("n1").unwrap().pods.len(), 1);
        c.forget("ns/a");
        assert!(!c.has_pod("ns/a"));
        assert_eq!(c.node("n1").unwrap().pods.len(), 0);

        c.assume(pod("b", None), "n1");
        c.add_pod(pod("b", Some("n1")));
        assert!(!c.is_assumed("ns/b"));
        c.forget("ns/b");
        assert_eq!(c.node("n1").unwrap().pods.len(), 1, "confirmed pods stay");
        assert_eq!(c.controller_pods("rs").unwrap()["n1"], 1);
    }

    #[test]
    fn pods_on_unknown_nodes_wait_for_their_node() {
        let mut c = Cache::new();
        c.add_pod(pod("a", Some("later")));
        assert!(c.nodes().is_empty());
        assert_eq!(c.add_node(node("later")), NodeChange::Added);
        assert_eq!(c.node("later").unwrap().pods.len(), 1);
        c.remove_node("later");
        assert!(c.node("later").is_none());
        c.remove_pod("ns/a");
        assert!(c.controller_pods("rs").is_none());
    }

    #[test]
    fn node_updates_say_whether_filters_could_see_a_difference() {
        let mut c = Cache::new();
        c.add_node(node("n"));
        assert_eq!(c.add_node(node("n")), NodeChange::Unchanged);
        let mut n = node("n");
        n.metadata.labels = Some([("zone".to_string(), "a".to_string())].into());
        assert_eq!(c.add_node(n), NodeChange::Updated);
    }

    #[test]
    fn removing_a_node_keeps_the_index_right() {
        let mut c = Cache::new();
        for n in ["a", "b", "c"] {
            c.add_node(node(n));
        }
        c.remove_node("a");
        assert_eq!(c.node("c").unwrap().name, "c");
        assert_eq!(c.node("b").unwrap().name, "b");
        assert_eq!(c.nodes().len(), 2);
    }
}

//! Which node may read which object: upstream's node authorizer graph
//! (pod → node; secret, configmap, pvc, resource claim, service account →
//! pod; pv → pvc; secret → pv; volume attachment → node; resource slice →
//! node), kept as reference-counted indexes so that a question is a few
//! hash lookups.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{PersistentVolume, Pod};
use k8s_openapi::api::storage::v1::VolumeAttachment;

use super::references::{PodReferences, pv_secrets};

/// The kinds of objects the graph relates to nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VertexKind {
    /// A Pod.
    Pod,
    /// A Secret.
    Secret,
    /// A ConfigMap.
    ConfigMap,
    /// A PersistentVolumeClaim.
    PersistentVolumeClaim,
    /// A PersistentVolume (cluster-scoped).
    PersistentVolume,
    /// A ServiceAccount.
    ServiceAccount,
    /// A resource.k8s.io ResourceClaim.
    ResourceClaim,
    /// A storage.k8s.io VolumeAttachment (cluster-scoped).
    VolumeAttachment,
    /// A resource.k8s.io ResourceSlice (cluster-scoped).
    ResourceSlice,
}

/// How many pods on each node refer to one object.
type NodeCounts = HashMap<String, u32>;

/// Objects by namespace and name.
type ByName<T> = HashMap<String, HashMap<String, T>>;

/// What one bound pod contributed.
#[derive(Debug, Clone)]
struct PodEntry {
    node: String,
    refs: PodReferences,
}

/// What one bound persistent volume contributed.
#[derive(Debug, Clone)]
struct PvEntry {
    claim_namespace: String,
    claim_name: String,
    secrets: Vec<(String, String)>,
}

/// The objects each node may read, updated as pods, persistent volumes,
/// volume attachments and resource slices come and go. Share it with the
/// [`NodeAuthorizer`](super::NodeAuthorizer) behind an `RwLock`.
#[derive(Debug, Clone, Default)]
pub struct NodeGraph {
    /// Bound pods.
    pods: ByName<PodEntry>,
    secrets: ByName<NodeCounts>,
    config_maps: ByName<NodeCounts>,
    claims: ByName<NodeCounts>,
    service_accounts: ByName<NodeCounts>,
    resource_claims: ByName<NodeCounts>,
    /// PVs bound to a claim, by name.
    pvs: HashMap<String, PvEntry>,
    /// PV names by the secrets they use.
    pvs_by_secret: ByName<Vec<String>>,
    volume_attachments: HashMap<String, String>,
    resource_slices: HashMap<String, String>,
}

impl NodeGraph {
    /// An empty graph.
    pub fn new() -> NodeGraph {
        NodeGraph::default()
    }

    /// Records a pod (again). A pod bound to a node (`spec.nodeName`) gives
    /// that node access to what it refers to; what it referred to before
    /// is forgotten first, so a pod seen on another node moves. A pod not
    /// bound yet relates to nothing.
    pub fn apply_pod(&mut self, pod: &Pod) {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        self.remove_pod(namespace, name);
        let Some(node) = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .filter(|n| !n.is_empty())
        else {
            return;
        };
        let entry = PodEntry {
            node: node.to_string(),
            refs: PodReferences::of(pod),
        };
        self.count(namespace, &entry, true);
        self.pods
            .entry(namespace.to_string())
            .or_default()
            .insert(name.to_string(), entry);
    }

    /// Forgets a pod (deleted).
    pub fn remove_pod(&mut self, namespace: &str, name: &str) {
        let Some(entry) = remove(&mut self.pods, namespace, name) else {
            return;
        };
        self.count(namespace, &entry, false);
    }

    /// Counts a pod's references for its node, or (`add` false) uncounts
    /// them.
    fn count(&mut self, namespace: &str, entry: &PodEntry, add: bool) {
        let refs = &entry.refs;
        let lists: [(&mut ByName<NodeCounts>, &[String]); 4] = [
            (&mut self.secrets, &refs.secrets),
            (&mut self.config_maps, &refs.config_maps),
            (&mut self.claims, &refs.claims),
            (&mut self.resource_claims, &refs.resource_claims),
        ];
        for (index, names) in lists {
            for name in names {
                adjust(index, namespace, name, &entry.node, add);
            }
        }
        if let Some(account) = &refs.service_account {
            adjust(
                &mut self.service_accounts,
                namespace,
                account,
                &entry.node,
                add,
            );
        }
    }

    /// Records a persistent volume (again). One bound to a claim
    /// (`spec.claimRef`) is readable by the nodes whose pods use that claim,
    /// and so are the secrets its volume source names for the node.
    pub fn apply_pv(&mut self, pv: &PersistentVolume) {
        let name = pv.metadata.name.as_deref().unwrap_or_default();
        self.remove_pv(name);
        let Some(claim) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
            return;
        };
        let entry = PvEntry {
            claim_namespace: claim.namespace.clone().unwrap_or_default(),
            claim_name: claim.name.clone().unwrap_or_default(),
            secrets: pv_secrets(pv),
        };
        for (namespace, secret) in &entry.secrets {
            self.pvs_by_secret
                .entry(namespace.clone())
                .or_default()
                .entry(secret.clone())
                .or_default()
                .push(name.to_string());
        }
        self.pvs.insert(name.to_string(), entry);
    }

    /// Forgets a persistent volume (deleted).
    pub fn remove_pv(&mut self, name: &str) {
        let Some(entry) = self.pvs.remove(name) else {
            return;
        };
        for (namespace, secret) in &entry.secrets {
            let Some(names) = self.pvs_by_secret.get_mut(namespace) else {
                continue;
            };
            if let Some(pvs) = names.get_mut(secret) {
                pvs.retain(|pv| pv != name);
                if pvs.is_empty() {
                    names.remove(secret);
                }
            }
            if names.is_empty() {
                self.pvs_by_secret.remove(namespace);
            }
        }
    }

    /// Records a volume attachment (again): readable by the node it
    /// attaches to.
    pub fn apply_volume_attachment(&mut self, attachment: &VolumeAttachment) {
        let name = attachment.metadata.name.as_deref().unwrap_or_default();
        self.apply_named(Kind::VolumeAttachment, name, &attachment.spec.node_name);
    }

    /// Forgets a volume attachment.
    pub fn remove_volume_attachment(&mut self, name: &str) {
        self.volume_attachments.remove(name);
    }

    /// Records a resource slice (again): readable and writable by the node
    /// named in its `spec.nodeName` ("" for none).
    pub fn apply_resource_slice(&mut self, name: &str, node_name: &str) {
        self.apply_named(Kind::ResourceSlice, name, node_name);
    }

    /// Forgets a resource slice.
    pub fn remove_resource_slice(&mut self, name: &str) {
        self.resource_slices.remove(name);
    }

    fn apply_named(&mut self, kind: Kind, name: &str, node: &str) {
        let map = match kind {
            Kind::VolumeAttachment => &mut self.volume_attachments,
            Kind::ResourceSlice => &mut self.resource_slices,
        };
        if node.is_empty() {
            map.remove(name);
        } else {
            map.insert(name.to_string(), node.to_string());
        }
    }

    /// Whether `node` may reach the object: a pod bound to it refers to the
    /// object (for a persistent volume: to its claim; for a secret: or to
    /// the claim of a volume that uses it), or the object names the node.
    pub fn has_path(&self, node: &str, kind: VertexKind, namespace: &str, name: &str) -> bool {
        match kind {
            VertexKind::Pod => lookup(&self.pods, namespace, name).is_some_and(|p| p.node == node),
            VertexKind::Secret => {
                on_node(&self.secrets, namespace, name, node)
                    || lookup(&self.pvs_by_secret, namespace, name)
                        .is_some_and(|pvs| pvs.iter().any(|pv| self.pv_on_node(pv, node)))
            }
            VertexKind::ConfigMap => on_node(&self.config_maps, namespace, name, node),
            VertexKind::PersistentVolumeClaim => on_node(&self.claims, namespace, name, node),
            VertexKind::PersistentVolume => self.pv_on_node(name, node),
            VertexKind::ServiceAccount => on_node(&self.service_accounts, namespace, name, node),
            VertexKind::ResourceClaim => on_node(&self.resource_claims, namespace, name, node),
            VertexKind::VolumeAttachment => {
                self.volume_attachments.get(name).is_some_and(|n| n == node)
            }
            VertexKind::ResourceSlice => self.resource_slices.get(name).is_some_and(|n| n == node),
        }
    }

    fn pv_on_node(&self, pv: &str, node: &str) -> bool {
        self.pvs
            .get(pv)
            .is_some_and(|e| on_node(&self.claims, &e.claim_namespace, &e.claim_name, node))
    }

    /// How many pods bound to nodes the graph holds.
    pub fn pod_count(&self) -> usize {
        self.pods.values().map(HashMap::len).sum()
    }
}

/// The cluster-scoped objects recorded as a name and a node.
#[derive(Debug, Clone, Copy)]
enum Kind {
    VolumeAttachment,
    ResourceSlice,
}

fn lookup<'a, T>(map: &'a ByName<T>, namespace: &str, name: &str) -> Option<&'a T> {
    map.get(namespace)?.get(name)
}

fn remove<T>(map: &mut ByName<T>, namespace: &str, name: &str) -> Option<T> {
    let names = map.get_mut(namespace)?;
    let value = names.remove(name);
    if names.is_empty() {
        map.remove(namespace);
    }
    value
}

fn on_node(map: &ByName<NodeCounts>, namespace: &str, name: &str, node: &str) -> bool {
    lookup(map, namespace, name).is_some_and(|counts| counts.contains_key(node))
}

fn adjust(map: &mut ByName<NodeCounts>, namespace: &str, name: &str, node: &str, add: bool) {
    if add {
        *map.entry(namespace.to_string())
            .or_default()
            .entry(name.to_string())
            .or_default()
            .entry(node.to_string())
            .or_default() += 1;
        return;
    }
    let Some(names) = map.get_mut(namespace) else {
        return;
    };
    if let Some(counts) = names.get_mut(name) {
        if let Some(count) = counts.get_mut(node) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(node);
            }
        }
        if counts.is_empty() {
            names.remove(name);
        }
    }
    if names.is_empty() {
        map.remove(namespace);
    }
}

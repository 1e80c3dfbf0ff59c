//! Builders of typed pods and nodes for the plugins' unit tests.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    Container, Node, NodeSpec, NodeStatus, Pod, PodSpec, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::cache::Cache;
use crate::nodeinfo::NodeInfo;
use crate::podinfo::PodInfo;

/// A node object with 4 cpus, 8 GiB and 110 pods allocatable.
pub fn node_object(name: &str) -> Node {
    let alloc = BTreeMap::from([
        ("cpu".to_string(), Quantity("4".into())),
        ("memory".to_string(), Quantity("8Gi".into())),
        ("pods".to_string(), Quantity("110".into())),
    ]);
    Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(BTreeMap::from([(
                "kubernetes.io/hostname".to_string(),
                name.to_string(),
            )])),
            ..Default::default()
        },
        spec: Some(NodeSpec::default()),
        status: Some(NodeStatus {
            allocatable: Some(alloc),
            ..Default::default()
        }),
    }
}

/// [`node_object`] as a NodeInfo.
pub fn node(name: &str) -> NodeInfo {
    NodeInfo::new(node_object(name))
}

/// [`node_object`] changed by `f`, as a NodeInfo.
pub fn node_with(name: &str, f: impl FnOnce(&mut Node)) -> NodeInfo {
    let mut n = node_object(name);
    f(&mut n);
    NodeInfo::new(n)
}

/// A pod in `default` with one container requesting nothing.
pub fn pod_object(name: &str) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            uid: Some(format!("uid-{name}")),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "c".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// [`pod_object`] as a PodInfo.
pub fn pod(name: &str) -> PodInfo {
    PodInfo::new(pod_object(name))
}

/// [`pod_object`] changed by `f`, as a PodInfo.
pub fn pod_with(name: &str, f: impl FnOnce(&mut Pod)) -> PodInfo {
    let mut p = pod_object(name);
    f(&mut p);
    PodInfo::new(p)
}

/// The pod's spec.
pub fn spec(p: &mut Pod) -> &mut PodSpec {
    p.spec.get_or_insert_default()
}

/// Sets the first container's requests.
pub fn requests(p: &mut Pod, reqs: &[(&str, &str)]) {
    spec(p).containers[0].resources = Some(ResourceRequirements {
        requests: Some(
            reqs.iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect(),
        ),
        ..Default::default()
    });
}

/// Sets the pod's labels.
pub fn labels(p: &mut Pod, l: &[(&str, &str)]) {
    p.metadata.labels = Some(
        l.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
}

/// A pod assigned to `node` (spec.nodeName set).
pub fn on_node(mut p: PodInfo, node: &str) -> Arc<PodInfo> {
    spec(&mut p.pod).node_name = Some(node.into());
    Arc::new(PodInfo::new(p.pod))
}

/// A cache holding `nodes` and then `pods` (assigned ones).
pub fn cache(nodes: Vec<NodeInfo>, pods: Vec<Arc<PodInfo>>) -> Cache {
    let mut c = Cache::new();
    for n in nodes {
        if let Some(obj) = n.node {
            c.add_node((*obj).clone());
        }
    }
    for p in pods {
        c.add_pod(p);
    }
    c
}

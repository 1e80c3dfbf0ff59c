//! Stand-ins for nodes and kubelets: Node objects created through the API
//! and pod status written the way a kubelet writes it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ContainerStatus, Node, NodeCondition, NodeSpec, NodeStatus, Pod, PodCondition, PodStatus,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};

use crate::Error;

/// A Ready node named `name` with `cpu` (e.g. "4") and `memory` (e.g.
/// "8Gi") allocatable, and up to 110 pods, as a kubelet registers it.
pub fn node_object(name: &str, cpu: &str, memory: &str) -> Node {
    let mut capacity = BTreeMap::new();
    capacity.insert("cpu".to_string(), Quantity(cpu.into()));
    capacity.insert("memory".to_string(), Quantity(memory.into()));
    capacity.insert("pods".to_string(), Quantity("110".into()));
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(BTreeMap::from([
                ("kubernetes.io/hostname".to_string(), name.to_string()),
                ("kubernetes.io/os".to_string(), "linux".to_string()),
            ])),
            ..Default::default()
        },
        spec: Some(NodeSpec::default()),
        status: Some(NodeStatus {
            allocatable: Some(capacity.clone()),
            capacity: Some(capacity),
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: "True".into(),
                reason: Some("KubeletReady".into()),
                message: Some("kubelet is posting ready status".into()),
                last_heartbeat_time: Some(now.clone()),
                last_transition_time: Some(now),
            }]),
            ..Default::default()
        }),
    }
}

/// Creates a Ready node through the API (spec, then status through
/// `nodes/status` as a kubelet does).
pub async fn fake_node(
    client: &Client,
    name: &str,
    cpu: &str,
    memory: &str,
) -> Result<Node, Error> {
    let nodes: Api<Node> = Api::all(client.clone());
    let node = node_object(name, cpu, memory);
    nodes.create(&PostParams::default(), &node).await?;
    let status = serde_json::json!({"status": node.status});
    Ok(nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await?)
}

/// What a fake kubelet reports for a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodState {
    /// Running, containers ready.
    RunningReady,
    /// Running, not ready.
    RunningNotReady,
    /// Finished successfully.
    Succeeded,
    /// Finished with a failure.
    Failed,
}

/// Writes `pod`'s status as its kubelet would for `state`.
pub async fn mark_pod(client: &Client, pod: &Pod, state: PodState) -> Result<Pod, Error> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let (phase, ready) = match state {
        PodState::RunningReady => ("Running", true),
        PodState::RunningNotReady => ("Running", false),
        PodState::Succeeded => ("Succeeded", false),
        PodState::Failed => ("Failed", false),
    };
    let cond = |type_: &str, ok: bool| PodCondition {
        type_: type_.into(),
        status: if ok { "True" } else { "False" }.into(),
        last_transition_time: Some(now.clone()),
        ..Default::default()
    };
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.clone())
        .unwrap_or_default();
    let statuses: Vec<ContainerStatus> = containers
        .iter()
        .map(|c| ContainerStatus {
            name: c.name.clone(),
            image: c.image.clone().unwrap_or_default(),
            image_id: String::new(),
            ready,
            restart_count: 0,
            started: Some(phase == "Running"),
            ..Default::default()
        })
        .collect();
    let status = PodStatus {
        phase: Some(phase.into()),
        conditions: Some(vec![
            cond("PodScheduled", true),
            cond("Initialized", true),
            cond("ContainersReady", ready),
            cond("Ready", ready),
        ]),
        container_statuses: Some(statuses),
        pod_ip: Some(pod_ip(ns, name)),
        host_ip: Some("10.0.0.1".into()),
        start_time: Some(now.clone()),
        ..Default::default()
    };
    let body = serde_json::json!({"status": status});
    Ok(api
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
        .await?)
}

/// A stable address for a pod, distinct for distinct pods in practice
/// (10.244.0.0/16 as the default cluster CIDR).
pub fn pod_ip(namespace: &str, name: &str) -> String {
    // FNV-1a: tiny, stable across runs (std's hasher is randomized).
    let mut h: u32 = 0x811c_9dc5;
    for b in namespace.bytes().chain([b'/']).chain(name.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("10.244.{}.{}", (h >> 8) & 0xff, (h & 0xfd) + 1)
}

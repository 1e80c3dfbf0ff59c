//! The planner alone: placement, updates in place, recycling.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, Node, Pod, PodCondition, PodSpec, PodStatus, Service, ServicePort,
    ServiceSpec,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Plan, plan};

fn service() -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("ns".into()),
            uid: Some("svc-uid".into()),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            cluster_ip: Some("10.96.0.10".into()),
            ip_families: Some(vec!["IPv4".into()]),
            selector: Some(BTreeMap::from([("app".into(), "web".into())])),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 80,
                target_port: Some(
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(8080),
                ),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn pod(i: usize, ready: bool) -> Arc<Pod> {
    Arc::new(Pod {
        metadata: ObjectMeta {
            name: Some(format!("p{i}")),
            namespace: Some("ns".into()),
            uid: Some(format!("uid-{i}")),
            ..Default::default()
        },
        spec: Some(PodSpec {
            node_name: Some("n".into()),
            containers: vec![Container {
                name: "c".into(),
                ports: Some(vec![ContainerPort {
                    container_port: 8080,
                    ..Default::default()
                }]),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: Some(PodStatus {
            pod_ip: Some(format!("10.0.{}.{}", i / 250, i % 250 + 1)),
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    })
}

fn node(_: &str) -> Option<Arc<Node>> {
    Some(Arc::new(Node::default()))
}

/// Applies a plan as the server would, naming created slices.
fn apply(existing: Vec<Arc<EndpointSlice>>, p: Plan) -> Vec<Arc<EndpointSlice>> {
    let mut by_name: BTreeMap<String, EndpointSlice> = existing
        .into_iter()
        .map(|s| (s.metadata.name.clone().unwrap(), (*s).clone()))
        .collect();
    for d in p.delete {
        by_name.remove(d.metadata.name.as_ref().unwrap());
    }
    for u in p.update {
        by_name.insert(u.metadata.name.clone().unwrap(), u);
    }
    for (i, mut c) in p.create.into_iter().enumerate() {
        let name = format!("web-{}{i}", by_name.len());
        c.metadata.name = Some(name.clone());
        by_name.insert(name, c);
    }
    by_name.into_values().map(Arc::new).collect()
}

#[test]
fn fills_slices_up_to_the_limit_and_then_changes_nothing() {
    let svc = service();
    let pods: Vec<_> = (0..25).map(|i| pod(i, true)).collect();
    let first = plan(&svc, &pods, &node, &[], 10);
    assert_eq!(first.create.len(), 3);
    let slices = apply(vec![], first);
    let mut sizes: Vec<usize> = slices.iter().map(|s| s.endpoints.len()).collect();
    sizes.sort();
    assert_eq!(sizes, vec![5, 10, 10]);
    let again = plan(&svc, &pods, &node, &slices, 10);
    assert!(again.create.is_empty() && again.update.is_empty() && again.delete.is_empty());
}

#[test]
fn a_changed_endpoint_updates_only_its_slice() {
    let svc = service();
    let mut pods: Vec<_> = (0..15).map(|i| pod(i, true)).collect();
    let slices = apply(vec![], plan(&svc, &pods, &node, &[], 10));
    pods[3] = pod(3, false);
    let p = plan(&svc, &pods, &node, &slices, 10);
    assert!(p.create.is_empty() && p.delete.is_empty());
    assert_eq!(p.update.len(), 1);
    let ep = p.update[0]
        .endpoints
        .iter()
        .find(|e| e.target_ref.as_ref().unwrap().name.as_deref() == Some("p3"))
        .unwrap();
    assert_eq!(ep.conditions.as_ref().unwrap().ready, Some(false));
}

#[test]
fn emptied_slices_are_recycled_for_new_port_sets() {
    let svc = service();
    let pods: Vec<_> = (0..3).map(|i| pod(i, true)).collect();
    let slices = apply(vec![], plan(&svc, &pods, &node, &[], 10));
    // The target port changes: the old port set's slice is renamed into
    // the new one instead of a delete and a create.
    let mut moved = svc.clone();
    moved.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].target_port =
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(9090));
    let p = plan(&moved, &pods, &node, &slices, 10);
    assert!(p.create.is_empty() && p.delete.is_empty(), "{p:?}");
    assert_eq!(p.update.len(), 1);
    assert_eq!(p.update[0].metadata.name, slices[0].metadata.name);
    assert_eq!(p.update[0].ports.as_ref().unwrap()[0].port, Some(9090));
}

#[test]
fn pods_on_unknown_nodes_are_skipped_and_reported() {
    let svc = service();
    let pods = vec![pod(0, true)];
    let p = plan(&svc, &pods, &|_| None, &[], 10);
    assert_eq!(p.skipped.len(), 1);
    // Nothing selected that can be placed: the placeholder.
    assert_eq!(p.create.len(), 1);
    assert!(p.create[0].endpoints.is_empty());
}

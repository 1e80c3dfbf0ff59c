//! The EndpointSlice controller (and the mirroring controller) against a
//! real API server: slice naming, labels and owner; endpoint conditions
//! following readiness and termination; node, zone and target; ports
//! resolved per port set; at most 100 endpoints per slice; placeholders;
//! user Endpoints mirrored unless they opt out.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use ironclad_controllers::{Config, Context, endpointslice};
use ironclad_testkit::{PodState, TestCluster, eventually, mark_pod, node_object, pod_ip};
use k8s_openapi::api::core::v1::{Endpoints, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(15);
const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";

async fn start() -> (TestCluster, Client) {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    let mut node = node_object("node-a", "4", "8Gi");
    node.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert("topology.kubernetes.io/zone".into(), "zone-1".into());
    Api::<Node>::all(client.clone())
        .create(&PostParams::default(), &node)
        .await
        .unwrap();
    tokio::spawn(endpointslice::run(Context::new(
        client.clone(),
        Config::default(),
    )));
    (cluster, client)
}

async fn create_pod(client: &Client, name: &str, app: &str, ports: &[(&str, i32)]) -> Pod {
    let ports: Vec<_> = ports
        .iter()
        .map(|(n, p)| json!({"name": n, "containerPort": p}))
        .collect();
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {
            "nodeName": "node-a",
            "containers": [{"name": "c", "image": "nginx", "ports": ports}]
        }
    }))
    .unwrap();
    Api::<Pod>::default_namespaced(client.clone())
        .create(&PostParams::default(), &pod)
        .await
        .unwrap()
}

async fn create_service(client: &Client, body: serde_json::Value) -> Service {
    let svc: Service = serde_json::from_value(body).unwrap();
    Api::<Service>::default_namespaced(client.clone())
        .create(&PostParams::default(), &svc)
        .await
        .unwrap()
}

/// The slices of `service` once `done` holds for them.
async fn wait_slices(
    client: &Client,
    service: &str,
    what: &str,
    done: impl Fn(&[EndpointSlice]) -> bool,
) -> Vec<EndpointSlice> {
    let api = Api::<EndpointSlice>::default_namespaced(client.clone());
    let params = ListParams::default().labels(&format!("kubernetes.io/service-name={service}"));
    let done = &done;
    eventually(&format!("slices of {service}: {what}"), WAIT, || {
        let api = api.clone();
        let params = params.clone();
        async move {
            let list = api.list(&params).await.ok()?.items;
            done(&list).then_some(list)
        }
    })
    .await
}

fn all_endpoints(slices: &[EndpointSlice]) -> Vec<&k8s_openapi::api::discovery::v1::Endpoint> {
    slices.iter().flat_map(|s| s.endpoints.iter()).collect()
}

fn ready_of(slices: &[EndpointSlice], pod: &str) -> Option<(bool, bool, bool)> {
    let ep = all_endpoints(slices)
        .into_iter()
        .find(|e| e.target_ref.as_ref().and_then(|r| r.name.as_deref()) == Some(pod))?;
    let c = ep.conditions.as_ref()?;
    Some((c.ready?, c.serving?, c.terminating?))
}

#[tokio::test]
async fn slices_follow_readiness_and_termination() {
    let (_cluster, client) = start().await;
    let svc = create_service(
        &client,
        json!({
            "metadata": {"name": "web", "labels": {"tier": "front"}},
            "spec": {
                "selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}]
            }
        }),
    )
    .await;

    // No pods yet: one placeholder slice.
    let slices = wait_slices(&client, "web", "a placeholder", |s| s.len() == 1).await;
    let placeholder = &slices[0];
    assert!(placeholder.endpoints.is_empty());
    assert!(
        placeholder
            .metadata
            .name
            .as_ref()
            .unwrap()
            .starts_with("web-")
    );
    assert_eq!(placeholder.metadata.generate_name.as_deref(), Some("web-"));
    let labels = placeholder.metadata.labels.clone().unwrap();
    assert_eq!(labels[MANAGED_BY], "endpointslice-controller.k8s.io");
    assert_eq!(labels["kubernetes.io/service-name"], "web");
    assert_eq!(labels["tier"], "front");
    let owner = &placeholder.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (
            owner.kind.as_str(),
            owner.name.as_str(),
            owner.controller,
            owner.block_owner_deletion
        ),
        ("Service", "web", Some(true), Some(true))
    );
    assert_eq!(Some(&owner.uid), svc.metadata.uid.as_ref());
    assert_eq!(placeholder.address_type, "IPv4");

    let pod = create_pod(&client, "web-1", "web", &[("http", 8080)]).await;
    mark_pod(&client, &pod, PodState::RunningNotReady)
        .await
        .unwrap();
    let slices = wait_slices(&client, "web", "web-1 not ready", |s| {
        ready_of(s, "web-1") == Some((false, false, false))
    })
    .await;
    // The placeholder was reused, not replaced.
    assert_eq!(slices.len(), 1);
    assert_eq!(slices[0].metadata.name, placeholder.metadata.name);
    let ep = &slices[0].endpoints[0];
    assert_eq!(ep.addresses, vec![pod_ip("default", "web-1")]);
    assert_eq!(ep.node_name.as_deref(), Some("node-a"));
    assert_eq!(ep.zone.as_deref(), Some("zone-1"));
    let target = ep.target_ref.as_ref().unwrap();
    assert_eq!(target.kind.as_deref(), Some("Pod"));
    assert_eq!(target.uid, pod.metadata.uid);
    let port = &slices[0].ports.as_ref().unwrap()[0];
    assert_eq!(
        (port.name.as_deref(), port.port),
        (Some("http"), Some(8080))
    );

    mark_pod(&client, &pod, PodState::RunningReady)
        .await
        .unwrap();
    wait_slices(&client, "web", "web-1 ready", |s| {
        ready_of(s, "web-1") == Some((true, true, false))
    })
    .await;

    // Terminating: still listed, serving, not ready.
    Api::<Pod>::default_namespaced(client.clone())
        .delete("web-1", &DeleteParams::default())
        .await
        .unwrap();
    wait_slices(&client, "web", "web-1 terminating", |s| {
        ready_of(s, "web-1") == Some((false, true, true))
    })
    .await;
}

#[tokio::test]
async fn port_sets_and_the_hundred_endpoint_limit() {
    let (_cluster, client) = start().await;
    create_service(
        &client,
        json!({
            "metadata": {"name": "big"},
            "spec": {
                "selector": {"app": "big"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}]
            }
        }),
    )
    .await;
    // 120 pods on container port 8080, 3 on 9090: three slices.
    let mut pods = Vec::new();
    for i in 0..123 {
        let port = if i < 120 { 8080 } else { 9090 };
        pods.push(create_pod(&client, &format!("big-{i}"), "big", &[("http", port)]).await);
    }
    for p in &pods {
        mark_pod(&client, p, PodState::RunningReady).await.unwrap();
    }
    let slices = wait_slices(&client, "big", "123 endpoints", |s| {
        all_endpoints(s).len() == 123
    })
    .await;
    let mut shape: Vec<(i32, usize)> = slices
        .iter()
        .map(|s| {
            (
                s.ports.as_ref().unwrap()[0].port.unwrap(),
                s.endpoints.len(),
            )
        })
        .collect();
    shape.sort();
    assert_eq!(shape, vec![(8080, 20), (8080, 100), (9090, 3)]);
}

#[tokio::test]
async fn headless_services_get_slices_without_ports() {
    let (_cluster, client) = start().await;
    create_service(
        &client,
        json!({"metadata": {"name": "db"}, "spec": {"clusterIP": "None", "selector": {"app": "db"}}}),
    )
    .await;
    let pod = create_pod(&client, "db-0", "db", &[]).await;
    mark_pod(&client, &pod, PodState::RunningReady)
        .await
        .unwrap();
    let slices = wait_slices(&client, "db", "db-0 ready", |s| {
        ready_of(s, "db-0") == Some((true, true, false))
    })
    .await;
    // Headless without families: IPv4 and IPv6 slices (the latter a
    // placeholder, the pod having no IPv6 address).
    let v4 = slices.iter().find(|s| s.address_type == "IPv4").unwrap();
    assert!(v4.ports.as_ref().is_none_or(Vec::is_empty));
    let labels = v4.metadata.labels.clone().unwrap();
    assert_eq!(
        labels
            .get("service.kubernetes.io/headless")
            .map(String::as_str),
        Some("")
    );
}

#[tokio::test]
async fn user_endpoints_are_mirrored_unless_they_opt_out() {
    let (_cluster, client) = start().await;
    create_service(
        &client,
        json!({"metadata": {"name": "external"}, "spec": {"ports": [{"name": "pg", "port": 5432}]}}),
    )
    .await;
    let manual: Endpoints = serde_json::from_value(json!({
        "metadata": {"name": "external", "labels": {"team": "data"}},
        "subsets": [{
            "addresses": [{"ip": "192.0.2.10"}],
            "notReadyAddresses": [{"ip": "192.0.2.11"}],
            "ports": [{"name": "pg", "port": 5432}]
        }]
    }))
    .unwrap();
    let endpoints = Api::<Endpoints>::default_namespaced(client.clone());
    endpoints
        .create(&PostParams::default(), &manual)
        .await
        .unwrap();
    let slices = wait_slices(&client, "external", "mirrored", |s| {
        all_endpoints(s).len() == 2
    })
    .await;
    assert_eq!(slices.len(), 1);
    let s = &slices[0];
    let labels = s.metadata.labels.clone().unwrap();
    assert_eq!(
        labels[MANAGED_BY],
        "endpointslicemirroring-controller.k8s.io"
    );
    assert_eq!(labels["team"], "data");
    let owner = &s.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("Endpoints", "external")
    );
    let ready: BTreeMap<String, bool> = s
        .endpoints
        .iter()
        .map(|e| {
            (
                e.addresses[0].clone(),
                e.conditions.as_ref().unwrap().ready.unwrap(),
            )
        })
        .collect();
    assert!(ready["192.0.2.10"]);
    assert!(!ready["192.0.2.11"]);

    // Opting out removes the mirror.
    let skip = json!({"metadata": {"labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}}});
    endpoints
        .patch("external", &PatchParams::default(), &Patch::Merge(&skip))
        .await
        .unwrap();
    wait_slices(&client, "external", "no mirror", |s| s.is_empty()).await;

    // The API server's own Endpoints are never mirrored.
    let mirrored = Api::<EndpointSlice>::default_namespaced(client.clone())
        .list(&ListParams::default().labels(&format!(
            "{MANAGED_BY}=endpointslicemirroring-controller.k8s.io"
        )))
        .await
        .unwrap();
    assert!(mirrored.items.is_empty());
}

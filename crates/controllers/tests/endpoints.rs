//! The endpoints controller against a real API server: addresses follow pod
//! readiness, named target ports resolve per pod, headless Services get
//! port-less subsets, selectorless Services keep their user's Endpoints,
//! and nothing is written when nothing changed.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use ironclad_controllers::{Config, Context, endpoints};
use ironclad_testkit::{PodState, TestCluster, eventually, fake_node, mark_pod, pod_ip};
use k8s_openapi::api::core::v1::{EndpointSubset, Endpoints, Pod, Service};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

async fn start() -> (TestCluster, Client) {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client().unwrap();
    fake_node(&client, "node-a", "4", "8Gi").await.unwrap();
    tokio::spawn(endpoints::run(Context::new(
        client.clone(),
        Config::default(),
    )));
    (cluster, client)
}

/// A pod of app `app` on node-a, with named container ports.
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

/// (ready IPs, not-ready IPs, ports) of each subset.
type Shape = Vec<(Vec<String>, Vec<String>, Vec<(String, i32)>)>;

fn shape(subsets: &[EndpointSubset]) -> Shape {
    let ips = |l: &Option<Vec<k8s_openapi::api::core::v1::EndpointAddress>>| {
        let mut ips = l.iter().flatten().map(|a| a.ip.clone()).collect::<Vec<_>>();
        ips.sort();
        ips
    };
    let mut s: Shape = subsets
        .iter()
        .map(|s| {
            let mut ports: Vec<(String, i32)> = s
                .ports
                .iter()
                .flatten()
                .map(|p| (p.name.clone().unwrap_or_default(), p.port))
                .collect();
            ports.sort();
            (ips(&s.addresses), ips(&s.not_ready_addresses), ports)
        })
        .collect();
    s.sort();
    s
}

async fn wait_shape(client: &Client, name: &str, want: Shape) -> Endpoints {
    let api = Api::<Endpoints>::default_namespaced(client.clone());
    let mut want = want;
    for (ready, not_ready, _) in &mut want {
        ready.sort();
        not_ready.sort();
    }
    want.sort();
    let last = std::sync::Arc::new(std::sync::Mutex::new(None));
    let found = tokio::time::timeout(
        WAIT,
        eventually(
            &format!("endpoints {name} to be {want:?}"),
            WAIT * 2,
            || {
                let api = api.clone();
                let want = want.clone();
                let last = last.clone();
                async move {
                    let ep = api.get_opt(name).await.ok()??;
                    let got = shape(ep.subsets.as_deref().unwrap_or_default());
                    let done = got == want;
                    *last.lock().unwrap() = Some(got);
                    done.then_some(ep)
                }
            },
        ),
    )
    .await;
    match found {
        Ok(ep) => ep,
        Err(_) => panic!(
            "endpoints {name}: wanted {want:?}, last saw {:?}",
            last.lock().unwrap()
        ),
    }
}

fn ip(pod: &str) -> String {
    pod_ip("default", pod)
}

#[tokio::test]
async fn addresses_follow_readiness_and_named_ports() {
    let (_cluster, client) = start().await;
    create_service(
        &client,
        json!({
            "metadata": {"name": "web", "labels": {"tier": "front"}},
            "spec": {
                "selector": {"app": "web"},
                "ports": [
                    {"name": "http", "port": 80, "targetPort": "http"},
                    {"name": "metrics", "port": 9090, "targetPort": 9100}
                ]
            }
        }),
    )
    .await;
    let with_http = create_pod(&client, "web-1", "web", &[("http", 8080)]).await;
    let without_http = create_pod(&client, "web-2", "web", &[("admin", 7000)]).await;
    create_pod(&client, "other", "db", &[("http", 8080)]).await;

    // Pods without an IP are not endpoints yet.
    let ep = wait_shape(&client, "web", vec![]).await;
    // First sync of a new Service: triggered by its creation.
    let annotations = ep.metadata.annotations.unwrap_or_default();
    assert!(annotations.contains_key("endpoints.kubernetes.io/last-change-trigger-time"));
    let labels = ep.metadata.labels.unwrap_or_default();
    assert_eq!(labels["tier"], "front");
    assert_eq!(
        labels["endpoints.kubernetes.io/managed-by"],
        "endpoint-controller"
    );
    assert!(!labels.contains_key("service.kubernetes.io/headless"));

    let p = |s: &str, n: i32| (s.to_string(), n);
    mark_pod(&client, &with_http, PodState::RunningNotReady)
        .await
        .unwrap();
    mark_pod(&client, &without_http, PodState::RunningNotReady)
        .await
        .unwrap();
    wait_shape(
        &client,
        "web",
        // Upstream's packing: one subset per distinct set of addresses, so
        // the port web-2 lacks gets a subset of its own.
        vec![
            (
                vec![],
                vec![ip("web-1"), ip("web-2")],
                vec![p("metrics", 9100)],
            ),
            (vec![], vec![ip("web-1")], vec![p("http", 8080)]),
        ],
    )
    .await;

    // Ready: moves from notReadyAddresses to addresses.
    mark_pod(&client, &with_http, PodState::RunningReady)
        .await
        .unwrap();
    let ep = wait_shape(
        &client,
        "web",
        vec![
            (
                vec![ip("web-1")],
                vec![ip("web-2")],
                vec![p("metrics", 9100)],
            ),
            (vec![ip("web-1")], vec![], vec![p("http", 8080)]),
        ],
    )
    .await;
    let subsets = ep.subsets.unwrap();
    let addr = subsets
        .iter()
        .flat_map(|s| s.addresses.iter().flatten())
        .next()
        .unwrap();
    assert_eq!(addr.node_name.as_deref(), Some("node-a"));
    let target = addr.target_ref.as_ref().unwrap();
    assert_eq!(target.kind.as_deref(), Some("Pod"));
    assert_eq!(target.name.as_deref(), Some("web-1"));
    assert_eq!(target.namespace.as_deref(), Some("default"));
    assert_eq!(target.uid, with_http.metadata.uid);

    // Deleted (a bound pod only gets a deletionTimestamp): gone at once.
    Api::<Pod>::default_namespaced(client.clone())
        .delete("web-1", &DeleteParams::default())
        .await
        .unwrap();
    wait_shape(
        &client,
        "web",
        vec![(vec![], vec![ip("web-2")], vec![p("metrics", 9100)])],
    )
    .await;

    // Labels leaving the selector: gone too.
    let relabel = json!({"metadata": {"labels": {"app": "elsewhere"}}});
    Api::<Pod>::default_namespaced(client.clone())
        .patch("web-2", &PatchParams::default(), &Patch::Merge(&relabel))
        .await
        .unwrap();
    wait_shape(&client, "web", vec![]).await;
}

#[tokio::test]
async fn headless_services_and_hostnames() {
    let (_cluster, client) = start().await;
    create_service(
        &client,
        json!({
            "metadata": {"name": "db"},
            "spec": {"clusterIP": "None", "selector": {"app": "db"}}
        }),
    )
    .await;
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "db-0", "labels": {"app": "db"}},
        "spec": {
            "nodeName": "node-a",
            "hostname": "db-0",
            "subdomain": "db",
            "containers": [{"name": "c", "image": "postgres"}]
        }
    }))
    .unwrap();
    let pod = Api::<Pod>::default_namespaced(client.clone())
        .create(&PostParams::default(), &pod)
        .await
        .unwrap();
    mark_pod(&client, &pod, PodState::RunningReady)
        .await
        .unwrap();
    let ep = wait_shape(&client, "db", vec![(vec![ip("db-0")], vec![], vec![])]).await;
    let labels = ep.metadata.labels.unwrap_or_default();
    assert_eq!(
        labels
            .get("service.kubernetes.io/headless")
            .map(String::as_str),
        Some("")
    );
    let subsets = ep.subsets.unwrap();
    let addr = &subsets[0].addresses.as_ref().unwrap()[0];
    assert_eq!(addr.hostname.as_deref(), Some("db-0"));

    // publishNotReadyAddresses: a not-ready pod is still an address.
    let patch = json!({"spec": {"publishNotReadyAddresses": true}});
    Api::<Service>::default_namespaced(client.clone())
        .patch("db", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    mark_pod(&client, &pod, PodState::RunningNotReady)
        .await
        .unwrap();
    wait_shape(&client, "db", vec![(vec![ip("db-0")], vec![], vec![])]).await;
}

#[tokio::test]
async fn user_endpoints_are_left_alone_and_go_with_their_service() {
    let (_cluster, client) = start().await;
    let endpoints = Api::<Endpoints>::default_namespaced(client.clone());
    create_service(
        &client,
        json!({"metadata": {"name": "external"}, "spec": {"ports": [{"port": 5432}]}}),
    )
    .await;
    let manual: Endpoints = serde_json::from_value(json!({
        "metadata": {"name": "external"},
        "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 5432}]}]
    }))
    .unwrap();
    endpoints
        .create(&PostParams::default(), &manual)
        .await
        .unwrap();

    create_service(
        &client,
        json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    )
    .await;
    let pod = create_pod(&client, "web-1", "web", &[]).await;
    mark_pod(&client, &pod, PodState::RunningReady)
        .await
        .unwrap();
    wait_shape(
        &client,
        "web",
        vec![(vec![ip("web-1")], vec![], vec![(String::new(), 80)])],
    )
    .await;

    // The controller has synced everything; the manual object is untouched.
    let got = endpoints.get("external").await.unwrap();
    assert_eq!(
        shape(&got.subsets.unwrap()),
        vec![(
            vec!["192.0.2.10".to_string()],
            vec![],
            vec![(String::new(), 5432)]
        )]
    );
    assert!(got.metadata.labels.is_none_or(|l| l.is_empty()));

    // The API server's own Endpoints are not the controller's either.
    let kubernetes = endpoints.get("kubernetes").await.unwrap();
    assert!(
        !kubernetes
            .metadata
            .labels
            .unwrap_or_default()
            .contains_key("endpoints.kubernetes.io/managed-by")
    );

    Api::<Service>::default_namespaced(client.clone())
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    eventually("endpoints web to go with its service", WAIT, || {
        let endpoints = endpoints.clone();
        async move { endpoints.get_opt("web").await.ok()?.is_none().then_some(()) }
    })
    .await;
}

#[tokio::test]
async fn unrelated_pod_changes_write_nothing() {
    let (_cluster, client) = start().await;
    create_service(
        &client,
        json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    )
    .await;
    let a = create_pod(&client, "web-1", "web", &[]).await;
    let b = create_pod(&client, "web-2", "web", &[]).await;
    mark_pod(&client, &a, PodState::RunningReady).await.unwrap();
    let ep = wait_shape(
        &client,
        "web",
        vec![(vec![ip("web-1")], vec![], vec![(String::new(), 80)])],
    )
    .await;

    let api = Api::<Endpoints>::default_namespaced(client.clone());
    let rv = ep.metadata.resource_version.unwrap();
    let params = WatchParams::default().fields("metadata.name=web");
    let mut events = api.watch(&params, &rv).await.unwrap().boxed();

    // An annotation on a selected pod changes no address...
    let annotate = json!({"metadata": {"annotations": {"note": "hello"}}});
    Api::<Pod>::default_namespaced(client.clone())
        .patch("web-1", &PatchParams::default(), &Patch::Merge(&annotate))
        .await
        .unwrap();
    // ...then a real change, after which exactly one write shows.
    mark_pod(&client, &b, PodState::RunningReady).await.unwrap();
    wait_shape(
        &client,
        "web",
        vec![(
            vec![ip("web-1"), ip("web-2")],
            vec![],
            vec![(String::new(), 80)],
        )],
    )
    .await;
    let first = tokio::time::timeout(WAIT, events.try_next())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(first, Some(WatchEvent::Modified(_))), "{first:?}");
    // The controller has nothing more to do: a further write would show up
    // right after the one above; a bookmark-free quiet second says none came.
    let more = tokio::time::timeout(Duration::from_secs(1), events.next()).await;
    assert!(more.is_err(), "unexpected second write: {more:?}");
}

//! The service registry: ClusterIPs and NodePorts, unique under concurrent
//! creates, released on delete, requested ones honoured or refused; the
//! `kubernetes` Service; headless Services.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use http::StatusCode;
use serde_json::{Value, json};
use support::Server;

const SVCS: &str = "/api/v1/namespaces/default/services";

fn svc(name: &str, spec: Value) -> Value {
    json!({"metadata": {"name": name}, "spec": spec})
}

#[tokio::test]
async fn the_kubernetes_service_points_at_the_api_server() {
    let s = Server::start().await;
    let (code, k) = s.call("GET", &format!("{SVCS}/kubernetes"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(k["spec"]["clusterIP"], "10.96.0.1");
    assert_eq!(k["spec"]["ports"][0]["port"], 443);
    let (_, ep) = s
        .call(
            "GET",
            "/api/v1/namespaces/default/endpoints/kubernetes",
            None,
        )
        .await;
    assert_eq!(ep["subsets"][0]["addresses"][0]["ip"], "127.0.0.1");
    assert_eq!(ep["subsets"][0]["ports"][0]["port"], 6443);
}

#[tokio::test]
async fn concurrent_creates_get_distinct_ips_and_ports() {
    let s = Arc::new(Server::start().await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let (code, v) = s
                .call(
                    "POST",
                    SVCS,
                    Some(svc(
                        &format!("s{i}"),
                        json!({"type": "NodePort", "ports": [{"port": 80}]}),
                    )),
                )
                .await;
            assert_eq!(code, StatusCode::CREATED, "{v}");
            (
                v["spec"]["clusterIP"].as_str().unwrap().to_string(),
                v["spec"]["ports"][0]["nodePort"].as_i64().unwrap(),
            )
        }));
    }
    let mut ips = HashSet::new();
    let mut ports = HashSet::new();
    for t in tasks {
        let (ip, port) = t.await.unwrap();
        assert!(ip.starts_with("10."), "{ip}");
        assert!((30000..=32767).contains(&port));
        assert!(ips.insert(ip.clone()), "duplicate IP {ip}");
        assert!(ports.insert(port), "duplicate port {port}");
    }
}

#[tokio::test]
async fn requested_ips_are_honoured_or_refused_and_released_on_delete() {
    let s = Server::start().await;
    let (code, a) = s
        .call(
            "POST",
            SVCS,
            Some(svc(
                "a",
                json!({"clusterIP": "10.96.0.10", "ports": [{"port": 53}]}),
            )),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{a}");
    assert_eq!(a["spec"]["clusterIP"], "10.96.0.10");
    let (code, e) = s
        .call(
            "POST",
            SVCS,
            Some(svc(
                "b",
                json!({"clusterIP": "10.96.0.10", "ports": [{"port": 53}]}),
            )),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("already allocated"));
    let (code, e) = s
        .call(
            "POST",
            SVCS,
            Some(svc(
                "c",
                json!({"clusterIP": "192.168.1.1", "ports": [{"port": 53}]}),
            )),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("not in the valid range"),
        "{e}"
    );
    s.call("DELETE", &format!("{SVCS}/a"), None).await;
    let (code, b) = s
        .call(
            "POST",
            SVCS,
            Some(svc(
                "b",
                json!({"clusterIP": "10.96.0.10", "ports": [{"port": 53}]}),
            )),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "released on delete: {b}");
}

#[tokio::test]
async fn headless_services_get_no_ip_and_updates_keep_theirs() {
    let s = Server::start().await;
    let (_, h) = s
        .call(
            "POST",
            SVCS,
            Some(svc(
                "h",
                json!({"clusterIP": "None", "ports": [{"port": 80}]}),
            )),
        )
        .await;
    assert_eq!(h["spec"]["clusterIP"], "None");
    let (_, c) = s
        .call(
            "POST",
            SVCS,
            Some(svc("c", json!({"ports": [{"port": 80}]}))),
        )
        .await;
    let ip = c["spec"]["clusterIP"].clone();
    let (code, c2) = s
        .patch(
            &format!("{SVCS}/c"),
            "application/merge-patch+json",
            r#"{"spec":{"type":"NodePort"}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{c2}");
    assert_eq!(c2["spec"]["clusterIP"], ip);
    assert!(c2["spec"]["ports"][0]["nodePort"].as_i64().unwrap() >= 30000);
}

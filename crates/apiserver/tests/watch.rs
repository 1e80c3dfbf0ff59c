//! Watches: from "now" with initial ADDED events, from a resourceVersion
//! without replaying older state, selector transitions, bookmarks only
//! when asked, timeouts, 410 for compacted revisions, and one store watch
//! for many watchers.

#![allow(clippy::unwrap_used)]

mod support;

use http::StatusCode;
use serde_json::json;
use support::{Server, next_event};

const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn watch_from_now_and_from_a_resource_version() {
    let s = Server::start().await;
    s.call(
        "POST",
        CMS,
        Some(json!({"metadata": {"name": "a"}, "data": {"x": "1"}})),
    )
    .await;
    let mut now = s.watch(&format!("{CMS}?watch=true")).await;
    let ev = next_event(&mut now).await;
    assert_eq!(ev["type"], "ADDED");
    assert_eq!(ev["object"]["metadata"]["name"], "a");

    let (_, list) = s.call("GET", CMS, None).await;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let mut from = s
        .watch(&format!("{CMS}?watch=true&resourceVersion={rv}"))
        .await;
    s.patch(
        &format!("{CMS}/a"),
        "application/merge-patch+json",
        r#"{"data":{"x":"2"}}"#,
    )
    .await;
    let ev = next_event(&mut from).await;
    assert_eq!(
        ev["type"], "MODIFIED",
        "no stale ADDED from a resourceVersion: {ev}"
    );
    assert_eq!(ev["object"]["data"]["x"], "2");
    assert_eq!(next_event(&mut now).await["type"], "MODIFIED");

    s.call("DELETE", &format!("{CMS}/a"), None).await;
    let ev = next_event(&mut from).await;
    assert_eq!(ev["type"], "DELETED");
    assert_eq!(ev["object"]["metadata"]["name"], "a");
}

#[tokio::test]
async fn selectors_turn_changes_into_added_and_deleted() {
    let s = Server::start().await;
    let mut w = s
        .watch(&format!("{CMS}?watch=true&labelSelector=tier%3Dweb"))
        .await;
    s.call("POST", CMS, Some(json!({"metadata": {"name": "b"}})))
        .await;
    s.patch(
        &format!("{CMS}/b"),
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"tier":"web"}}}"#,
    )
    .await;
    assert_eq!(next_event(&mut w).await["type"], "ADDED");
    s.patch(
        &format!("{CMS}/b"),
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"tier":"db"}}}"#,
    )
    .await;
    assert_eq!(next_event(&mut w).await["type"], "DELETED");
}

#[tokio::test]
async fn timeouts_end_the_stream_and_bookmarks_need_asking() {
    let s = Server::start().await;
    let mut w = s.watch(&format!("{CMS}?watch=true&timeoutSeconds=1")).await;
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), w.recv())
        .await
        .unwrap();
    assert!(
        ended.is_none(),
        "the watch should end without events: {ended:?}"
    );

    let mut w = s.watch(&format!("{CMS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan")).await;
    let ev = next_event(&mut w).await;
    assert_eq!(ev["type"], "BOOKMARK");
    assert_eq!(
        ev["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
}

#[tokio::test]
async fn a_thousand_watchers_share_one_store_watch() {
    let s = Server::start().await;
    let mut watchers = Vec::new();
    for _ in 0..1000 {
        watchers.push(
            s.watch(&format!("{CMS}?watch=true&resourceVersion=1"))
                .await,
        );
    }
    s.call("POST", CMS, Some(json!({"metadata": {"name": "fan"}})))
        .await;
    for w in &mut watchers {
        loop {
            let ev = next_event(w).await;
            if ev["object"]["metadata"]["name"] == "fan" {
                assert_eq!(ev["type"], "ADDED");
                break;
            }
        }
    }
    // configmaps, plus namespaces (bootstrap does not start caches).
    assert_eq!(s.api.state().caches.len(), 1);
}

#[tokio::test]
async fn a_compacted_revision_is_gone() {
    let s = Server::start().await;
    for i in 0..5 {
        s.call(
            "POST",
            CMS,
            Some(json!({"metadata": {"name": format!("c{i}")}})),
        )
        .await;
    }
    let status = s.api.state().store.status().await.unwrap();
    s.api.state().store.compact(status.revision).await.unwrap();
    // Too old for the cache's window (which starts at its first load) and
    // compacted in the store.
    let (code, _, _) = s
        .call_full(
            "GET",
            &format!("{CMS}?watch=true&resourceVersion=2"),
            "application/json",
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let mut w = s
        .watch(&format!("{CMS}?watch=true&resourceVersion=2"))
        .await;
    let ev = next_event(&mut w).await;
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
}

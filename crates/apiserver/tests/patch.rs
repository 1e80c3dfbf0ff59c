//! PATCH through the API in all four types, as kubectl sends them.

#![allow(clippy::unwrap_used)]

mod support;

use http::StatusCode;
use serde_json::json;
use support::Server;

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";

#[tokio::test]
async fn merge_json_and_strategic_patches() {
    let s = Server::start().await;
    s.call(
        "POST",
        CMS,
        Some(json!({"metadata": {"name": "p", "labels": {"a": "1"}}, "data": {"x": "1"}})),
    )
    .await;
    let (code, v) = s
        .patch(
            &format!("{CMS}/p"),
            "application/merge-patch+json",
            r#"{"metadata":{"labels":{"a":null}},"data":{"y":"2"}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert!(
        v["metadata"]
            .get("labels")
            .is_none_or(|l| l.get("a").is_none())
    );
    assert_eq!(v["data"], json!({"x": "1", "y": "2"}));
    let (code, v) = s
        .patch(
            &format!("{CMS}/p"),
            "application/json-patch+json",
            r#"[{"op":"replace","path":"/data/x","value":"3"},{"op":"remove","path":"/data/y"}]"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert_eq!(v["data"], json!({"x": "3"}));
    let (code, e) = s
        .patch(
            &format!("{CMS}/p"),
            "application/json-patch+json",
            r#"[{"op":"test","path":"/data/x","value":"nope"}]"#,
        )
        .await;
    assert!(code.is_client_error(), "{code} {e}");
    assert_eq!(e["kind"], "Status");
    let (code, _) = s
        .patch(
            &format!("{CMS}/p"),
            "application/merge-patch+json",
            "{not json",
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);

    let d = json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}},
        "spec": {"containers": [{"name": "busybox", "image": "busybox:1.35"}, {"name": "side", "image": "busybox:1.35"}]}}}});
    assert_eq!(
        s.call("POST", DEPLOYS, Some(d)).await.0,
        StatusCode::CREATED
    );
    let (code, v) = s
        .patch(&format!("{DEPLOYS}/d"), "application/strategic-merge-patch+json", r#"{"spec":{"template":{"spec":{"containers":[{"name":"busybox","env":[{"name":"X","value":"1"}]}]}}}}"#)
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    let cs = v["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(cs.len(), 2, "merged by name, not replaced");
    assert_eq!(cs[0]["env"][0]["name"], "X");
    assert_eq!(v["metadata"]["generation"], 2);
}

#[tokio::test]
async fn server_side_apply_owns_fields_and_conflicts() {
    let s = Server::start().await;
    let apply = "application/apply-patch+yaml";
    let first = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  owner: first\n  shared: \"1\"\n";
    let (code, v) = s
        .patch(
            &format!("{CMS}/ssa?fieldManager=kubectl&force=false"),
            apply,
            first,
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{v}");
    assert_eq!(v["metadata"]["managedFields"][0]["manager"], "kubectl");
    assert_eq!(v["metadata"]["managedFields"][0]["operation"], "Apply");
    let second =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  shared: \"2\"\n";
    let (code, e) = s
        .patch(&format!("{CMS}/ssa?fieldManager=other"), apply, second)
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{e}");
    assert!(e["message"].as_str().unwrap().contains("conflict"), "{e}");
    let (code, v) = s
        .patch(
            &format!("{CMS}/ssa?fieldManager=other&force=true"),
            apply,
            second,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert_eq!(v["data"], json!({"owner": "first", "shared": "2"}));
    let (code, e) = s.patch(&format!("{CMS}/ssa"), apply, second).await;
    assert_eq!(
        code,
        StatusCode::UNPROCESSABLE_ENTITY,
        "fieldManager is required: {e}"
    );
}

#[tokio::test]
async fn concurrent_patches_without_a_resource_version_all_apply() {
    let s = std::sync::Arc::new(Server::start().await);
    s.call("POST", CMS, Some(json!({"metadata": {"name": "race"}})))
        .await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let (ct, body) = match i % 3 {
                0 => ("application/merge-patch+json", format!(r#"{{"data":{{"k{i}":"v"}}}}"#)),
                1 => (
                    "application/strategic-merge-patch+json",
                    format!(r#"{{"data":{{"k{i}":"v"}}}}"#),
                ),
                _ => (
                    "application/json-patch+json",
                    format!(r#"[{{"op":"add","path":"/metadata/labels","value":{{"l{i}":"v"}}}},{{"op":"add","path":"/data","value":{{}}}}]"#),
                ),
            };
            let (code, v) = s.patch(&format!("{CMS}/race"), ct, &body).await;
            assert_eq!(code, StatusCode::OK, "{v}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // A patch that names a stale resourceVersion is still refused.
    let (code, v) = s
        .patch(
            &format!("{CMS}/race"),
            "application/merge-patch+json",
            r#"{"metadata":{"resourceVersion":"1"},"data":{"z":"1"}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{v}");
}

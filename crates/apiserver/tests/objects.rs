//! Object machinery through the REST API: create/get/update/delete,
//! Status errors, optimistic concurrency, generation, generateName, dry
//! runs, body limits, lists with selectors and paging.

#![allow(clippy::unwrap_used)]

mod support;

use http::StatusCode;
use serde_json::{Value, json};
use support::Server;

const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn cm(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

#[tokio::test]
async fn create_get_update_delete_with_status_errors() {
    let s = Server::start().await;
    let (code, created) = s.call("POST", CMS, Some(cm("a", json!({"k": "v"})))).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let meta = &created["metadata"];
    assert!(meta["uid"].as_str().unwrap().len() > 30);
    assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(meta["namespace"], "default");
    let rv1 = meta["resourceVersion"].as_str().unwrap().to_string();

    let (code, again) = s.call("POST", CMS, Some(cm("a", json!({})))).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(again["kind"], "Status");
    assert_eq!(again["reason"], "AlreadyExists");
    assert_eq!(again["message"], "configmaps \"a\" already exists");

    let (code, got) = s.call("GET", &format!("{CMS}/a"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(got, created);

    let mut changed = got.clone();
    changed["data"]["k"] = json!("w");
    let (code, updated) = s
        .call("PUT", &format!("{CMS}/a"), Some(changed.clone()))
        .await;
    assert_eq!(code, StatusCode::OK, "{updated}");
    assert_ne!(updated["metadata"]["resourceVersion"], json!(rv1));
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);

    // The same stale resourceVersion again is a Conflict.
    let (code, stale) = s.call("PUT", &format!("{CMS}/a"), Some(changed)).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(stale["reason"], "Conflict");
    assert!(
        stale["message"]
            .as_str()
            .unwrap()
            .contains("the object has been modified")
    );

    let (code, _) = s.call("DELETE", &format!("{CMS}/a"), None).await;
    assert_eq!(code, StatusCode::OK);
    let (code, missing) = s.call("GET", &format!("{CMS}/a"), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(missing["reason"], "NotFound");
    assert_eq!(missing["details"]["kind"], "configmaps");
    assert_eq!(missing["message"], "configmaps \"a\" not found");
}

#[tokio::test]
async fn generate_name_dry_run_and_missing_namespace() {
    let s = Server::start().await;
    let (code, g) = s
        .call(
            "POST",
            CMS,
            Some(json!({"metadata": {"generateName": "gen-"}})),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{g}");
    let name = g["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    let (code, dry) = s
        .call(
            "POST",
            &format!("{CMS}?dryRun=All"),
            Some(cm("dry", json!({}))),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{dry}");
    let (code, _) = s.call("GET", &format!("{CMS}/dry"), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "a dry run stores nothing");

    let (code, e) = s
        .call(
            "POST",
            "/api/v1/namespaces/nope/configmaps",
            Some(cm("x", json!({}))),
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(e["message"], "namespaces \"nope\" not found");
}

#[tokio::test]
async fn bad_bodies_are_refused_clearly() {
    let s = Server::start().await;
    let (code, _, e) = s
        .call_full(
            "POST",
            CMS,
            "application/json",
            None,
            b"{\"metadata\":".to_vec(),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(e["reason"], "BadRequest");

    let big = vec![b' '; ironclad_apiserver::MAX_BODY_BYTES + 1];
    let (code, _, e) = s
        .call_full("POST", CMS, "application/json", None, big)
        .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{e}");

    let (code, _, _) = s
        .call_full("POST", CMS, "text/plain", None, b"x".to_vec())
        .await;
    assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (code, e) = s.call("POST", CMS, Some(cm("Bad_Name", json!({})))).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["reason"], "Invalid");
    assert_eq!(e["details"]["causes"][0]["field"], "metadata.name");

    let (code, e) = s
        .call(
            "POST",
            &format!("{CMS}?fieldValidation=Strict"),
            Some(json!({"metadata": {"name": "s"}, "bogusField": 1})),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("unknown field \"bogusField\""),
        "{e}"
    );

    // Warn (the default) accepts, says so, and drops the field.
    let (code, headers, obj) = s
        .call_full(
            "POST",
            CMS,
            "application/json",
            None,
            serde_json::to_vec(&json!({"metadata": {"name": "w"}, "bogusField": 1})).unwrap(),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    assert!(
        headers
            .get("warning")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("bogusField")
    );
    assert!(obj.get("bogusField").is_none());
}

#[tokio::test]
async fn generation_counts_spec_changes_only() {
    let s = Server::start().await;
    let path = "/apis/apps/v1/namespaces/default/deployments";
    let d = json!({"metadata": {"name": "d", "labels": {"app": "d"}}, "spec": {
        "selector": {"matchLabels": {"app": "d"}},
        "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}}}});
    let (code, d) = s.call("POST", path, Some(d)).await;
    assert_eq!(code, StatusCode::CREATED, "{d}");
    assert_eq!(d["metadata"]["generation"], 1);
    assert_eq!(d["spec"]["replicas"], 1, "defaulted");
    let (_, d2) = s
        .patch(
            &format!("{path}/d"),
            "application/merge-patch+json",
            r#"{"metadata":{"labels":{"x":"y"}}}"#,
        )
        .await;
    assert_eq!(d2["metadata"]["generation"], 1);
    let (code, scale) = s
        .patch(
            &format!("{path}/d/scale"),
            "application/merge-patch+json",
            r#"{"spec":{"replicas":4}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{scale}");
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 4);
    assert_eq!(scale["status"]["selector"], "app=d");
    let (_, d3) = s.call("GET", &format!("{path}/d"), None).await;
    assert_eq!(d3["metadata"]["generation"], 2);
    assert_eq!(d3["spec"]["replicas"], 4);
    // Status writes through the main resource are ignored; /status takes them.
    let mut st = d3.clone();
    st["status"] = json!({"replicas": 4});
    let (_, after) = s.call("PUT", &format!("{path}/d"), Some(st.clone())).await;
    assert!(
        after.get("status").is_none() || after["status"].get("replicas").is_none(),
        "{after}"
    );
    let mut st = after.clone();
    st["status"] = json!({"replicas": 4});
    let (code, after) = s.call("PUT", &format!("{path}/d/status"), Some(st)).await;
    assert_eq!(code, StatusCode::OK, "{after}");
    assert_eq!(after["status"]["replicas"], 4);
    assert_eq!(after["metadata"]["generation"], 2);
}

#[tokio::test]
async fn lists_filter_and_page_at_one_revision() {
    let s = Server::start().await;
    for i in 0..25 {
        let env = if i % 2 == 0 { "prod" } else { "dev" };
        let mut c = cm(&format!("c{i:02}"), json!({}));
        c["metadata"]["labels"] = json!({"env": env});
        assert_eq!(s.call("POST", CMS, Some(c)).await.0, StatusCode::CREATED);
    }
    let (_, all) = s
        .call("GET", &format!("{CMS}?labelSelector=env%3Dprod"), None)
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 13);
    let (_, set) = s
        .call(
            "GET",
            &format!("{CMS}?labelSelector=env%20in%20(dev)"),
            None,
        )
        .await;
    assert_eq!(set["items"].as_array().unwrap().len(), 12);
    let (_, one) = s
        .call(
            "GET",
            &format!("{CMS}?fieldSelector=metadata.name%3Dc03"),
            None,
        )
        .await;
    assert_eq!(one["items"][0]["metadata"]["name"], "c03");
    let (code, e) = s
        .call(
            "GET",
            &format!("{CMS}?fieldSelector=spec.nothing%3D1"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{e}");

    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut revision = None;
    loop {
        let q = match &token {
            Some(t) => format!("{CMS}?labelSelector=env%3Dprod&limit=4&continue={t}"),
            None => format!("{CMS}?labelSelector=env%3Dprod&limit=4"),
        };
        let (code, page) = s.call("GET", &q, None).await;
        assert_eq!(code, StatusCode::OK, "{page}");
        // Every page is read at the first page's revision.
        let rv = page["metadata"]["resourceVersion"].clone();
        if revision.is_none() {
            revision = Some(rv.clone());
            // A change after the first page does not show in later pages.
            s.call(
                "POST",
                CMS,
                Some(json!({"metadata": {"name": "c99", "labels": {"env": "prod"}}})),
            )
            .await;
        }
        assert_eq!(Some(rv), revision);
        for i in page["items"].as_array().unwrap() {
            names.push(i["metadata"]["name"].as_str().unwrap().to_string());
        }
        match page["metadata"]["continue"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let mut sorted = names.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 13, "{names:?}");
    assert!(!names.contains(&"c99".to_string()));

    let (code, _) = s
        .call("GET", &format!("{CMS}?continue=garbage"), None)
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);

    let (_, across) = s
        .call("GET", "/api/v1/configmaps?labelSelector=env%3Ddev", None)
        .await;
    assert_eq!(across["items"].as_array().unwrap().len(), 12);
    assert_eq!(across["kind"], "ConfigMapList");
}

#[tokio::test]
async fn tables_carry_columns_and_row_objects() {
    let s = Server::start().await;
    s.call("POST", CMS, Some(cm("t", json!({"a": "1", "b": "2"}))))
        .await;
    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let (code, _, t) = s
        .call_full("GET", CMS, "application/json", Some(accept), Vec::new())
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(t["kind"], "Table");
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["Name", "Data", "Age"]);
    let row = &t["rows"][0];
    assert_eq!(row["cells"][0], "t");
    assert_eq!(row["cells"][1], 2);
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row["object"]["metadata"]["name"], "t");
}

#[tokio::test]
async fn finalizers_hold_an_object_until_removed() {
    let s = Server::start().await;
    let mut c = cm("f", json!({}));
    c["metadata"]["finalizers"] = json!(["example.com/hold"]);
    s.call("POST", CMS, Some(c)).await;
    let (code, held) = s.call("DELETE", &format!("{CMS}/f"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");
    let (code, _) = s.call("GET", &format!("{CMS}/f"), None).await;
    assert_eq!(
        code,
        StatusCode::OK,
        "still there while a finalizer holds it"
    );
    let (code, _) = s
        .patch(
            &format!("{CMS}/f"),
            "application/merge-patch+json",
            r#"{"metadata":{"finalizers":null}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = s.call("GET", &format!("{CMS}/f"), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pods_are_bound_once_through_the_binding_subresource() {
    const PODS: &str = "/api/v1/namespaces/default/pods";
    let s = Server::start().await;
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "pause"}]}});
    let (code, created) = s.call("POST", PODS, Some(pod)).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let binding = |node: &str| {
        json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node}})
    };
    let (code, body) = s
        .call("POST", &format!("{PODS}/p/binding"), Some(binding("n1")))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (_, bound) = s.call("GET", &format!("{PODS}/p"), None).await;
    assert_eq!(bound["spec"]["nodeName"], "n1");
    let scheduled = bound["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "PodScheduled")
        .unwrap();
    assert_eq!(scheduled["status"], "True");
    let (code, again) = s
        .call("POST", &format!("{PODS}/p/binding"), Some(binding("n2")))
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{again}");
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .contains("already assigned to node \"n1\"")
    );
    // A plain update still may not move the pod.
    let mut moved = bound.clone();
    moved["spec"]["nodeName"] = json!("n2");
    let (code, _) = s.call("PUT", &format!("{PODS}/p"), Some(moved)).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
}

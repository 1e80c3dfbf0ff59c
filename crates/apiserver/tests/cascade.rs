//! The API server's side of cascading deletion: DELETE puts the garbage
//! collector's `foregroundDeletion` / `orphan` finalizers on the object as
//! the propagationPolicy (or the deprecated orphanDependents), existing
//! finalizers and the resource's default say; graceful pod deletion;
//! namespaces that terminate and go once their spec and metadata
//! finalizers are gone.

#![allow(clippy::unwrap_used)]

mod support;

use http::StatusCode;
use serde_json::{Value, json};
use support::Server;

const RSS: &str = "/apis/apps/v1/namespaces/default/replicasets";
const RCS: &str = "/api/v1/namespaces/default/replicationcontrollers";
const JOBS: &str = "/apis/batch/v1/namespaces/default/jobs";
const PODS: &str = "/api/v1/namespaces/default/pods";
const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn template() -> Value {
    json!({"metadata": {"labels": {"app": "a"}},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
}

fn rs(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "a"}}, "template": template()}})
}

fn rc(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": name},
           "spec": {"replicas": 1, "selector": {"app": "a"}, "template": template()}})
}

fn job(name: &str) -> Value {
    let mut t = template();
    t["spec"]["restartPolicy"] = json!("Never");
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
           "spec": {"template": t}})
}

fn pod(name: &str, node: Option<&str>) -> Value {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    if let Some(n) = node {
        p["spec"]["nodeName"] = json!(n);
    }
    p
}

async fn create(s: &Server, path: &str, obj: Value) -> Value {
    let (code, created) = s.call("POST", path, Some(obj)).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    created
}

async fn get(s: &Server, path: &str) -> (StatusCode, Value) {
    s.call("GET", path, None).await
}

fn finalizers(obj: &Value) -> Vec<&str> {
    obj["metadata"]["finalizers"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

async fn drop_finalizers(s: &Server, path: &str) -> StatusCode {
    s.patch(
        path,
        "application/merge-patch+json",
        r#"{"metadata":{"finalizers":null}}"#,
    )
    .await
    .0
}

#[tokio::test]
async fn foreground_marks_the_owner_and_keeps_it_until_the_finalizer_goes() {
    let s = Server::start().await;
    let created = create(&s, RSS, rs("fg")).await;
    let (code, out) = s
        .call(
            "DELETE",
            &format!("{RSS}/fg?propagationPolicy=Foreground"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(finalizers(&out), ["foregroundDeletion"]);
    assert!(out["metadata"]["deletionTimestamp"].is_string(), "{out}");
    assert_eq!(out["metadata"]["deletionGracePeriodSeconds"], 0);
    assert_eq!(
        out["metadata"]["generation"].as_i64(),
        created["metadata"]["generation"].as_i64().map(|g| g + 1),
        "deletion counts as a change of the desired state"
    );
    let (code, held) = get(&s, &format!("{RSS}/fg")).await;
    assert_eq!(
        code,
        StatusCode::OK,
        "the owner stays while its finalizer does"
    );
    assert_eq!(finalizers(&held), ["foregroundDeletion"]);

    // Deleting again changes nothing while the request says nothing new.
    let (code, again) = s.call("DELETE", &format!("{RSS}/fg"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        again["metadata"]["deletionTimestamp"],
        held["metadata"]["deletionTimestamp"]
    );
    assert_eq!(finalizers(&again), ["foregroundDeletion"]);

    assert_eq!(
        drop_finalizers(&s, &format!("{RSS}/fg")).await,
        StatusCode::OK
    );
    assert_eq!(get(&s, &format!("{RSS}/fg")).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn orphan_by_policy_by_the_deprecated_flag_and_in_the_body() {
    let s = Server::start().await;
    for (name, how) in [
        ("o1", "?propagationPolicy=Orphan"),
        ("o2", "?orphanDependents=true"),
        ("o3", ""),
    ] {
        create(&s, RSS, rs(name)).await;
        let body = (how.is_empty()).then(
            || json!({"kind": "DeleteOptions", "apiVersion": "v1", "orphanDependents": true}),
        );
        let (code, out) = s.call("DELETE", &format!("{RSS}/{name}{how}"), body).await;
        assert_eq!(code, StatusCode::OK, "{name}: {out}");
        assert_eq!(finalizers(&out), ["orphan"], "{name}");
        assert!(out["metadata"]["deletionTimestamp"].is_string());
        assert_eq!(get(&s, &format!("{RSS}/{name}")).await.0, StatusCode::OK);
    }
    // A later delete with another policy swaps the finalizer.
    let (_, out) = s
        .call(
            "DELETE",
            &format!("{RSS}/o1?propagationPolicy=Foreground"),
            None,
        )
        .await;
    assert_eq!(finalizers(&out), ["foregroundDeletion"]);
}

#[tokio::test]
async fn background_and_the_apps_default_delete_at_once() {
    let s = Server::start().await;
    create(&s, RSS, rs("bg")).await;
    create(&s, RSS, rs("dflt")).await;
    let (code, out) = s
        .call(
            "DELETE",
            &format!("{RSS}/bg?propagationPolicy=Background"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(out["kind"], "Status");
    assert_eq!(get(&s, &format!("{RSS}/bg")).await.0, StatusCode::NOT_FOUND);
    let (code, _) = s.call("DELETE", &format!("{RSS}/dflt"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        get(&s, &format!("{RSS}/dflt")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn replication_controllers_and_jobs_orphan_by_default() {
    let s = Server::start().await;
    create(&s, RCS, rc("legacy")).await;
    let (code, out) = s.call("DELETE", &format!("{RCS}/legacy"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(finalizers(&out), ["orphan"], "{out}");

    create(&s, JOBS, job("j1")).await;
    let (code, headers, out) = s
        .call_full(
            "DELETE",
            &format!("{JOBS}/j1"),
            "application/json",
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(finalizers(&out), ["orphan"], "{out}");
    let warning = headers
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        warning.contains("child pods are preserved by default when jobs are deleted"),
        "{warning}"
    );

    create(&s, JOBS, job("j2")).await;
    let (code, headers, _) = s
        .call_full(
            "DELETE",
            &format!("{JOBS}/j2?propagationPolicy=Background"),
            "application/json",
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert!(headers.get("warning").is_none());
    assert_eq!(
        get(&s, &format!("{JOBS}/j2")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_options_are_invalid() {
    let s = Server::start().await;
    create(&s, RSS, rs("bad")).await;
    let (code, out) = s
        .call(
            "DELETE",
            &format!("{RSS}/bad?propagationPolicy=Orphan&orphanDependents=true"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(out["details"]["kind"], "DeleteOptions");
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("orphanDependents and deletionPropagation cannot be both set"),
        "{out}"
    );
    let (code, out) = s
        .call(
            "DELETE",
            &format!("{RSS}/bad?propagationPolicy=Sometimes"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(
        out["details"]["causes"][0]["reason"],
        "FieldValueNotSupported"
    );
    assert_eq!(get(&s, &format!("{RSS}/bad")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn asking_for_dependents_to_go_while_held_answers_accepted() {
    let s = Server::start().await;
    let mut c = json!({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "held", "finalizers": ["example.com/hold"]}});
    create(&s, CMS, c.clone()).await;
    let (code, out) = s
        .call(
            "DELETE",
            &format!("{CMS}/held?orphanDependents=false"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::ACCEPTED, "{out}");
    // orphanDependents=false means background: no finalizer of the GC's.
    assert_eq!(finalizers(&out), ["example.com/hold"]);

    // Events take no part in garbage collection.
    c = json!({"apiVersion": "v1", "kind": "Event",
               "metadata": {"name": "ev"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
               "reason": "R", "message": "m", "type": "Normal"});
    create(&s, "/api/v1/namespaces/default/events", c).await;
    let (code, _) = s
        .call(
            "DELETE",
            "/api/v1/namespaces/default/events/ev?propagationPolicy=Orphan",
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        get(&s, "/api/v1/namespaces/default/events/ev").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn pods_on_a_node_are_deleted_gracefully_others_at_once() {
    let s = Server::start().await;
    create(&s, PODS, pod("free", None)).await;
    let (code, out) = s.call("DELETE", &format!("{PODS}/free"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(out["kind"], "Pod");
    assert_eq!(
        get(&s, &format!("{PODS}/free")).await.0,
        StatusCode::NOT_FOUND
    );

    create(&s, PODS, pod("bound", Some("n1"))).await;
    let (code, out) = s.call("DELETE", &format!("{PODS}/bound"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(out["metadata"]["deletionGracePeriodSeconds"], 30, "{out}");
    // Again: nothing changes, and a longer period does not extend it.
    let (_, again) = s
        .call(
            "DELETE",
            &format!("{PODS}/bound?gracePeriodSeconds=60"),
            None,
        )
        .await;
    assert_eq!(again["metadata"]["deletionGracePeriodSeconds"], 30);
    assert_eq!(
        again["metadata"]["deletionTimestamp"],
        out["metadata"]["deletionTimestamp"]
    );
    // A shorter one does; zero deletes.
    let (_, shorter) = s
        .call(
            "DELETE",
            &format!("{PODS}/bound?gracePeriodSeconds=5"),
            None,
        )
        .await;
    assert_eq!(shorter["metadata"]["deletionGracePeriodSeconds"], 5);
    let (code, _) = s
        .call(
            "DELETE",
            &format!("{PODS}/bound?gracePeriodSeconds=0"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        get(&s, &format!("{PODS}/bound")).await.0,
        StatusCode::NOT_FOUND
    );

    // A foreground delete of a pod no node runs is held by the finalizer.
    create(&s, PODS, pod("fg", None)).await;
    let (_, out) = s
        .call(
            "DELETE",
            &format!("{PODS}/fg?propagationPolicy=Foreground"),
            None,
        )
        .await;
    assert_eq!(finalizers(&out), ["foregroundDeletion"]);
    assert_eq!(out["metadata"]["deletionGracePeriodSeconds"], 0);
    assert_eq!(
        drop_finalizers(&s, &format!("{PODS}/fg")).await,
        StatusCode::OK
    );
    assert_eq!(
        get(&s, &format!("{PODS}/fg")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_namespace_goes_when_its_spec_and_metadata_finalizers_are_gone() {
    let s = Server::start().await;
    let ns = "/api/v1/namespaces/ending";
    create(
        &s,
        "/api/v1/namespaces",
        json!({"metadata": {"name": "ending"}}),
    )
    .await;
    let (code, out) = s
        .call(
            "DELETE",
            &format!("{ns}?propagationPolicy=Foreground"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(out["status"]["phase"], "Terminating");
    assert_eq!(out["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(finalizers(&out), ["foregroundDeletion"]);

    // Status writes while it terminates keep it.
    let mut status = out.clone();
    status["status"]["conditions"] = json!([{"type": "NamespaceContentRemaining", "status": "False",
        "reason": "ContentRemoved", "message": "All content successfully removed",
        "lastTransitionTime": "2025-01-01T00:00:00Z"}]);
    let (code, _) = s.call("PUT", &format!("{ns}/status"), Some(status)).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(get(&s, ns).await.0, StatusCode::OK);
    // So do deletes while the spec finalizer is there.
    let (code, _) = s.call("DELETE", ns, None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(get(&s, ns).await.0, StatusCode::OK);

    // The namespace controller's finalize; the GC's finalizer still holds.
    let (_, mut cur) = get(&s, ns).await;
    cur["spec"]["finalizers"] = json!([]);
    let (code, out) = s.call("PUT", &format!("{ns}/finalize"), Some(cur)).await;
    assert_eq!(code, StatusCode::OK, "{out}");
    assert_eq!(get(&s, ns).await.0, StatusCode::OK);
    assert_eq!(drop_finalizers(&s, ns).await, StatusCode::OK);
    assert_eq!(get(&s, ns).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_system_namespaces_cannot_be_deleted() {
    let s = Server::start().await;
    for name in ["default", "kube-system", "kube-public"] {
        let (code, out) = s
            .call("DELETE", &format!("/api/v1/namespaces/{name}"), None)
            .await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{out}");
        assert_eq!(
            out["message"],
            format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted")
        );
    }
}

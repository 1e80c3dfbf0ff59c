//! The server-side apply flows kubectl drives: `kubectl apply
//! --server-side` by two managers with and without `--force-conflicts`,
//! applies on Deployments, and their interplay with updates.
#![allow(clippy::unwrap_used)]

use ironclad_patch::{ApplyError, record_update, server_side_apply};
use serde_json::{Value, json};

const CM: &str = "io.k8s.api.core.v1.ConfigMap";
const DEPLOY: &str = "io.k8s.api.apps.v1.Deployment";
const T1: &str = "2024-05-01T10:00:00Z";
const T2: &str = "2024-05-01T11:00:00Z";
const T3: &str = "2024-05-01T12:00:00Z";

fn configmap(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "default"}, "data": data})
}

fn entry<'a>(obj: &'a Value, manager: &str) -> &'a Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == manager)
        .unwrap_or_else(|| panic!("no entry for {manager} in {obj:#}"))
}

#[test]
fn two_appliers_conflict_then_force_moves_ownership() {
    let first = server_side_apply(
        None,
        &configmap(json!({"owner": "first", "shared": "1"})),
        "kubectl",
        false,
        CM,
        T1,
    )
    .unwrap();
    assert_eq!(first["data"], json!({"owner": "first", "shared": "1"}));
    let e = entry(&first, "kubectl");
    assert_eq!(e["operation"], "Apply");
    assert_eq!(e["apiVersion"], "v1");
    assert_eq!(e["time"], T1);
    assert_eq!(e["fieldsType"], "FieldsV1");
    assert_eq!(
        e["fieldsV1"],
        json!({"f:data": {"f:owner": {}, "f:shared": {}}})
    );

    let other = configmap(json!({"shared": "2"}));
    let err = server_side_apply(Some(&first), &other, "other", false, CM, T2).unwrap_err();
    let ApplyError::Conflicts(conflicts) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].manager, "kubectl");
    assert_eq!(conflicts[0].field, ".data.shared");
    assert_eq!(conflicts[0].message(), r#"conflict with "kubectl""#);
    assert_eq!(
        err.to_string(),
        r#"Apply failed with 1 conflict: conflict with "kubectl": .data.shared"#
    );

    let forced = server_side_apply(Some(&first), &other, "other", true, CM, T2).unwrap();
    assert_eq!(forced["data"], json!({"owner": "first", "shared": "2"}));
    assert_eq!(
        entry(&forced, "kubectl")["fieldsV1"],
        json!({"f:data": {"f:owner": {}}})
    );
    assert_eq!(
        entry(&forced, "other")["fieldsV1"],
        json!({"f:data": {"f:shared": {}}})
    );
    assert_eq!(entry(&forced, "kubectl")["time"], T1);
    assert_eq!(entry(&forced, "other")["time"], T2);
    assert_eq!(
        forced["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn applying_the_same_value_shares_ownership() {
    let first =
        server_side_apply(None, &configmap(json!({"a": "1"})), "one", false, CM, T1).unwrap();
    let second = server_side_apply(
        Some(&first),
        &configmap(json!({"a": "1"})),
        "two",
        false,
        CM,
        T2,
    )
    .unwrap();
    assert_eq!(
        entry(&second, "one")["fieldsV1"],
        json!({"f:data": {"f:a": {}}})
    );
    assert_eq!(
        entry(&second, "two")["fieldsV1"],
        json!({"f:data": {"f:a": {}}})
    );
    // "one" stops applying a: "two" still owns it, so it stays.
    let third = server_side_apply(
        Some(&second),
        &configmap(json!({"b": "2"})),
        "one",
        false,
        CM,
        T3,
    )
    .unwrap();
    assert_eq!(third["data"], json!({"a": "1", "b": "2"}));
}

#[test]
fn conflicts_with_updaters_name_their_version() {
    let mut created = configmap(json!({"a": "1"}));
    record_update(None, &mut created, "kubectl-create", None, T1);
    let err = server_side_apply(
        Some(&created),
        &configmap(json!({"a": "2"})),
        "kubectl",
        false,
        CM,
        T2,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.a"#
    );
}

#[test]
fn several_conflicts_are_listed_per_manager() {
    let a = server_side_apply(
        None,
        &configmap(json!({"x": "1", "y": "1"})),
        "a",
        false,
        CM,
        T1,
    )
    .unwrap();
    let b = server_side_apply(Some(&a), &configmap(json!({"z": "1"})), "b", false, CM, T2).unwrap();
    let err = server_side_apply(
        Some(&b),
        &configmap(json!({"x": "2", "y": "2", "z": "2"})),
        "c",
        false,
        CM,
        T3,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 3 conflicts: conflict with \"a\":\n- .data.x\n- .data.y\nconflict with \"b\":\n- .data.z"
    );
}

#[test]
fn untracked_metadata_is_not_owned() {
    let mut cfg = configmap(json!({"a": "1"}));
    cfg["metadata"]["labels"] = json!({"app": "x"});
    let out = server_side_apply(None, &cfg, "kubectl", false, CM, T1).unwrap();
    let fields = &entry(&out, "kubectl")["fieldsV1"];
    assert_eq!(
        fields,
        &json!({"f:data": {"f:a": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
    );
}

#[test]
fn managed_fields_in_the_configuration_are_rejected() {
    let mut cfg = configmap(json!({}));
    cfg["metadata"]["managedFields"] = json!([]);
    let err = server_side_apply(None, &cfg, "kubectl", false, CM, T1).unwrap_err();
    assert_eq!(
        err,
        ApplyError::Invalid("metadata.managedFields must be nil".into())
    );
    let err =
        server_side_apply(None, &configmap(json!({"a": 1})), "kubectl", false, CM, T1).unwrap_err();
    assert!(
        matches!(err, ApplyError::Invalid(_)),
        "a number is not a string: {err:?}"
    );
    let mut cfg = configmap(json!({}));
    cfg["spec"] = json!({});
    let err = server_side_apply(None, &cfg, "kubectl", false, CM, T1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to create typed patch object: .spec: field not declared in schema"
    );
}

fn deployment(containers: Value, replicas: Option<i64>) -> Value {
    let mut spec = json!({
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}
    });
    if let Some(r) = replicas {
        spec["replicas"] = json!(r);
    }
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"}, "spec": spec})
}

fn containers(obj: &Value) -> &Vec<Value> {
    obj["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
}

#[test]
fn deployment_containers_are_a_list_map_and_unapplied_fields_go() {
    let v1 = deployment(
        json!([{"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}],
                 "env": [{"name": "A", "value": "1"}]}]),
        Some(3),
    );
    let live = server_side_apply(None, &v1, "kubectl", false, DEPLOY, T1).unwrap();
    let fields = &entry(&live, "kubectl")["fieldsV1"];
    let c = &fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"];
    assert_eq!(c["."], json!({}));
    assert_eq!(c["f:image"], json!({}));
    assert_eq!(
        c["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"]["f:containerPort"],
        json!({})
    );
    assert_eq!(
        fields["f:spec"]["f:selector"],
        json!({}),
        "LabelSelector is atomic"
    );
    assert_eq!(fields["f:spec"]["f:replicas"], json!({}));

    // A controller (an updater) adds a sidecar and an annotation.
    let mut scaled = live.clone();
    scaled["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "sidecar", "image": "envoy"}));
    scaled["metadata"]["annotations"] = json!({"note": "x"});
    record_update(Some(&live), &mut scaled, "controller", None, T2);

    // The next apply drops env and replicas and changes the image.
    let v2 = deployment(
        json!([{"name": "web", "image": "nginx:2", "ports": [{"containerPort": 80}]}]),
        None,
    );
    let out = server_side_apply(Some(&scaled), &v2, "kubectl", false, DEPLOY, T3).unwrap();
    let cs = containers(&out);
    assert_eq!(cs.len(), 2, "{out:#}");
    assert_eq!(cs[0]["name"], "web");
    assert_eq!(cs[0]["image"], "nginx:2");
    assert!(
        cs[0].get("env").is_none(),
        "env was not applied again: {out:#}"
    );
    assert_eq!(cs[1], json!({"name": "sidecar", "image": "envoy"}));
    assert!(out["spec"].get("replicas").is_none());
    assert_eq!(out["metadata"]["annotations"], json!({"note": "x"}));
    let fields = &entry(&out, "kubectl")["fieldsV1"];
    assert!(fields["f:spec"].get("f:replicas").is_none());
    let controller = &entry(&out, "controller")["fieldsV1"];
    assert!(
        controller["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"sidecar\"}"]
            .is_object()
    );
}

#[test]
fn fields_another_manager_owns_survive_when_the_applier_drops_them() {
    let v1 = deployment(json!([{"name": "web", "image": "nginx:1"}]), Some(3));
    let live = server_side_apply(None, &v1, "kubectl", false, DEPLOY, T1).unwrap();
    // An autoscaler applies replicas too (same value: shared ownership).
    let mut hpa =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}});
    hpa["spec"] = json!({"replicas": 3});
    let live = server_side_apply(Some(&live), &hpa, "autoscaler", false, DEPLOY, T2).unwrap();
    let v2 = deployment(json!([{"name": "web", "image": "nginx:1"}]), None);
    let out = server_side_apply(Some(&live), &v2, "kubectl", false, DEPLOY, T3).unwrap();
    assert_eq!(out["spec"]["replicas"], 3);
}

#[test]
fn removing_a_container_from_the_configuration_removes_it() {
    let v1 = deployment(
        json!([{"name": "a", "image": "1"}, {"name": "b", "image": "2"}]),
        None,
    );
    let live = server_side_apply(None, &v1, "kubectl", false, DEPLOY, T1).unwrap();
    let v2 = deployment(json!([{"name": "b", "image": "2"}]), None);
    let out = server_side_apply(Some(&live), &v2, "kubectl", false, DEPLOY, T2).unwrap();
    assert_eq!(containers(&out), &vec![json!({"name": "b", "image": "2"})]);
}

#[test]
fn a_no_op_apply_keeps_the_object_and_time() {
    let v1 = configmap(json!({"a": "1"}));
    let live = server_side_apply(None, &v1, "kubectl", false, CM, T1).unwrap();
    let again = server_side_apply(Some(&live), &v1, "kubectl", false, CM, T2).unwrap();
    assert_eq!(again, live);
}

#[test]
fn an_update_after_apply_takes_the_field() {
    let live = server_side_apply(
        None,
        &configmap(json!({"a": "1", "b": "1"})),
        "kubectl",
        false,
        CM,
        T1,
    )
    .unwrap();
    let mut edited = live.clone();
    edited["data"]["a"] = json!("edited");
    record_update(Some(&live), &mut edited, "kubectl-edit", None, T2);
    assert_eq!(
        entry(&edited, "kubectl")["fieldsV1"],
        json!({"f:data": {"f:b": {}}})
    );
    assert_eq!(
        entry(&edited, "kubectl-edit")["fieldsV1"],
        json!({"f:data": {"f:a": {}}})
    );
    // Apply entries sort before update entries, as upstream encodes them.
    let ops: Vec<&str> = edited["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["Apply", "Update"]);
}

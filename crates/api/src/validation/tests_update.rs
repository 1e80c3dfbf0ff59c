//! Tests of update validation: what may not change.

use serde_json::{Value, json};

use super::ErrorKind::{Forbidden, Invalid, Required};
use super::tests::{Case, expect, info, valid, with, without};
use super::*;
use crate::defaults;

/// Defaults both objects, then validates the update.
fn update(group: &str, plural: &str, new: Value, old: Value) -> Vec<FieldError> {
    let i = info(group, plural);
    let (mut new, mut old) = (new, old);
    defaults::apply(i, &mut new);
    defaults::apply(i, &mut old);
    validate_update(i, &new, &old)
}

/// A valid object as the server stores it: defaulted, with identity.
fn stored(group: &str, plural: &str) -> Value {
    let v = valid(group, plural);
    let v = with(v, "/metadata/uid", json!("uid-1"));
    let mut v = with(
        v,
        "/metadata/creationTimestamp",
        json!("2024-01-01T00:00:00Z"),
    );
    defaults::apply(info(group, plural), &mut v);
    v
}

#[test]
fn metadata_identity_is_immutable() {
    let old = stored("", "configmaps");
    let cases: Vec<Case> = vec![
        (
            "name",
            with(old.clone(), "/metadata/name", json!("other")),
            vec![("metadata.name", Invalid)],
        ),
        (
            "namespace",
            with(old.clone(), "/metadata/namespace", json!("other")),
            vec![("metadata.namespace", Invalid)],
        ),
        (
            "uid",
            with(old.clone(), "/metadata/uid", json!("uid-2")),
            vec![("metadata.uid", Invalid)],
        ),
        (
            "creationTimestamp",
            with(
                old.clone(),
                "/metadata/creationTimestamp",
                json!("2025-01-01T00:00:00Z"),
            ),
            vec![("metadata.creationTimestamp", Invalid)],
        ),
        (
            "labels may change",
            with(old.clone(), "/metadata/labels", json!({"a": "b"})),
            vec![],
        ),
        (
            "generation goes down",
            with(old.clone(), "/metadata/generation", json!(1)),
            vec![],
        ),
    ];
    for (what, new, want) in cases {
        expect(&update("", "configmaps", new, old.clone()), &want, what);
    }
    let old_gen = with(old.clone(), "/metadata/generation", json!(3));
    let new_gen = with(old.clone(), "/metadata/generation", json!(2));
    expect(
        &update("", "configmaps", new_gen, old_gen),
        &[("metadata.generation", Invalid)],
        "generation",
    );
    let e = &update(
        "",
        "configmaps",
        with(old.clone(), "/metadata/uid", json!("x")),
        old.clone(),
    )[0];
    assert_eq!(
        e.to_string(),
        "metadata.uid: Invalid value: \"x\": field is immutable"
    );
    // Finalizers cannot be added to an object being deleted.
    let deleting = with(
        old.clone(),
        "/metadata/deletionTimestamp",
        json!("2024-02-01T00:00:00Z"),
    );
    let added = with(
        deleting.clone(),
        "/metadata/finalizers",
        json!(["example.com/f"]),
    );
    expect(
        &update("", "configmaps", added, deleting),
        &[("metadata.finalizers", Forbidden)],
        "finalizer while deleting",
    );
}

#[test]
fn selectors_and_templates_are_immutable() {
    let old = stored("apps", "deployments");
    let new = with(
        with(
            old.clone(),
            "/spec/selector/matchLabels",
            json!({"app": "web", "v": "2"}),
        ),
        "/spec/template/metadata/labels/v",
        json!("2"),
    );
    let errs = update("apps", "deployments", new, old.clone());
    expect(&errs, &[("spec.selector", Invalid)], "deployment selector");
    assert!(
        errs[0].to_string().ends_with(": field is immutable"),
        "{}",
        errs[0]
    );
    let scaled = with(old.clone(), "/spec/replicas", json!(5));
    expect(
        &update("apps", "deployments", scaled, old),
        &[],
        "deployment scale",
    );

    let old = stored("apps", "replicasets");
    let new = with(
        old.clone(),
        "/spec/selector/matchExpressions",
        json!([{"key": "x", "operator": "DoesNotExist"}]),
    );
    expect(
        &update("apps", "replicasets", new, old),
        &[("spec.selector", Invalid)],
        "rs selector",
    );

    let old = valid("batch", "jobs");
    let new = with(
        old.clone(),
        "/spec/template/spec/containers/0/image",
        json!("busybox:2"),
    );
    expect(
        &update("batch", "jobs", new, old.clone()),
        &[("spec.template", Invalid)],
        "job template",
    );
    let new = with(old.clone(), "/spec/completions", json!(3));
    expect(
        &update("batch", "jobs", new, old.clone()),
        &[("spec.completions", Invalid)],
        "job completions",
    );
    let new = with(old.clone(), "/spec/parallelism", json!(3));
    expect(
        &update("batch", "jobs", new, old.clone()),
        &[],
        "job parallelism",
    );
    // A suspended job that never started may move its pods elsewhere.
    let suspended = with(old.clone(), "/spec/suspend", json!(true));
    let moved = with(
        suspended.clone(),
        "/spec/template/spec/nodeSelector",
        json!({"zone": "b"}),
    );
    expect(
        &update("batch", "jobs", moved, suspended),
        &[],
        "suspended job node selector",
    );
}

#[test]
fn pod_updates() {
    let old = stored("", "pods");
    let c0 = "/spec/containers/0";
    let cases: Vec<Case> = vec![
        (
            "image",
            with(old.clone(), &format!("{c0}/image"), json!("nginx:1.28")),
            vec![],
        ),
        (
            "no image",
            with(old.clone(), &format!("{c0}/image"), json!("")),
            vec![
                ("spec.containers[0].image", Required),
                ("spec.containers[0].image", Required),
            ],
        ),
        (
            "add container",
            with(
                old.clone(),
                "/spec/containers/1",
                json!({"name": "b", "image": "x"}),
            ),
            vec![("spec.containers", Forbidden)],
        ),
        (
            "other field",
            with(
                old.clone(),
                &format!("{c0}/ports/0/containerPort"),
                json!(81),
            ),
            vec![("spec", Forbidden)],
        ),
        (
            "deadline set",
            with(old.clone(), "/spec/activeDeadlineSeconds", json!(30)),
            vec![],
        ),
        (
            "toleration added",
            with(
                old.clone(),
                "/spec/tolerations/2",
                json!({"key": "k", "operator": "Exists", "effect": "NoSchedule"}),
            ),
            vec![],
        ),
    ];
    for (what, new, want) in cases {
        expect(&update("", "pods", new, old.clone()), &want, what);
    }
    let tolerating = with(
        valid("", "pods"),
        "/spec/tolerations",
        json!([{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]),
    );
    let changed = with(
        tolerating.clone(),
        "/spec/tolerations/0/effect",
        json!("NoExecute"),
    );
    expect(
        &update("", "pods", changed, tolerating.clone()),
        &[("spec.tolerations", Forbidden)],
        "toleration changed",
    );
    let base = with(tolerating, "/spec/tolerations/0/effect", json!("NoExecute"));
    let seconds = with(
        base.clone(),
        "/spec/tolerations/0/tolerationSeconds",
        json!(60),
    );
    expect(
        &update("", "pods", seconds, base),
        &[],
        "toleration seconds changed",
    );
    let errs = update(
        "",
        "pods",
        with(old.clone(), "/spec/restartPolicy", json!("Never")),
        old.clone(),
    );
    assert!(
        errs[0].to_string().starts_with(
            "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"
        ),
        "{}",
        errs[0]
    );
    assert!(
        errs[0].detail.contains("- spec.restartPolicy: \"Always\""),
        "{}",
        errs[0].detail
    );
    let with_deadline = with(old.clone(), "/spec/activeDeadlineSeconds", json!(30));
    let longer = with(old.clone(), "/spec/activeDeadlineSeconds", json!(60));
    expect(
        &update("", "pods", longer, with_deadline.clone()),
        &[("spec.activeDeadlineSeconds", Invalid)],
        "longer deadline",
    );
    let dropped = without(with_deadline.clone(), "/spec/activeDeadlineSeconds");
    expect(
        &update("", "pods", dropped, with_deadline),
        &[("spec.activeDeadlineSeconds", Invalid)],
        "dropped deadline",
    );
}

#[test]
fn other_immutable_fields() {
    let old = with(
        stored("", "services"),
        "/spec/clusterIP",
        json!("10.96.0.10"),
    );
    let new = with(
        without(old.clone(), "/spec/clusterIPs"),
        "/spec/clusterIP",
        json!("10.96.0.11"),
    );
    expect(
        &update("", "services", new, old.clone()),
        &[("spec.clusterIP", Invalid)],
        "cluster IP",
    );
    let unassigned = stored("", "services");
    let new = with(unassigned.clone(), "/spec/clusterIP", json!("10.96.0.12"));
    expect(
        &update("", "services", new, unassigned),
        &[],
        "cluster IP from unset",
    );

    let old = with(stored("", "secrets"), "/immutable", json!(true));
    let new = with(old.clone(), "/data/pw", json!("b3RoZXI="));
    expect(
        &update("", "secrets", new, old.clone()),
        &[("data", Forbidden)],
        "immutable secret data",
    );
    let new = with(old.clone(), "/immutable", json!(false));
    expect(
        &update("", "secrets", new, old.clone()),
        &[("immutable", Forbidden)],
        "immutable flag",
    );
    let new = with(old.clone(), "/type", json!("example.com/custom"));
    expect(
        &update("", "secrets", new, old.clone()),
        &[("type", Invalid)],
        "secret type",
    );
    let e = &update(
        "",
        "secrets",
        with(old.clone(), "/immutable", json!(false)),
        old,
    )[0];
    assert_eq!(
        e.to_string(),
        "immutable: Forbidden: field is immutable when `immutable` is set"
    );

    let old = with(stored("", "configmaps"), "/immutable", json!(true));
    let new = with(old.clone(), "/binaryData", json!({"b": "eA=="}));
    expect(
        &update("", "configmaps", new, old),
        &[("binaryData", Forbidden)],
        "immutable configmap",
    );
    let mutable = stored("", "configmaps");
    let new = with(mutable.clone(), "/data/KEY_1", json!("z"));
    expect(
        &update("", "configmaps", new, mutable),
        &[],
        "mutable configmap",
    );

    let g = "rbac.authorization.k8s.io";
    let old = stored(g, "rolebindings");
    let new = with(old.clone(), "/roleRef/name", json!("other"));
    let errs = update(g, "rolebindings", new, old.clone());
    expect(&errs, &[("roleRef", Invalid)], "roleRef");
    assert!(errs[0].to_string().ends_with("cannot change roleRef"));
    let new = with(old.clone(), "/subjects/0/name", json!("bob"));
    expect(&update(g, "rolebindings", new, old), &[], "subjects change");

    let old = stored("", "nodes");
    let new = with(old.clone(), "/spec/podCIDRs", json!(["10.244.2.0/24"]));
    expect(
        &update("", "nodes", new, old.clone()),
        &[("spec.podCIDRs", Forbidden)],
        "pod cidr",
    );
    let new = with(old.clone(), "/spec/providerID", json!("aws:///x"));
    expect(
        &update("", "nodes", new, old),
        &[],
        "provider ID from unset",
    );

    let d = "discovery.k8s.io";
    let old = stored(d, "endpointslices");
    let new = with(
        with(old.clone(), "/addressType", json!("IPv6")),
        "/endpoints/0/addresses/0",
        json!("fd00::5"),
    );
    expect(
        &update(d, "endpointslices", new, old),
        &[("addressType", Invalid)],
        "address type",
    );
}

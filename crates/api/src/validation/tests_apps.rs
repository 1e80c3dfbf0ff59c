//! Table tests of DaemonSets, StatefulSets and APIServices: create rules
//! with upstream's field paths and kinds, messages, and updates.

use serde_json::{Value, json};

use super::ErrorKind::{Forbidden, Invalid, NotSupported, Required};
use super::tests::{Want, create, expect, info, valid, with, without};
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

fn run_cases(group: &str, plural: &str, cases: Vec<(&str, Value, Want)>) {
    for (what, obj, want) in cases {
        expect(&create(group, plural, obj), &want, what);
    }
}

fn messages(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(ToString::to_string).collect()
}

#[test]
fn daemon_set_rules() {
    let ds = valid("apps", "daemonsets");
    let ru = "/spec/updateStrategy/rollingUpdate";
    run_cases(
        "apps",
        "daemonsets",
        vec![
            (
                // Upstream requires no selector here: a missing one only
                // matches no template.
                "no selector",
                without(ds.clone(), "/spec/selector"),
                vec![("spec.template.metadata.labels", Invalid)],
            ),
            (
                "empty selector",
                with(ds.clone(), "/spec/selector", json!({})),
                vec![("spec.selector", Invalid)],
            ),
            (
                "mismatch",
                with(
                    ds.clone(),
                    "/spec/template/metadata/labels",
                    json!({"app": "x"}),
                ),
                vec![("spec.template.metadata.labels", Invalid)],
            ),
            (
                "no template containers",
                without(ds.clone(), "/spec/template/spec/containers"),
                vec![("spec.template.spec.containers", Required)],
            ),
            (
                "restart policy",
                with(
                    ds.clone(),
                    "/spec/template/spec/restartPolicy",
                    json!("OnFailure"),
                ),
                vec![("spec.template.spec.restartPolicy", NotSupported)],
            ),
            (
                "deadline",
                with(
                    ds.clone(),
                    "/spec/template/spec/activeDeadlineSeconds",
                    json!(5),
                ),
                vec![("spec.template.spec.activeDeadlineSeconds", Forbidden)],
            ),
            (
                "strategy type",
                with(ds.clone(), "/spec/updateStrategy/type", json!("Recreate")),
                vec![("spec.updateStrategy", NotSupported)],
            ),
            (
                "both set",
                with(ds.clone(), &format!("{ru}/maxSurge"), json!("10%")),
                vec![("spec.updateStrategy.rollingUpdate.maxSurge", Invalid)],
            ),
            (
                "both zero",
                with(ds.clone(), &format!("{ru}/maxUnavailable"), json!(0)),
                vec![("spec.updateStrategy.rollingUpdate.maxUnavailable", Required)],
            ),
            (
                "surge instead",
                with(
                    with(ds.clone(), &format!("{ru}/maxUnavailable"), json!(0)),
                    &format!("{ru}/maxSurge"),
                    json!(1),
                ),
                vec![],
            ),
            (
                "over 100%",
                with(ds.clone(), &format!("{ru}/maxUnavailable"), json!("150%")),
                vec![("spec.updateStrategy.rollingUpdate.maxUnavailable", Invalid)],
            ),
            (
                "on delete",
                with(
                    ds.clone(),
                    "/spec/updateStrategy",
                    json!({"type": "OnDelete"}),
                ),
                vec![],
            ),
            (
                "negative history",
                with(ds.clone(), "/spec/revisionHistoryLimit", json!(-1)),
                vec![("spec.revisionHistoryLimit", Invalid)],
            ),
            (
                "negative min ready",
                with(ds.clone(), "/spec/minReadySeconds", json!(-1)),
                vec![("spec.minReadySeconds", Invalid)],
            ),
        ],
    );
    let errs = create(
        "apps",
        "daemonsets",
        with(ds.clone(), "/spec/selector", json!({})),
    );
    assert_eq!(
        messages(&errs),
        ["spec.selector: Invalid value: {}: empty selector is invalid for daemonset"]
    );
    let errs = create(
        "apps",
        "daemonsets",
        with(ds, &format!("{ru}/maxUnavailable"), json!(0)),
    );
    assert_eq!(
        messages(&errs),
        [
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"
        ]
    );
}

#[test]
fn stateful_set_rules() {
    let sts = valid("apps", "statefulsets");
    run_cases(
        "apps",
        "statefulsets",
        vec![
            (
                "no selector",
                without(sts.clone(), "/spec/selector"),
                vec![
                    ("spec.selector", Required),
                    ("spec.template.metadata.labels", Invalid),
                ],
            ),
            (
                "empty selector",
                with(sts.clone(), "/spec/selector", json!({})),
                vec![("spec.selector", Invalid)],
            ),
            (
                "mismatch",
                with(
                    sts.clone(),
                    "/spec/template/metadata/labels",
                    json!({"app": "x"}),
                ),
                vec![("spec.template.metadata.labels", Invalid)],
            ),
            (
                "bad selector operator",
                with(
                    sts.clone(),
                    "/spec/selector/matchExpressions",
                    json!([{"key": "a", "operator": "Near", "values": ["b"]}]),
                ),
                vec![
                    ("spec.selector", Invalid),
                    ("spec.selector.matchExpressions[0].operator", Invalid),
                ],
            ),
            (
                "service name may be empty",
                without(sts.clone(), "/spec/serviceName"),
                vec![],
            ),
            (
                // 1.33 does not validate the template's pod spec.
                "template pod spec unchecked",
                without(sts.clone(), "/spec/template/spec/containers/0/image"),
                vec![],
            ),
            (
                "template labels",
                with(
                    sts.clone(),
                    "/spec/template/metadata/labels",
                    json!({"app": "web", "b": "-"}),
                ),
                vec![("spec.template.labels", Invalid)],
            ),
            (
                "negative replicas",
                with(sts.clone(), "/spec/replicas", json!(-1)),
                vec![("spec.replicas", Invalid)],
            ),
            (
                "zero replicas",
                with(sts.clone(), "/spec/replicas", json!(0)),
                vec![],
            ),
            (
                "pod management policy",
                with(sts.clone(), "/spec/podManagementPolicy", json!("Random")),
                vec![("spec.podManagementPolicy", Invalid)],
            ),
            (
                "strategy type",
                with(
                    sts.clone(),
                    "/spec/updateStrategy",
                    json!({"type": "Recreate"}),
                ),
                vec![("spec.updateStrategy", Invalid)],
            ),
            (
                "on delete with rolling update",
                with(
                    sts.clone(),
                    "/spec/updateStrategy",
                    json!({"type": "OnDelete", "rollingUpdate": {"partition": 1}}),
                ),
                vec![("spec.updateStrategy.rollingUpdate", Invalid)],
            ),
            (
                "negative partition",
                with(
                    sts.clone(),
                    "/spec/updateStrategy/rollingUpdate/partition",
                    json!(-2),
                ),
                vec![("spec.updateStrategy.rollingUpdate.partition", Invalid)],
            ),
            (
                "zero max unavailable",
                with(
                    sts.clone(),
                    "/spec/updateStrategy/rollingUpdate/maxUnavailable",
                    json!(0),
                ),
                vec![("spec.updateStrategy.rollingUpdate.maxUnavailable", Invalid)],
            ),
            (
                "retention policy",
                with(
                    sts.clone(),
                    "/spec/persistentVolumeClaimRetentionPolicy/whenScaled",
                    json!("Keep"),
                ),
                vec![(
                    "spec.persistentVolumeClaimRetentionPolicy.whenScaled",
                    NotSupported,
                )],
            ),
            (
                "negative ordinal start",
                with(sts.clone(), "/spec/ordinals", json!({"start": -1})),
                vec![("spec.ordinals.start", Invalid)],
            ),
            (
                "restart policy",
                with(
                    sts.clone(),
                    "/spec/template/spec/restartPolicy",
                    json!("Never"),
                ),
                vec![("spec.template.spec.restartPolicy", NotSupported)],
            ),
            (
                "deadline",
                with(
                    sts.clone(),
                    "/spec/template/spec/activeDeadlineSeconds",
                    json!(5),
                ),
                vec![("spec.template.spec.activeDeadlineSeconds", Forbidden)],
            ),
            (
                // Pod names carry the set's name: it must be a DNS label.
                "dotted name",
                with(sts.clone(), "/metadata/name", json!("web.v1")),
                vec![("metadata.name", Invalid)],
            ),
        ],
    );
    let errs = create(
        "apps",
        "statefulsets",
        with(sts, "/spec/podManagementPolicy", json!("Random")),
    );
    assert_eq!(
        messages(&errs),
        [
            r#"spec.podManagementPolicy: Invalid value: "Random": must be 'OrderedReady' or 'Parallel'"#
        ]
    );
}

#[test]
fn stateful_set_updates() {
    let mut old = valid("apps", "statefulsets");
    defaults::apply(info("apps", "statefulsets"), &mut old);
    for (what, pointer, value) in [
        ("replicas", "/spec/replicas", json!(5)),
        (
            "template",
            "/spec/template/spec/containers/0/image",
            json!("nginx:2"),
        ),
        (
            "strategy",
            "/spec/updateStrategy",
            json!({"type": "OnDelete"}),
        ),
        ("min ready", "/spec/minReadySeconds", json!(3)),
        (
            "retention",
            "/spec/persistentVolumeClaimRetentionPolicy/whenDeleted",
            json!("Delete"),
        ),
    ] {
        let new = with(old.clone(), pointer, value);
        expect(&update("apps", "statefulsets", new, old.clone()), &[], what);
    }
    for (what, pointer, value) in [
        ("service name", "/spec/serviceName", json!("other")),
        ("history", "/spec/revisionHistoryLimit", json!(3)),
        (
            "claims",
            "/spec/volumeClaimTemplates/0/spec/resources/requests/storage",
            json!("2Gi"),
        ),
        ("policy", "/spec/podManagementPolicy", json!("Parallel")),
    ] {
        let new = with(old.clone(), pointer, value);
        let errs = update("apps", "statefulsets", new, old.clone());
        expect(&errs, &[("spec", Forbidden)], what);
        assert!(
            errs[0].to_string().starts_with(
                "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template'"
            ),
            "{}",
            errs[0]
        );
    }
}

#[test]
fn daemon_set_selector_is_immutable() {
    let mut old = valid("apps", "daemonsets");
    defaults::apply(info("apps", "daemonsets"), &mut old);
    let new = with(
        with(old.clone(), "/spec/selector/matchLabels/v", json!("2")),
        "/spec/template/metadata/labels/v",
        json!("2"),
    );
    expect(
        &update("apps", "daemonsets", new, old.clone()),
        &[("spec.selector", Invalid)],
        "selector",
    );
    let new = with(
        old.clone(),
        "/spec/template/spec/containers/0/image",
        json!("x:2"),
    );
    expect(&update("apps", "daemonsets", new, old), &[], "template");
}

#[test]
fn api_service_rules() {
    let a = valid("apiregistration.k8s.io", "apiservices");
    let local = json!({"metadata": {"name": "v1.example.com"}, "spec": {"group": "example.com",
        "version": "v1", "groupPriorityMinimum": 1000, "versionPriority": 15}});
    let legacy = json!({"metadata": {"name": "v1."}, "spec": {"version": "v1",
        "groupPriorityMinimum": 18000, "versionPriority": 1}});
    run_cases(
        "apiregistration.k8s.io",
        "apiservices",
        vec![
            ("local", local.clone(), vec![]),
            ("legacy core group", legacy.clone(), vec![]),
            (
                "name not version.group",
                with(a.clone(), "/metadata/name", json!("metrics")),
                vec![("metadata.name", Invalid)],
            ),
            (
                "name not a path segment",
                with(a.clone(), "/metadata/name", json!("a/b")),
                vec![("metadata.name", Invalid)],
            ),
            (
                "no group",
                with(
                    without(a.clone(), "/spec/group"),
                    "/metadata/name",
                    json!("v1beta1."),
                ),
                vec![("spec.group", Required)],
            ),
            (
                "no version",
                with(
                    without(a.clone(), "/spec/version"),
                    "/metadata/name",
                    json!(".metrics.k8s.io"),
                ),
                vec![("spec.version", Invalid)],
            ),
            (
                "bad group",
                with(
                    with(a.clone(), "/spec/group", json!("Metrics")),
                    "/metadata/name",
                    json!("v1beta1.Metrics"),
                ),
                vec![("spec.group", Invalid)],
            ),
            (
                "group priority",
                with(a.clone(), "/spec/groupPriorityMinimum", json!(20001)),
                vec![("spec.groupPriorityMinimum", Invalid)],
            ),
            (
                "no priorities",
                without(
                    without(a.clone(), "/spec/groupPriorityMinimum"),
                    "/spec/versionPriority",
                ),
                vec![
                    ("spec.groupPriorityMinimum", Invalid),
                    ("spec.versionPriority", Invalid),
                ],
            ),
            (
                "service without name",
                without(a.clone(), "/spec/service/name"),
                vec![("spec.service.name", Required)],
            ),
            (
                "service port",
                with(a.clone(), "/spec/service/port", json!(0)),
                vec![("spec.service.port", Invalid)],
            ),
            (
                "insecure with a CA",
                with(a.clone(), "/spec/caBundle", json!("Y2E=")),
                vec![("spec.insecureSkipTLSVerify", Invalid)],
            ),
            (
                "local with TLS settings",
                with(
                    with(local.clone(), "/spec/caBundle", json!("Y2E=")),
                    "/spec/insecureSkipTLSVerify",
                    json!(true),
                ),
                vec![
                    ("spec.caBundle", Invalid),
                    ("spec.insecureSkipTLSVerify", Invalid),
                ],
            ),
            (
                "condition status",
                with(
                    local.clone(),
                    "/status/conditions",
                    json!([{"type": "Available", "status": "Maybe"}]),
                ),
                vec![("status.conditions[0].status", NotSupported)],
            ),
        ],
    );
    let errs = create(
        "apiregistration.k8s.io",
        "apiservices",
        with(a.clone(), "/metadata/name", json!("metrics")),
    );
    assert_eq!(
        messages(&errs),
        [
            r#"metadata.name: Invalid value: "metrics": must be `spec.version+"."+spec.group`: "v1beta1.metrics.k8s.io""#
        ]
    );
    let errs = create(
        "apiregistration.k8s.io",
        "apiservices",
        with(a, "/spec/versionPriority", json!(0)),
    );
    assert_eq!(
        messages(&errs),
        ["spec.versionPriority: Invalid value: 0: must be positive and less than 1000"]
    );
}

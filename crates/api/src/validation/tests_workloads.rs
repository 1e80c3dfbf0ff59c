//! Table tests of pods, workloads and jobs.

use serde_json::{Value, json};

use super::ErrorKind::{Duplicate, Forbidden, Invalid, NotFound, NotSupported, Required};
use super::tests::{Case, Want, create, expect, valid, with, without};

#[test]
fn pod_rules() {
    let pod = valid("", "pods");
    let c0 = "/spec/containers/0";
    let cases: Vec<Case> = vec![
        (
            "no containers",
            without(pod.clone(), "/spec/containers"),
            vec![("spec.containers", Required)],
        ),
        (
            "no spec",
            without(pod.clone(), "/spec"),
            vec![("spec.containers", Required)],
        ),
        (
            "container name",
            with(pod.clone(), &format!("{c0}/name"), json!("App_1")),
            vec![("spec.containers[0].name", Invalid)],
        ),
        (
            "no container name",
            with(pod.clone(), &format!("{c0}/name"), json!("")),
            vec![("spec.containers[0].name", Required)],
        ),
        (
            "no image",
            without(pod.clone(), &format!("{c0}/image")),
            vec![("spec.containers[0].image", Required)],
        ),
        (
            "image whitespace",
            with(pod.clone(), &format!("{c0}/image"), json!(" nginx")),
            vec![("spec.containers[0].image", Invalid)],
        ),
        (
            "duplicate container names",
            with(
                pod.clone(),
                "/spec/containers/1",
                json!({"name": "app", "image": "x"}),
            ),
            vec![("spec.containers[1].name", Duplicate)],
        ),
        (
            "init container shares a name",
            with(
                pod.clone(),
                "/spec/initContainers",
                json!([{"name": "app", "image": "x"}]),
            ),
            vec![("spec.initContainers[0].name", Duplicate)],
        ),
        (
            "port out of range",
            with(
                pod.clone(),
                &format!("{c0}/ports/0/containerPort"),
                json!(70000),
            ),
            vec![("spec.containers[0].ports[0].containerPort", Invalid)],
        ),
        (
            "port zero",
            with(
                pod.clone(),
                &format!("{c0}/ports/0/containerPort"),
                json!(0),
            ),
            vec![("spec.containers[0].ports[0].containerPort", Required)],
        ),
        (
            "protocol",
            with(
                pod.clone(),
                &format!("{c0}/ports/0/protocol"),
                json!("HTTP"),
            ),
            vec![("spec.containers[0].ports[0].protocol", NotSupported)],
        ),
        (
            "port names",
            with(
                pod.clone(),
                &format!("{c0}/ports"),
                json!([
                {"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"},
                {"containerPort": 82, "name": "HTTP_X"}]),
            ),
            vec![
                ("spec.containers[0].ports[1].name", Duplicate),
                ("spec.containers[0].ports[2].name", Invalid),
                ("spec.containers[0].ports[2].name", Invalid),
            ],
        ),
        (
            "host ports clash",
            with(
                pod.clone(),
                "/spec/containers/1",
                json!({"name": "b", "image": "x",
                "ports": [{"containerPort": 9000, "hostPort": 8080}, {"containerPort": 9001, "hostPort": 8080}]}),
            ),
            vec![("spec.containers[1].ports[1].hostPort", Duplicate)],
        ),
        (
            "restart policy",
            with(pod.clone(), "/spec/restartPolicy", json!("Sometimes")),
            vec![("spec.restartPolicy", NotSupported)],
        ),
        (
            "dns policy",
            with(pod.clone(), "/spec/dnsPolicy", json!("Custom")),
            vec![("spec.dnsPolicy", NotSupported)],
        ),
        (
            "dns None without config",
            with(pod.clone(), "/spec/dnsPolicy", json!("None")),
            vec![("spec.dnsConfig", Required)],
        ),
        (
            "requests above limits",
            with(
                pod.clone(),
                &format!("{c0}/resources"),
                json!({"limits": {"cpu": "1"}, "requests": {"cpu": "1500m"}}),
            ),
            vec![("spec.containers[0].resources.requests", Invalid)],
        ),
        (
            "negative and unknown resources",
            with(
                pod.clone(),
                &format!("{c0}/resources"),
                json!({"limits": {"memory": "-1", "gpu": "1"}}),
            ),
            vec![
                ("spec.containers[0].resources.limits[memory]", Invalid),
                ("spec.containers[0].resources.limits[gpu]", Invalid),
                ("spec.containers[0].resources.limits[gpu]", Invalid),
                ("spec.containers[0].resources.requests[memory]", Invalid),
                ("spec.containers[0].resources.requests[gpu]", Invalid),
                ("spec.containers[0].resources.requests[gpu]", Invalid),
            ],
        ),
        (
            "extended resource needs a whole limit",
            with(
                pod.clone(),
                &format!("{c0}/resources"),
                json!({"requests": {"example.com/gpu": "500m"}}),
            ),
            vec![
                (
                    "spec.containers[0].resources.requests[example.com/gpu]",
                    Invalid,
                ),
                ("spec.containers[0].resources.limits", Required),
            ],
        ),
        (
            "env names",
            with(
                pod.clone(),
                &format!("{c0}/env"),
                json!([{"name": ""}, {"name": "A=B"}, {"name": "1.ok-name"}]),
            ),
            vec![
                ("spec.containers[0].env[0].name", Required),
                ("spec.containers[0].env[0].name", Invalid),
                ("spec.containers[0].env[1].name", Invalid),
            ],
        ),
        (
            "env valueFrom",
            with(
                pod.clone(),
                &format!("{c0}/env"),
                json!([{"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "B", "valueFrom": {}}]),
            ),
            vec![
                ("spec.containers[0].env[0].valueFrom", Invalid),
                ("spec.containers[0].env[1].valueFrom", Invalid),
            ],
        ),
        (
            "volumes",
            with(
                pod.clone(),
                "/spec/volumes",
                json!([{"name": "data"}, {"name": "data", "emptyDir": {}},
                {"name": "Bad", "configMap": {"name": "cm"}, "secret": {"secretName": "s"}}]),
            ),
            vec![
                ("spec.volumes[1].name", Duplicate),
                ("spec.volumes[2].name", Invalid),
                ("spec.volumes[2].secret", Forbidden),
            ],
        ),
        (
            "mount of a missing volume",
            with(
                pod.clone(),
                &format!("{c0}/volumeMounts"),
                json!([{"name": "nope", "mountPath": "/data"}, {"name": "nope", "mountPath": ""}]),
            ),
            vec![
                ("spec.containers[0].volumeMounts[0].name", NotFound),
                ("spec.containers[0].volumeMounts[1].name", NotFound),
                ("spec.containers[0].volumeMounts[1].mountPath", Required),
            ],
        ),
        (
            "probe without handler",
            with(
                pod.clone(),
                &format!("{c0}/livenessProbe"),
                json!({"periodSeconds": 5, "successThreshold": 2}),
            ),
            vec![
                ("spec.containers[0].livenessProbe", Required),
                ("spec.containers[0].livenessProbe.successThreshold", Invalid),
            ],
        ),
        (
            "probe with two handlers",
            with(
                pod.clone(),
                &format!("{c0}/readinessProbe"),
                json!({"tcpSocket": {"port": 80}, "httpGet": {"port": "http-x"}}),
            ),
            vec![("spec.containers[0].readinessProbe.tcpSocket", Forbidden)],
        ),
        (
            "init container probes",
            with(
                pod.clone(),
                "/spec/initContainers",
                json!([{"name": "init", "image": "x", "readinessProbe": {"exec": {"command": ["true"]}}}]),
            ),
            vec![("spec.initContainers[0].readinessProbe", Forbidden)],
        ),
        (
            "sidecar restart policy",
            with(
                pod.clone(),
                "/spec/initContainers",
                json!([{"name": "side", "image": "x", "restartPolicy": "Never"}]),
            ),
            vec![("spec.initContainers[0].restartPolicy", NotSupported)],
        ),
        (
            "tolerations",
            with(
                pod.clone(),
                "/spec/tolerations",
                json!([{"operator": "Equal", "value": "x"}, {"key": "k", "operator": "Exists", "value": "v"},
                {"key": "k", "effect": "NoSchedule", "tolerationSeconds": 5}, {"key": "k", "operator": "Maybe"}]),
            ),
            vec![
                ("spec.tolerations[0].operator", Invalid),
                ("spec.tolerations[1].operator", Invalid),
                ("spec.tolerations[2].effect", Invalid),
                ("spec.tolerations[3].operator", NotSupported),
            ],
        ),
        (
            "node name",
            with(pod.clone(), "/spec/nodeName", json!("Node_1")),
            vec![("spec.nodeName", Invalid)],
        ),
        (
            "deadline",
            with(pod.clone(), "/spec/activeDeadlineSeconds", json!(0)),
            vec![("spec.activeDeadlineSeconds", Invalid)],
        ),
        (
            "hostname",
            with(pod.clone(), "/spec/hostname", json!("a.b")),
            vec![("spec.hostname", Invalid)],
        ),
        (
            "ephemeral containers on create",
            with(
                pod.clone(),
                "/spec/ephemeralContainers",
                json!([{"name": "dbg", "image": "busybox"}]),
            ),
            vec![("spec.ephemeralContainers", Forbidden)],
        ),
        (
            "pull policy",
            with(
                pod.clone(),
                &format!("{c0}/imagePullPolicy"),
                json!("Sometimes"),
            ),
            vec![("spec.containers[0].imagePullPolicy", NotSupported)],
        ),
        (
            "node selector",
            with(
                pod.clone(),
                "/spec/nodeSelector",
                json!({"disk": "ssd fast"}),
            ),
            vec![("spec.nodeSelector", Invalid)],
        ),
        (
            "spread constraints",
            with(
                pod.clone(),
                "/spec/topologySpreadConstraints",
                json!([{"maxSkew": 0, "topologyKey": "", "whenUnsatisfiable": "Maybe"}]),
            ),
            vec![
                ("spec.topologySpreadConstraints[0].maxSkew", Invalid),
                ("spec.topologySpreadConstraints[0].topologyKey", Required),
                (
                    "spec.topologySpreadConstraints[0].whenUnsatisfiable",
                    NotSupported,
                ),
            ],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("", "pods", obj), &want, what);
    }
}

#[test]
fn workload_rules() {
    let d = valid("apps", "deployments");
    let cases: Vec<(&str, &str, &str, Value, Want)> = vec![
        (
            "apps",
            "deployments",
            "no selector",
            without(d.clone(), "/spec/selector"),
            vec![
                ("spec.selector", Required),
                ("spec.template.metadata.labels", Invalid),
            ],
        ),
        (
            "apps",
            "deployments",
            "empty selector",
            with(d.clone(), "/spec/selector", json!({})),
            vec![("spec.selector", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "mismatch",
            with(
                d.clone(),
                "/spec/template/metadata/labels",
                json!({"app": "x"}),
            ),
            vec![("spec.template.metadata.labels", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "negative replicas",
            with(d.clone(), "/spec/replicas", json!(-1)),
            vec![("spec.replicas", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "strategy type",
            with(d.clone(), "/spec/strategy", json!({"type": "BlueGreen"})),
            vec![("spec.strategy", NotSupported)],
        ),
        (
            "apps",
            "deployments",
            "both zero",
            with(
                d.clone(),
                "/spec/strategy",
                json!({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}),
            ),
            vec![("spec.strategy.rollingUpdate.maxUnavailable", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "bad percent",
            with(
                d.clone(),
                "/spec/strategy",
                json!({"rollingUpdate": {"maxSurge": "x%", "maxUnavailable": "120%"}}),
            ),
            vec![
                ("spec.strategy.rollingUpdate.maxSurge", Invalid),
                ("spec.strategy.rollingUpdate.maxUnavailable", Invalid),
            ],
        ),
        (
            "apps",
            "deployments",
            "recreate with rolling update",
            with(
                d.clone(),
                "/spec/strategy",
                json!({"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}),
            ),
            vec![("spec.strategy.rollingUpdate", Forbidden)],
        ),
        (
            "apps",
            "deployments",
            "restart policy",
            with(
                d.clone(),
                "/spec/template/spec/restartPolicy",
                json!("Never"),
            ),
            vec![("spec.template.spec.restartPolicy", NotSupported)],
        ),
        (
            "apps",
            "deployments",
            "progress deadline",
            with(d.clone(), "/spec/minReadySeconds", json!(700)),
            vec![("spec.progressDeadlineSeconds", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "template container",
            with(
                d.clone(),
                "/spec/template/spec/containers/0/image",
                json!(""),
            ),
            vec![("spec.template.spec.containers[0].image", Required)],
        ),
        (
            "apps",
            "deployments",
            "template labels",
            with(
                d.clone(),
                "/spec/template/metadata/labels",
                json!({"app": "web", "b": "-"}),
            ),
            vec![("spec.template.labels", Invalid)],
        ),
        (
            "apps",
            "deployments",
            "selector operator",
            with(
                d.clone(),
                "/spec/selector/matchExpressions",
                json!([{"key": "tier", "operator": "Near", "values": ["a"]}]),
            ),
            vec![
                ("spec.selector.matchExpressions[0].operator", Invalid),
                ("spec.selector", Invalid),
            ],
        ),
        (
            "apps",
            "replicasets",
            "rs mismatch",
            with(
                valid("apps", "replicasets"),
                "/spec/selector/matchLabels",
                json!({"app": "x"}),
            ),
            vec![("spec.template.metadata.labels", Invalid)],
        ),
        (
            "apps",
            "replicasets",
            "rs deadline",
            with(
                valid("apps", "replicasets"),
                "/spec/template/spec/activeDeadlineSeconds",
                json!(5),
            ),
            vec![("spec.template.spec.activeDeadlineSeconds", Invalid)],
        ),
        (
            "",
            "replicationcontrollers",
            "rc without template",
            without(valid("", "replicationcontrollers"), "/spec/template"),
            vec![("spec.selector", Required), ("spec.template", Required)],
        ),
        (
            "",
            "replicationcontrollers",
            "rc mismatch",
            with(
                valid("", "replicationcontrollers"),
                "/spec/selector",
                json!({"app": "x"}),
            ),
            vec![("spec.template.metadata.labels", Invalid)],
        ),
        (
            "",
            "podtemplates",
            "pod template",
            with(
                valid("", "podtemplates"),
                "/template/spec/containers",
                json!([]),
            ),
            vec![("template.spec.containers", Required)],
        ),
        (
            "apps",
            "controllerrevisions",
            "revision",
            with(
                without(valid("apps", "controllerrevisions"), "/data"),
                "/revision",
                json!(-1),
            ),
            vec![("data", Required), ("revision", Invalid)],
        ),
    ];
    for (group, plural, what, obj, want) in cases {
        expect(&create(group, plural, obj), &want, what);
    }
}

#[test]
fn batch_rules() {
    let j = valid("batch", "jobs");
    let t = "/spec/template";
    let cases: Vec<Case> = vec![
        (
            "restart always",
            with(
                j.clone(),
                &format!("{t}/spec/restartPolicy"),
                json!("Always"),
            ),
            vec![("spec.template.spec.restartPolicy", NotSupported)],
        ),
        (
            "negatives",
            with(
                with(j.clone(), "/spec/parallelism", json!(-1)),
                "/spec/backoffLimit",
                json!(-2),
            ),
            vec![
                ("spec.parallelism", Invalid),
                ("spec.backoffLimit", Invalid),
            ],
        ),
        (
            "completion mode",
            with(j.clone(), "/spec/completionMode", json!("Sometimes")),
            vec![("spec.completionMode", NotSupported)],
        ),
        (
            "indexed needs completions",
            with(
                without(j.clone(), "/spec/completions"),
                "/spec/completionMode",
                json!("Indexed"),
            ),
            vec![("spec.completions", Required)],
        ),
        (
            "foreign selector",
            with(j.clone(), "/spec/selector/matchLabels/app", json!("x")),
            vec![
                ("spec.selector", Invalid),
                ("spec.template.metadata.labels", Invalid),
            ],
        ),
        (
            "changed uid label",
            with(
                j.clone(),
                &format!("{t}/metadata/labels/controller-uid"),
                json!("other"),
            ),
            vec![("spec.template.metadata.labels[controller-uid]", Invalid)],
        ),
        (
            "manual selector without labels",
            with(
                with(j.clone(), "/spec/manualSelector", json!(true)),
                "/spec/selector",
                json!({"matchLabels": {"a": "b"}}),
            ),
            vec![("spec.template.metadata.labels", Invalid)],
        ),
        (
            "no selector at all",
            with(
                without(j.clone(), "/spec/selector"),
                "/spec/manualSelector",
                json!(true),
            ),
            vec![("spec.selector", Required)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("batch", "jobs", obj), &want, what);
    }
    let cj = valid("batch", "cronjobs");
    let js = "/spec/jobTemplate/spec";
    let cases: Vec<Case> = vec![
        (
            "schedule",
            with(cj.clone(), "/spec/schedule", json!("61 * * * *")),
            vec![("spec.schedule", Invalid)],
        ),
        (
            "no schedule",
            without(cj.clone(), "/spec/schedule"),
            vec![("spec.schedule", Required)],
        ),
        (
            "TZ in schedule",
            with(cj.clone(), "/spec/schedule", json!("TZ=UTC 0 * * * *")),
            vec![("spec.schedule", Invalid)],
        ),
        (
            "concurrency",
            with(cj.clone(), "/spec/concurrencyPolicy", json!("Sometimes")),
            vec![("spec.concurrencyPolicy", NotSupported)],
        ),
        (
            "selector",
            with(
                cj.clone(),
                &format!("{js}/selector"),
                json!({"matchLabels": {"a": "b"}}),
            ),
            vec![("spec.jobTemplate.spec.selector", Invalid)],
        ),
        (
            "manual selector",
            with(cj.clone(), &format!("{js}/manualSelector"), json!(true)),
            vec![("spec.jobTemplate.spec.manualSelector", NotSupported)],
        ),
        (
            "restart",
            with(
                cj.clone(),
                &format!("{js}/template/spec/restartPolicy"),
                json!("Always"),
            ),
            vec![(
                "spec.jobTemplate.spec.template.spec.restartPolicy",
                NotSupported,
            )],
        ),
        (
            "history",
            with(cj.clone(), "/spec/failedJobsHistoryLimit", json!(-1)),
            vec![("spec.failedJobsHistoryLimit", Invalid)],
        ),
        (
            "time zone",
            with(cj.clone(), "/spec/timeZone", json!("Local")),
            vec![("spec.timeZone", Invalid)],
        ),
    ];
    for (what, obj, want) in cases {
        expect(&create("batch", "cronjobs", obj), &want, what);
    }
}

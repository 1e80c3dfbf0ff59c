//! Defaulting tests: upstream's v1 defaults, kind by kind.

use serde_json::{Value, json};

use super::pod::pull_policy;
use super::*;
use crate::registry::{RESOURCES, lookup};

fn defaulted(group: &str, plural: &str, mut obj: Value) -> Value {
    let info = lookup(group, "v1", plural).unwrap();
    apply(info, &mut obj);
    // Defaulting twice changes nothing.
    let mut again = obj.clone();
    apply(info, &mut again);
    assert_eq!(again, obj, "{plural} defaults are not idempotent");
    obj
}

#[test]
fn pull_policy_follows_the_tag() {
    for (image, want) in [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("nginx@sha256:abc", "IfNotPresent"),
        ("nginx:latest@sha256:abc", "Always"),
        ("localhost:5000/nginx", "Always"),
        ("localhost:5000/nginx:1", "IfNotPresent"),
        ("registry.example.com:443/team/app", "Always"),
        ("registry.example.com/team/app:v2", "IfNotPresent"),
        ("Bad/Image", "IfNotPresent"),
        ("", "IfNotPresent"),
    ] {
        assert_eq!(pull_policy(image), want, "{image}");
    }
}

#[test]
fn pods_get_upstreams_defaults() {
    let pod = defaulted(
        "",
        "pods",
        json!({"metadata": {"name": "p"}, "spec": {
            "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}],
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}},
                "livenessProbe": {"httpGet": {"port": 80}},
                "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}],
            "initContainers": [{"name": "i", "image": "busybox:1.36"}],
            "volumes": [{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "cm"}},
                {"name": "h", "hostPath": {"path": "/tmp"}}]}}),
    );
    let spec = &pod["spec"];
    assert_eq!(spec["restartPolicy"], "Always");
    assert_eq!(spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(spec["terminationGracePeriodSeconds"], 30);
    assert_eq!(spec["schedulerName"], "default-scheduler");
    assert_eq!(spec["securityContext"], json!({}));
    assert_eq!(spec["enableServiceLinks"], true);
    assert_eq!(spec["priority"], 0);
    assert_eq!(spec["preemptionPolicy"], "PreemptLowerPriority");
    assert_eq!(spec["tolerations"].as_array().unwrap().len(), 2);
    assert_eq!(
        spec["tolerations"][0]["key"],
        "node.kubernetes.io/not-ready"
    );
    assert_eq!(spec["tolerations"][1]["tolerationSeconds"], 300);
    let c = &spec["containers"][0];
    assert_eq!(c["imagePullPolicy"], "Always");
    assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(c["terminationMessagePolicy"], "File");
    assert_eq!(c["ports"][0]["protocol"], "TCP");
    assert_eq!(
        c["resources"]["requests"],
        json!({"cpu": "500m", "memory": "1Gi"})
    );
    assert_eq!(
        c["resizePolicy"],
        json!([{"resourceName": "cpu", "restartPolicy": "NotRequired"},
               {"resourceName": "memory", "restartPolicy": "NotRequired"}])
    );
    let probe = &c["livenessProbe"];
    assert_eq!(
        (
            &probe["timeoutSeconds"],
            &probe["periodSeconds"],
            &probe["successThreshold"],
            &probe["failureThreshold"]
        ),
        (&json!(1), &json!(10), &json!(1), &json!(3))
    );
    assert_eq!(probe["httpGet"]["path"], "/");
    assert_eq!(probe["httpGet"]["scheme"], "HTTP");
    assert_eq!(c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
    let init = &spec["initContainers"][0];
    assert_eq!(init["imagePullPolicy"], "IfNotPresent");
    assert_eq!(init["resources"], json!({}));
    assert!(init.get("resizePolicy").is_none());
    assert_eq!(spec["volumes"][0]["emptyDir"], json!({}));
    assert_eq!(spec["volumes"][1]["configMap"]["defaultMode"], 420);
    assert_eq!(spec["volumes"][2]["hostPath"]["type"], "");
}

#[test]
fn pod_defaults_keep_what_is_set() {
    let pod = defaulted(
        "",
        "pods",
        json!({"spec": {"restartPolicy": "Never", "dnsPolicy": "Default", "terminationGracePeriodSeconds": 0,
            "enableServiceLinks": false, "priorityClassName": "system-node-critical", "hostNetwork": true,
            "tolerations": [{"operator": "Exists"}],
            "containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Never",
                "ports": [{"containerPort": 8080, "protocol": "UDP"}]}]}}),
    );
    let spec = &pod["spec"];
    assert_eq!(spec["restartPolicy"], "Never");
    assert_eq!(spec["dnsPolicy"], "Default");
    assert_eq!(spec["terminationGracePeriodSeconds"], 0);
    assert_eq!(spec["enableServiceLinks"], false);
    assert_eq!(spec["priority"], 2_000_001_000);
    // A toleration of everything already covers the default ones.
    assert_eq!(spec["tolerations"], json!([{"operator": "Exists"}]));
    let c = &spec["containers"][0];
    assert_eq!(c["imagePullPolicy"], "Never");
    assert_eq!(
        c["ports"][0],
        json!({"containerPort": 8080, "hostPort": 8080, "protocol": "UDP"})
    );
}

#[test]
fn workload_defaults() {
    let d = defaulted(
        "apps",
        "deployments",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}}),
    );
    assert_eq!(d["spec"]["replicas"], 1);
    assert_eq!(
        d["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    );
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
    let t = &d["spec"]["template"]["spec"];
    assert_eq!(t["restartPolicy"], "Always");
    assert_eq!(t["containers"][0]["imagePullPolicy"], "IfNotPresent");
    // Pod-only defaults stay out of templates.
    assert!(t.get("enableServiceLinks").is_none());
    assert!(t.get("priority").is_none());

    let d = defaulted(
        "apps",
        "deployments",
        json!({"spec": {"replicas": 0, "strategy": {"type": "Recreate"}}}),
    );
    assert_eq!(d["spec"]["replicas"], 0);
    assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));

    let rs = defaulted("apps", "replicasets", json!({"spec": {}}));
    assert_eq!(rs["spec"]["replicas"], 1);
    assert!(rs["spec"].get("selector").is_none());

    let rc = defaulted(
        "",
        "replicationcontrollers",
        json!({"spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {}}}}),
    );
    assert_eq!(rc["spec"]["selector"], json!({"app": "x"}));
    assert_eq!(rc["metadata"]["labels"], json!({"app": "x"}));
    assert_eq!(rc["spec"]["replicas"], 1);
    let rc = defaulted(
        "",
        "replicationcontrollers",
        json!({"metadata": {"labels": {"own": "y"}}, "spec": {"selector": {"app": "x"},
            "template": {"metadata": {"labels": {"app": "x", "b": "c"}}}}}),
    );
    assert_eq!(rc["spec"]["selector"], json!({"app": "x"}));
    assert_eq!(rc["metadata"]["labels"], json!({"own": "y"}));
}

#[test]
fn daemon_set_and_stateful_set_defaults() {
    let template = json!({"metadata": {"labels": {"app": "a"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}});
    let ds = defaulted(
        "apps",
        "daemonsets",
        json!({"spec": {"template": template}}),
    );
    assert_eq!(
        ds["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
    assert_eq!(ds["spec"]["revisionHistoryLimit"], 10);
    let t = &ds["spec"]["template"]["spec"];
    assert_eq!(t["restartPolicy"], "Always");
    assert_eq!(
        t["containers"][0]["terminationMessagePath"],
        "/dev/termination-log"
    );
    assert!(ds["spec"].get("selector").is_none());
    let on_delete = defaulted(
        "apps",
        "daemonsets",
        json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
    );
    assert_eq!(
        on_delete["spec"]["updateStrategy"],
        json!({"type": "OnDelete"})
    );
    let surge = defaulted(
        "apps",
        "daemonsets",
        json!({"spec": {"updateStrategy": {"rollingUpdate": {"maxSurge": "10%"}}}}),
    );
    assert_eq!(
        surge["spec"]["updateStrategy"]["rollingUpdate"],
        json!({"maxUnavailable": 1, "maxSurge": "10%"})
    );

    let sts = defaulted(
        "apps",
        "statefulsets",
        json!({"spec": {"template": template, "volumeClaimTemplates": [
            {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]}}),
    );
    let spec = &sts["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["podManagementPolicy"], "OrderedReady");
    assert_eq!(
        spec["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(
        spec["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert_eq!(spec["template"]["spec"]["dnsPolicy"], "ClusterFirst");
    let claim = &spec["volumeClaimTemplates"][0];
    assert_eq!(claim["spec"]["volumeMode"], "Filesystem");
    assert_eq!(claim["status"], json!({"phase": "Pending"}));
    // No serviceName is made up, and a chosen strategy is kept as given.
    assert!(spec.get("serviceName").is_none());
    let kept = defaulted(
        "apps",
        "statefulsets",
        json!({"spec": {"replicas": 0, "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate"},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"}}}),
    );
    assert_eq!(kept["spec"]["replicas"], 0);
    assert_eq!(kept["spec"]["podManagementPolicy"], "Parallel");
    assert_eq!(
        kept["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate"})
    );
    assert_eq!(
        kept["spec"]["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Delete", "whenScaled": "Retain"})
    );
    let on_delete = defaulted(
        "apps",
        "statefulsets",
        json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
    );
    assert_eq!(
        on_delete["spec"]["updateStrategy"],
        json!({"type": "OnDelete"})
    );
}

#[test]
fn api_service_defaults() {
    let svc = defaulted(
        "apiregistration.k8s.io",
        "apiservices",
        json!({"spec": {"service": {"namespace": "kube-system", "name": "m"}}}),
    );
    assert_eq!(svc["spec"]["service"]["port"], 443);
    let local = defaulted(
        "apiregistration.k8s.io",
        "apiservices",
        json!({"spec": {"group": "g", "version": "v1"}}),
    );
    assert!(local["spec"].get("service").is_none());
}

#[test]
fn job_defaults_and_selector() {
    let j = defaulted(
        "batch",
        "jobs",
        json!({"metadata": {"name": "pi"}, "spec": {"template": {"spec": {}}}}),
    );
    let spec = &j["spec"];
    assert_eq!(spec["completions"], 1);
    assert_eq!(spec["parallelism"], 1);
    assert_eq!(spec["backoffLimit"], 6);
    assert_eq!(spec["completionMode"], "NonIndexed");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["manualSelector"], false);
    assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Always");

    let j = defaulted(
        "batch",
        "jobs",
        json!({"spec": {"parallelism": 4, "backoffLimitPerIndex": 1,
        "podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}}}),
    );
    assert!(j["spec"].get("completions").is_none());
    assert_eq!(j["spec"]["backoffLimit"], i64::from(i32::MAX));
    assert_eq!(j["spec"]["podReplacementPolicy"], "Failed");
    assert_eq!(
        j["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"],
        "True"
    );

    let mut j = defaulted(
        "batch",
        "jobs",
        json!({"metadata": {"name": "pi"}, "spec": {"template": {"spec": {}}}}),
    );
    generate_job_selector(&mut j, "u-1");
    assert_eq!(
        j["spec"]["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}})
    );
    let want = json!({"batch.kubernetes.io/controller-uid": "u-1", "batch.kubernetes.io/job-name": "pi",
        "controller-uid": "u-1", "job-name": "pi"});
    assert_eq!(j["spec"]["template"]["metadata"]["labels"], want);
    assert_eq!(j["metadata"]["labels"], want);
    let mut manual =
        json!({"spec": {"manualSelector": true, "selector": {"matchLabels": {"a": "b"}}}});
    generate_job_selector(&mut manual, "u-1");
    assert_eq!(
        manual["spec"]["selector"],
        json!({"matchLabels": {"a": "b"}})
    );
    assert_eq!(job_selector_labels("u")["controller-uid"], "u");
    assert_eq!(
        job_selector_labels("u")["batch.kubernetes.io/controller-uid"],
        "u"
    );

    let cj = defaulted(
        "batch",
        "cronjobs",
        json!({"spec": {"schedule": "* * * * *",
        "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}}}),
    );
    let spec = &cj["spec"];
    assert_eq!(spec["concurrencyPolicy"], "Allow");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["successfulJobsHistoryLimit"], 3);
    assert_eq!(spec["failedJobsHistoryLimit"], 1);
    let job_spec = &spec["jobTemplate"]["spec"];
    assert!(job_spec.get("backoffLimit").is_none());
    assert_eq!(
        job_spec["template"]["spec"]["containers"][0]["terminationMessagePolicy"],
        "File"
    );
}

#[test]
fn service_defaults() {
    let s = defaulted(
        "",
        "services",
        json!({"spec": {"selector": {"app": "x"}, "ports": [{"port": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}]}}),
    );
    let spec = &s["spec"];
    assert_eq!(spec["type"], "ClusterIP");
    assert_eq!(spec["sessionAffinity"], "None");
    assert_eq!(
        spec["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    assert_eq!(spec["ports"][1]["targetPort"], "dns");
    assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
    assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
    assert_eq!(spec["internalTrafficPolicy"], "Cluster");
    assert!(spec.get("externalTrafficPolicy").is_none());

    let lb = defaulted(
        "",
        "services",
        json!({"spec": {"type": "LoadBalancer", "sessionAffinity": "ClientIP", "ports": [{"port": 443}]}}),
    );
    assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
    assert_eq!(
        lb["spec"]["sessionAffinityConfig"],
        json!({"clientIP": {"timeoutSeconds": 10800}})
    );

    let headless = defaulted("", "services", json!({"spec": {"clusterIP": "None"}}));
    assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
    assert_eq!(headless["spec"]["ipFamilyPolicy"], "RequireDualStack");

    let ext = defaulted(
        "",
        "services",
        json!({"spec": {"type": "ExternalName", "externalName": "x.example.com"}}),
    );
    assert!(ext["spec"].get("ipFamilies").is_none());
    assert!(ext["spec"].get("ipFamilyPolicy").is_none());
    assert!(ext["spec"].get("internalTrafficPolicy").is_none());

    let from_ips = defaulted(
        "",
        "services",
        json!({"spec": {"clusterIPs": ["10.96.0.9"], "ports": [{"port": 1}]}}),
    );
    assert_eq!(from_ips["spec"]["clusterIP"], "10.96.0.9");
}

#[test]
fn secret_and_namespace_defaults() {
    let s = defaulted(
        "",
        "secrets",
        json!({"data": {"a": "eA=="}, "stringData": {"b": "hello", "a": "y"}}),
    );
    assert_eq!(s["type"], "Opaque");
    assert_eq!(s["data"], json!({"a": "eQ==", "b": "aGVsbG8="}));
    assert!(s.get("stringData").is_none());
    let odd = defaulted(
        "",
        "secrets",
        json!({"type": "kubernetes.io/tls", "stringData": {"b": 5}}),
    );
    assert_eq!(odd["stringData"], json!({"b": 5}));
    assert_eq!(odd["type"], "kubernetes.io/tls");

    let ns = defaulted("", "namespaces", json!({"metadata": {"name": "team-a"}}));
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "team-a"
    );
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(ns["status"]["phase"], "Active");
    let done = defaulted(
        "",
        "namespaces",
        json!({"metadata": {"name": "t"}, "spec": {"finalizers": []}}),
    );
    assert_eq!(done["spec"]["finalizers"], json!([]));
    let deleting = defaulted(
        "",
        "namespaces",
        json!({"metadata": {"name": "t", "deletionTimestamp": "2024-01-01T00:00:00Z"}}),
    );
    assert!(deleting.get("status").is_none());
}

#[test]
fn other_kinds() {
    let node = defaulted("", "nodes", json!({"status": {"capacity": {"cpu": "2"}}}));
    assert_eq!(node["status"]["allocatable"], json!({"cpu": "2"}));
    let ep = defaulted(
        "",
        "endpoints",
        json!({"subsets": [{"ports": [{"port": 80}]}]}),
    );
    assert_eq!(ep["subsets"][0]["ports"][0]["protocol"], "TCP");
    let es = defaulted(
        "discovery.k8s.io",
        "endpointslices",
        json!({"ports": [{"port": 80}]}),
    );
    assert_eq!(
        es["ports"][0],
        json!({"name": "", "port": 80, "protocol": "TCP"})
    );
    let lr = defaulted(
        "",
        "limitranges",
        json!({"spec": {"limits": [
            {"type": "Container", "max": {"cpu": "2", "memory": "1Gi"}, "min": {"cpu": "100m"}, "default": {"memory": "512Mi"}},
            {"type": "Pod", "max": {"cpu": "4"}}]}}),
    );
    let c = &lr["spec"]["limits"][0];
    assert_eq!(c["default"], json!({"cpu": "2", "memory": "512Mi"}));
    assert_eq!(c["defaultRequest"], json!({"cpu": "2", "memory": "512Mi"}));
    assert!(lr["spec"]["limits"][1].get("default").is_none());
    let only_min = defaulted(
        "",
        "limitranges",
        json!({"spec": {"limits": [{"type": "Container", "min": {"cpu": "1"}}]}}),
    );
    assert_eq!(
        only_min["spec"]["limits"][0]["defaultRequest"],
        json!({"cpu": "1"})
    );
    assert!(only_min["spec"]["limits"][0].get("default").is_none());
    let rb = defaulted(
        "rbac.authorization.k8s.io",
        "rolebindings",
        json!({"roleRef": {"kind": "Role", "name": "r"}, "subjects": [
            {"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}]}),
    );
    assert_eq!(rb["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
    assert_eq!(rb["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
    assert!(rb["subjects"][1].get("apiGroup").is_none());
}

#[test]
fn odd_shapes_are_left_alone() {
    for r in RESOURCES {
        for odd in [
            json!(null),
            json!("x"),
            json!([1]),
            json!({"spec": "x"}),
            json!({"spec": {"template": 5, "ports": {}}}),
        ] {
            let mut o = odd.clone();
            apply(r, &mut o);
            if !odd.is_object() {
                assert_eq!(o, odd);
            }
        }
    }
    let mut pod = json!({"spec": {"containers": "x", "restartPolicy": 5}});
    apply(lookup("", "v1", "pods").unwrap(), &mut pod);
    assert_eq!(pod["spec"]["containers"], "x");
    assert_eq!(pod["spec"]["restartPolicy"], 5);
}

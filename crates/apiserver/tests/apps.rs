//! DaemonSets, StatefulSets and APIServices through the REST API: create,
//! get, list and update with upstream's defaults, generation and template
//! generation, 422s with field paths, the StatefulSet scale subresource,
//! tables, and the new group in discovery and OpenAPI.

#![allow(clippy::unwrap_used)]

mod support;

use http::StatusCode;
use serde_json::{Value, json};
use support::Server;

const DS: &str = "/apis/apps/v1/namespaces/default/daemonsets";
const STS: &str = "/apis/apps/v1/namespaces/default/statefulsets";
const APISVC: &str = "/apis/apiregistration.k8s.io/v1/apiservices";
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn template(app: &str) -> Value {
    json!({"metadata": {"labels": {"app": app}},
           "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}})
}

fn daemon_set(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
           "spec": {"selector": {"matchLabels": {"app": name}}, "template": template(name)}})
}

fn stateful_set(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
           "spec": {"selector": {"matchLabels": {"app": name}}, "serviceName": name,
                    "template": template(name),
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}}}}]}})
}

fn causes(e: &Value) -> Vec<(String, String)> {
    e["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["field"].as_str().unwrap().to_string(),
                c["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn names(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect()
}

async fn table_columns(s: &Server, path: &str) -> (Vec<String>, Vec<Value>) {
    let (code, _, t) = s
        .call_full("GET", path, "application/json", Some(TABLE), Vec::new())
        .await;
    assert_eq!(code, StatusCode::OK, "{t}");
    let columns = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    (columns, t["rows"].as_array().unwrap().clone())
}

#[tokio::test]
async fn daemon_sets_default_count_generations_and_print() {
    let s = Server::start().await;
    let (code, ds) = s.call("POST", DS, Some(daemon_set("agent"))).await;
    assert_eq!(code, StatusCode::CREATED, "{ds}");
    assert_eq!(
        ds["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
    assert_eq!(ds["spec"]["revisionHistoryLimit"], 10);
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["containers"][0]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(ds["metadata"]["generation"], 1);
    let annotation = |v: &Value| {
        v["metadata"]["annotations"]["deprecated.daemonset.template.generation"].clone()
    };
    assert_eq!(annotation(&ds), "1");
    // Go's zero DaemonSetStatus: the counters without omitempty.
    assert_eq!(ds["status"]["desiredNumberScheduled"], 0);
    assert_eq!(ds["status"]["numberReady"], 0);

    let (code, got) = s.call("GET", &format!("{DS}/agent"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(got, ds);
    s.call("POST", DS, Some(daemon_set("logs"))).await;
    let (code, list) = s.call("GET", DS, None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(list["kind"], "DaemonSetList");
    assert_eq!(names(&list), ["agent", "logs"]);
    let (_, all) = s.call("GET", "/apis/apps/v1/daemonsets", None).await;
    assert_eq!(names(&all).len(), 2);

    // Labels alone change neither generation.
    let mut labelled = got.clone();
    labelled["metadata"]["labels"] = json!({"team": "a"});
    let (code, labelled) = s.call("PUT", &format!("{DS}/agent"), Some(labelled)).await;
    assert_eq!(code, StatusCode::OK, "{labelled}");
    assert_eq!(labelled["metadata"]["generation"], 1);
    assert_eq!(annotation(&labelled), "1");
    // A new template bumps both.
    let mut changed = labelled.clone();
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:1.36");
    let (code, changed) = s.call("PUT", &format!("{DS}/agent"), Some(changed)).await;
    assert_eq!(code, StatusCode::OK, "{changed}");
    assert_eq!(changed["metadata"]["generation"], 2);
    assert_eq!(annotation(&changed), "2");
    // Another spec field bumps only the generation.
    let (code, patched) = s
        .patch(
            &format!("{DS}/agent"),
            "application/merge-patch+json",
            r#"{"spec":{"minReadySeconds":5}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{patched}");
    assert_eq!(patched["metadata"]["generation"], 3);
    assert_eq!(annotation(&patched), "2");

    // The status goes through /status and changes no generation.
    let mut st = patched.clone();
    st["status"] = json!({"desiredNumberScheduled": 2, "currentNumberScheduled": 2,
        "numberReady": 1, "numberMisscheduled": 0, "updatedNumberScheduled": 2, "numberAvailable": 1});
    let (code, st) = s.call("PUT", &format!("{DS}/agent/status"), Some(st)).await;
    assert_eq!(code, StatusCode::OK, "{st}");
    assert_eq!(st["metadata"]["generation"], 3);
    assert_eq!(st["status"]["numberReady"], 1);

    let (columns, rows) = table_columns(&s, DS).await;
    assert_eq!(
        columns,
        [
            "Name",
            "Desired",
            "Current",
            "Ready",
            "Up-to-date",
            "Available",
            "Node Selector",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ]
    );
    let cells = rows[0]["cells"].as_array().unwrap();
    assert_eq!(cells[0], "agent");
    assert_eq!(
        cells[1..7],
        [
            json!(2),
            json!(2),
            json!(1),
            json!(2),
            json!(1),
            json!("<none>")
        ]
    );
    assert_eq!(cells[10], "app=agent");
}

#[tokio::test]
async fn bad_selectors_are_422_with_field_paths() {
    let s = Server::start().await;
    let mut ds = daemon_set("bad");
    ds["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
    let (code, e) = s.call("POST", DS, Some(ds)).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["reason"], "Invalid");
    assert_eq!(e["details"]["kind"], "DaemonSet");
    assert_eq!(e["details"]["group"], "apps");
    assert_eq!(
        causes(&e),
        [(
            "spec.template.metadata.labels".to_string(),
            "FieldValueInvalid".to_string()
        )]
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("`selector` does not match template `labels`"),
        "{e}"
    );

    let mut sts = stateful_set("nosel");
    sts["spec"].as_object_mut().unwrap().remove("selector");
    let (code, e) = s.call("POST", STS, Some(sts)).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let c = causes(&e);
    assert!(
        c.contains(&("spec.selector".into(), "FieldValueRequired".into())),
        "{c:?}"
    );
    assert!(
        c.contains(&(
            "spec.template.metadata.labels".into(),
            "FieldValueInvalid".into()
        )),
        "{c:?}"
    );
    let (code, _) = s.call("GET", &format!("{STS}/nosel"), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "nothing was stored");

    // An update may not change a DaemonSet's selector.
    s.call("POST", DS, Some(daemon_set("fixed"))).await;
    let (code, e) = s
        .patch(
            &format!("{DS}/fixed"),
            "application/merge-patch+json",
            r#"{"spec":{"selector":{"matchLabels":{"app":"fixed","v":"2"}},
                "template":{"metadata":{"labels":{"v":"2"}}}}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        causes(&e),
        [("spec.selector".to_string(), "FieldValueInvalid".to_string())]
    );
}

#[tokio::test]
async fn stateful_sets_default_scale_and_refuse_fixed_fields() {
    let s = Server::start().await;
    let (code, sts) = s.call("POST", STS, Some(stateful_set("db"))).await;
    assert_eq!(code, StatusCode::CREATED, "{sts}");
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
    assert_eq!(
        spec["volumeClaimTemplates"][0]["spec"]["volumeMode"],
        "Filesystem"
    );
    assert_eq!(
        spec["template"]["spec"]["terminationGracePeriodSeconds"],
        30
    );
    assert_eq!(sts["metadata"]["generation"], 1);

    // serviceName may be left out in 1.33.
    let mut headless = stateful_set("cache");
    headless["spec"]
        .as_object_mut()
        .unwrap()
        .remove("serviceName");
    let (code, c) = s.call("POST", STS, Some(headless)).await;
    assert_eq!(code, StatusCode::CREATED, "{c}");
    let (_, list) = s.call("GET", STS, None).await;
    assert_eq!(list["kind"], "StatefulSetList");
    assert_eq!(names(&list), ["cache", "db"]);

    let scale_path = format!("{STS}/db/scale");
    let (code, scale) = s.call("GET", &scale_path, None).await;
    assert_eq!(code, StatusCode::OK, "{scale}");
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 1);
    assert_eq!(scale["status"]["selector"], "app=db");

    let mut put = scale.clone();
    put["spec"]["replicas"] = json!(3);
    let (code, scaled) = s.call("PUT", &scale_path, Some(put)).await;
    assert_eq!(code, StatusCode::OK, "{scaled}");
    assert_eq!(scaled["spec"]["replicas"], 3);
    let (_, got) = s.call("GET", &format!("{STS}/db"), None).await;
    assert_eq!(got["spec"]["replicas"], 3);
    assert_eq!(got["metadata"]["generation"], 2);

    let (code, patched) = s
        .patch(
            &scale_path,
            "application/merge-patch+json",
            r#"{"spec":{"replicas":0}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{patched}");
    assert_eq!(patched["spec"]["replicas"], 0);
    let (code, e) = s
        .patch(
            &scale_path,
            "application/merge-patch+json",
            r#"{"spec":{"replicas":-1}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    // Only some spec fields may change.
    let (code, e) = s
        .patch(
            &format!("{STS}/db"),
            "application/merge-patch+json",
            r#"{"spec":{"serviceName":"other"}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        causes(&e),
        [("spec".to_string(), "FieldValueForbidden".to_string())]
    );
    let (code, ok) = s
        .patch(
            &format!("{STS}/db"),
            "application/strategic-merge-patch+json",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{ok}");
    assert_eq!(ok["metadata"]["generation"], 4);

    let (columns, rows) = table_columns(&s, STS).await;
    assert_eq!(columns, ["Name", "Ready", "Age", "Containers", "Images"]);
    let db = rows.iter().find(|r| r["cells"][0] == "db").unwrap();
    assert_eq!(db["cells"][1], "0/0");
    assert_eq!(db["cells"][4], "busybox:1.36");
}

#[tokio::test]
async fn api_services_are_stored_with_local_availability() {
    let s = Server::start().await;
    let local = json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": "v1.example.com"},
        "spec": {"group": "example.com", "version": "v1", "groupPriorityMinimum": 1000,
                 "versionPriority": 15}});
    let (code, a) = s.call("POST", APISVC, Some(local)).await;
    assert_eq!(code, StatusCode::CREATED, "{a}");
    assert!(a["metadata"].get("namespace").is_none());
    assert!(a["metadata"].get("generation").is_none());
    let cond = &a["status"]["conditions"][0];
    assert_eq!(cond["type"], "Available");
    assert_eq!(cond["status"], "True");
    assert_eq!(cond["reason"], "Local");

    let remote = json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": "v1beta1.metrics.k8s.io"},
        "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100,
                 "versionPriority": 100, "insecureSkipTLSVerify": true,
                 "service": {"namespace": "kube-system", "name": "metrics-server"}}});
    let (code, r) = s.call("POST", APISVC, Some(remote)).await;
    assert_eq!(code, StatusCode::CREATED, "{r}");
    assert_eq!(r["spec"]["service"]["port"], 443);
    // No condition until something checks the service; Go shows the empty
    // status struct.
    assert_eq!(r["status"], json!({}));

    let (code, list) = s.call("GET", APISVC, None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(list["kind"], "APIServiceList");
    let names = names(&list);
    // The user's two, beside the local ones every server registers.
    for name in ["v1.example.com", "v1beta1.metrics.k8s.io", "v1.", "v1.apps"] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }
    let (_, apps) = s.call("GET", &format!("{APISVC}/v1.apps"), None).await;
    assert_eq!(apps["spec"]["groupPriorityMinimum"], 17800);
    assert_eq!(apps["status"]["conditions"][0]["reason"], "Local");

    // The aggregator's controller would report availability through /status.
    let mut st = r.clone();
    st["status"] = json!({"conditions": [{"type": "Available", "status": "False",
        "reason": "MissingEndpoints", "lastTransitionTime": "2025-01-01T00:00:00Z"}]});
    let path = format!("{APISVC}/v1beta1.metrics.k8s.io");
    let (code, st) = s.call("PUT", &format!("{path}/status"), Some(st)).await;
    assert_eq!(code, StatusCode::OK, "{st}");
    let mut upd = st.clone();
    upd["spec"]["versionPriority"] = json!(20);
    let (code, upd) = s.call("PUT", &path, Some(upd)).await;
    assert_eq!(code, StatusCode::OK, "{upd}");
    assert_eq!(upd["spec"]["versionPriority"], 20);
    assert_eq!(upd["status"]["conditions"][0]["reason"], "MissingEndpoints");

    let (columns, rows) = table_columns(&s, APISVC).await;
    assert_eq!(columns, ["Name", "Service", "Available", "Age"]);
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["cells"][0] == name)
            .unwrap_or_else(|| panic!("no row {name}"))["cells"]
            .as_array()
            .unwrap()[1..3]
            .to_vec()
    };
    assert_eq!(row("v1.example.com"), [json!("Local"), json!("True")]);
    assert_eq!(
        row("v1beta1.metrics.k8s.io"),
        [
            json!("kube-system/metrics-server"),
            json!("False (MissingEndpoints)")
        ]
    );

    let bad = json!({"metadata": {"name": "metrics"}, "spec": {"group": "metrics.k8s.io",
        "version": "v1beta1", "groupPriorityMinimum": 0, "versionPriority": 100}});
    let (code, e) = s.call("POST", APISVC, Some(bad)).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        causes(&e),
        [
            ("metadata.name".to_string(), "FieldValueInvalid".to_string()),
            (
                "spec.groupPriorityMinimum".to_string(),
                "FieldValueInvalid".to_string()
            ),
        ]
    );

    let (code, _) = s.call("DELETE", &path, None).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = s.call("GET", &path, None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn discovery_and_openapi_know_the_new_kinds() {
    let s = Server::start().await;
    let (code, groups) = s.call("GET", "/apis", None).await;
    assert_eq!(code, StatusCode::OK);
    let reg = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "apiregistration.k8s.io")
        .expect("apiregistration.k8s.io in the APIGroupList");
    assert_eq!(
        reg["preferredVersion"]["groupVersion"],
        "apiregistration.k8s.io/v1"
    );
    let (code, group) = s.call("GET", "/apis/apiregistration.k8s.io", None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(group["kind"], "APIGroup");

    let (code, list) = s.call("GET", "/apis/apiregistration.k8s.io/v1", None).await;
    assert_eq!(code, StatusCode::OK);
    let resources: Vec<&Value> = list["resources"].as_array().unwrap().iter().collect();
    let apisvc = resources
        .iter()
        .find(|r| r["name"] == "apiservices")
        .unwrap();
    assert_eq!(apisvc["kind"], "APIService");
    assert_eq!(apisvc["namespaced"], false);
    assert_eq!(apisvc["categories"], json!(["api-extensions"]));
    assert!(resources.iter().any(|r| r["name"] == "apiservices/status"));

    let (_, apps) = s.call("GET", "/apis/apps/v1", None).await;
    let find = |name: &str| {
        apps["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(find("daemonsets")["shortNames"], json!(["ds"]));
    assert_eq!(find("daemonsets")["categories"], json!(["all"]));
    assert_eq!(find("statefulsets")["shortNames"], json!(["sts"]));
    assert_eq!(find("statefulsets/scale")["group"], "autoscaling");
    find("daemonsets/status");
    find("statefulsets/status");

    let (code, _, agg) = s
        .call_full(
            "GET",
            "/apis",
            "application/json",
            Some(AGGREGATED),
            Vec::new(),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let agg_group = agg["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "apiregistration.k8s.io")
        .expect("apiregistration.k8s.io in aggregated discovery");
    let res = &agg_group["versions"][0]["resources"][0];
    assert_eq!(res["resource"], "apiservices");
    assert_eq!(res["scope"], "Cluster");
    assert_eq!(res["subresources"][0]["subresource"], "status");

    let (code, index) = s.call("GET", "/openapi/v3", None).await;
    assert_eq!(code, StatusCode::OK);
    let url = index["paths"]["apis/apiregistration.k8s.io/v1"]["serverRelativeURL"]
        .as_str()
        .expect("an OpenAPI document for apiregistration.k8s.io/v1")
        .to_string();
    let (code, doc) = s.call("GET", &url, None).await;
    assert_eq!(code, StatusCode::OK);
    let schema = &doc["components"]["schemas"]["io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService"];
    assert_eq!(
        schema["x-kubernetes-group-version-kind"],
        json!([{"group": "apiregistration.k8s.io", "kind": "APIService", "version": "v1"}])
    );
    assert!(doc["paths"]["/apis/apiregistration.k8s.io/v1/apiservices/{name}/status"].is_object());
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, doc) = s.call("GET", &url, None).await;
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["io.k8s.api.apps.v1.DaemonSet"].is_object());
    assert!(
        schemas["io.k8s.api.apps.v1.StatefulSetSpec"]["properties"]["volumeClaimTemplates"]
            .is_object()
    );
    assert!(
        doc["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/scale"]["put"]
            .is_object()
    );
}

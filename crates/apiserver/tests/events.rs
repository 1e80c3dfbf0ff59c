//! Events through both APIs that serve them: core/v1 and events.k8s.io/v1
//! share one storage prefix, objects are stored as core/v1 Events, and
//! every read, write, watch, selector and Table answers in the form of the
//! API called — whichever API wrote the object, including objects an older
//! build stored in events.k8s.io form.

#![allow(clippy::unwrap_used)]

mod support;

use http::StatusCode;
use ironclad_store::{KeyRange, Op, RangeRequest, Txn};
use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::events::v1::Event as NewEvent;
use serde_json::{Value, json};
use support::{Server, next_event};

const CORE: &str = "/api/v1/namespaces/default/events";
const NEW: &str = "/apis/events.k8s.io/v1/namespaces/default/events";
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

/// An event as kube-rs's `Recorder` writes it.
fn new_event(name: &str, about: &str) -> Value {
    json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "eventTime": "2024-05-01T10:00:00.000000Z",
        "reportingController": "example.com/scaler",
        "reportingInstance": "scaler-0",
        "action": "Scale",
        "reason": "Scaled",
        "type": "Normal",
        "note": "scaled up",
        "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "name": about, "namespace": "default", "uid": "d-1"},
    })
}

/// An event as client-go's legacy recorder (and kubelet) writes it.
fn core_event(name: &str, about: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": about, "namespace": "default", "fieldPath": "spec.containers{app}"},
        "reason": "Pulled",
        "message": "image pulled",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2024-05-01T10:00:00Z",
        "lastTimestamp": "2024-05-01T10:02:00Z",
        "count": 2,
        "type": "Normal",
    })
}

fn assert_core(ev: &Value) {
    assert_eq!(ev["apiVersion"], "v1", "{ev}");
    assert_eq!(ev["kind"], "Event");
    assert!(
        ev.get("regarding").is_none() && ev.get("note").is_none(),
        "{ev}"
    );
    let _: CoreEvent = serde_json::from_value(ev.clone()).unwrap();
}

fn assert_new(ev: &Value) {
    assert_eq!(ev["apiVersion"], "events.k8s.io/v1", "{ev}");
    assert_eq!(ev["kind"], "Event");
    assert!(
        ev.get("involvedObject").is_none() && ev.get("message").is_none(),
        "{ev}"
    );
    let _: NewEvent = serde_json::from_value(ev.clone()).unwrap();
}

fn names(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect()
}

/// The raw stored value of an event.
async fn stored(s: &Server, name: &str) -> Value {
    let key = format!("/registry/core/events/default/{name}");
    let resp = s
        .api
        .state()
        .store
        .range(RangeRequest::new(KeyRange::key(key.into_bytes())))
        .await
        .unwrap();
    serde_json::from_slice(&resp.kvs[0].value).unwrap()
}

#[tokio::test]
async fn created_through_events_k8s_io_read_through_core() {
    let s = Server::start().await;
    let (code, created) = s.call("POST", NEW, Some(new_event("web.1", "web"))).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_new(&created);
    assert_eq!(created["note"], "scaled up");
    assert_eq!(created["regarding"]["name"], "web");

    let raw = stored(&s, "web.1").await;
    assert_eq!(raw["apiVersion"], "v1", "stored in core form: {raw}");
    assert_eq!(raw["involvedObject"]["name"], "web");
    assert_eq!(raw["reportingComponent"], "example.com/scaler");

    let (code, got) = s.call("GET", &format!("{CORE}/web.1"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_core(&got);
    assert_eq!(got["message"], "scaled up");
    assert_eq!(got["involvedObject"]["kind"], "Deployment");
    assert_eq!(got["reportingComponent"], "example.com/scaler");
    assert_eq!(got["reportingInstance"], "scaler-0");
    assert_eq!(got["eventTime"], "2024-05-01T10:00:00.000000Z");
    assert_eq!(
        got["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );

    let (_, again) = s.call("GET", &format!("{NEW}/web.1"), None).await;
    assert_eq!(
        again, created,
        "the events.k8s.io read gives back what was written"
    );

    // Lists from the store and from the watch cache, all namespaces too.
    for path in [
        CORE.to_string(),
        format!("{CORE}?resourceVersion=0"),
        "/api/v1/events".to_string(),
    ] {
        let (code, list) = s.call("GET", &path, None).await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(list["kind"], "EventList");
        assert_eq!(list["apiVersion"], "v1");
        assert_eq!(names(&list), ["web.1"], "{path}");
        assert_core(&list["items"][0]);
    }
    for path in [NEW.to_string(), format!("{NEW}?resourceVersion=0")] {
        let (_, list) = s.call("GET", &path, None).await;
        assert_eq!(list["apiVersion"], "events.k8s.io/v1");
        assert_new(&list["items"][0]);
    }
}

#[tokio::test]
async fn created_through_core_read_through_events_k8s_io() {
    let s = Server::start().await;
    let (code, created) = s
        .call("POST", CORE, Some(core_event("pod.1", "app-0")))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_core(&created);

    let (code, got) = s.call("GET", &format!("{NEW}/pod.1"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_new(&got);
    assert_eq!(got["note"], "image pulled");
    assert_eq!(got["regarding"]["name"], "app-0");
    assert_eq!(got["regarding"]["fieldPath"], "spec.containers{app}");
    assert_eq!(
        got["deprecatedSource"],
        json!({"component": "kubelet", "host": "node-1"})
    );
    assert_eq!(got["deprecatedFirstTimestamp"], "2024-05-01T10:00:00Z");
    assert_eq!(got["deprecatedLastTimestamp"], "2024-05-01T10:02:00Z");
    assert_eq!(got["deprecatedCount"], 2);
    assert_eq!(got["metadata"], created["metadata"]);

    let (_, list) = s.call("GET", NEW, None).await;
    assert_eq!(list["kind"], "EventList");
    assert_new(&list["items"][0]);

    // Metadata-only reads look the same through both APIs.
    let meta = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io";
    let (_, _, p) = s
        .call_full(
            "GET",
            &format!("{NEW}/pod.1"),
            "application/json",
            Some(meta),
            Vec::new(),
        )
        .await;
    assert_eq!(p["kind"], "PartialObjectMetadata");
    assert_eq!(p["metadata"]["name"], "pod.1");
}

#[tokio::test]
async fn field_selectors_work_through_both_apis() {
    let s = Server::start().await;
    s.call("POST", NEW, Some(new_event("web.1", "web"))).await;
    s.call("POST", NEW, Some(new_event("db.1", "db"))).await;
    s.call("POST", CORE, Some(core_event("pod.1", "web"))).await;
    let cases = [
        (CORE, "involvedObject.name=web", vec!["pod.1", "web.1"]),
        (CORE, "involvedObject.name=db", vec!["db.1"]),
        (
            CORE,
            "involvedObject.kind=Deployment",
            vec!["db.1", "web.1"],
        ),
        (
            CORE,
            "reportingComponent=example.com/scaler",
            vec!["db.1", "web.1"],
        ),
        (CORE, "source=kubelet", vec!["pod.1"]),
        (NEW, "regarding.name=web", vec!["pod.1", "web.1"]),
        (
            NEW,
            "regarding.kind=Deployment,regarding.name=db",
            vec!["db.1"],
        ),
        (
            NEW,
            "reportingController=example.com/scaler",
            vec!["db.1", "web.1"],
        ),
        (NEW, "source=example.com/scaler", vec!["db.1", "web.1"]),
        (NEW, "reason=Pulled", vec!["pod.1"]),
    ];
    for (base, selector, want) in cases {
        for rv in ["", "&resourceVersion=0"] {
            let path = format!("{base}?fieldSelector={}{rv}", selector.replace('/', "%2F"));
            let (code, list) = s.call("GET", &path, None).await;
            assert_eq!(code, StatusCode::OK, "{path}: {list}");
            assert_eq!(names(&list), want, "{path}");
        }
    }
    let (code, err) = s
        .call(
            "GET",
            &format!("{NEW}?fieldSelector=involvedObject.name%3Dweb"),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(
        err["message"],
        "field label not supported: involvedObject.name"
    );
}

#[tokio::test]
async fn watches_answer_in_the_form_of_their_api() {
    let s = Server::start().await;
    let mut core = s.watch(&format!("{CORE}?watch=true")).await;
    let mut new = s.watch(&format!("{NEW}?watch=true")).await;
    let mut selected = s
        .watch(&format!(
            "{CORE}?watch=true&fieldSelector=involvedObject.name%3Dweb"
        ))
        .await;
    let (_, created) = s.call("POST", NEW, Some(new_event("web.1", "web"))).await;
    let rv = created["metadata"]["resourceVersion"].as_str().unwrap();

    let ev = next_event(&mut core).await;
    assert_eq!(ev["type"], "ADDED");
    assert_core(&ev["object"]);
    assert_eq!(ev["object"]["message"], "scaled up");
    let ev = next_event(&mut new).await;
    assert_eq!(ev["type"], "ADDED");
    assert_eq!(ev["object"], created);
    let ev = next_event(&mut selected).await;
    assert_eq!(ev["object"]["metadata"]["name"], "web.1");

    // A change through core reaches events.k8s.io watchers converted.
    let (code, patched) = s
        .patch(
            &format!("{CORE}/web.1"),
            "application/merge-patch+json",
            r#"{"message":"scaled up again"}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{patched}");
    let ev = next_event(&mut new).await;
    assert_eq!(ev["type"], "MODIFIED");
    assert_new(&ev["object"]);
    assert_eq!(ev["object"]["note"], "scaled up again");
    let ev = next_event(&mut core).await;
    assert_eq!(ev["object"]["message"], "scaled up again");

    // Watches from a resourceVersion replay the window in their form.
    let mut from_new = s
        .watch(&format!("{NEW}?watch=true&resourceVersion={rv}"))
        .await;
    let ev = next_event(&mut from_new).await;
    assert_eq!(ev["type"], "MODIFIED");
    assert_eq!(ev["object"]["note"], "scaled up again");
    let mut from_core = s
        .watch(&format!("{CORE}?watch=true&resourceVersion={rv}"))
        .await;
    let ev = next_event(&mut from_core).await;
    assert_eq!(ev["object"]["message"], "scaled up again");

    // Initial events of a new watch.
    let mut initial = s.watch(&format!("{NEW}?watch=true")).await;
    assert_new(&next_event(&mut initial).await["object"]);

    let (code, _) = s.call("DELETE", &format!("{NEW}/web.1"), None).await;
    assert_eq!(code, StatusCode::OK);
    for rx in [&mut core, &mut from_core] {
        let ev = next_event(rx).await;
        assert_eq!(ev["type"], "DELETED");
        assert_core(&ev["object"]);
    }
    for rx in [&mut new, &mut from_new, &mut initial] {
        let ev = next_event(rx).await;
        assert_eq!(ev["type"], "DELETED");
        assert_new(&ev["object"]);
    }
}

#[tokio::test]
async fn patches_and_updates_through_one_api_show_in_the_other() {
    let s = Server::start().await;
    s.call("POST", NEW, Some(new_event("web.1", "web"))).await;
    let series =
        |n: u32| format!(r#"{{"count":{n},"lastObservedTime":"2024-05-01T10:0{n}:00.000000Z"}}"#);

    // Merge patch of the series, as kube-rs's Recorder repeats an event.
    let (code, p) = s
        .patch(
            &format!("{NEW}/web.1"),
            "application/merge-patch+json",
            &format!(r#"{{"series":{}}}"#, series(2)),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{p}");
    assert_new(&p);
    assert_eq!(p["series"]["count"], 2);
    let (_, got) = s.call("GET", &format!("{CORE}/web.1"), None).await;
    assert_core(&got);
    assert_eq!(got["series"]["count"], 2);
    assert_eq!(
        got["series"]["lastObservedTime"],
        "2024-05-01T10:02:00.000000Z"
    );

    // Strategic merge patch in the core form (core's rules let the message change).
    let (code, p) = s
        .patch(
            &format!("{CORE}/web.1"),
            "application/strategic-merge-patch+json",
            r#"{"message":"n3","metadata":{"labels":{"a":"b"}}}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{p}");
    assert_core(&p);
    let (_, got) = s.call("GET", &format!("{NEW}/web.1"), None).await;
    assert_eq!(got["note"], "n3");
    assert_eq!(got["metadata"]["labels"]["a"], "b");

    // JSON patch addresses the fields by the API's names.
    let (code, p) = s
        .patch(
            &format!("{NEW}/web.1"),
            "application/json-patch+json",
            r#"[{"op":"test","path":"/note","value":"n3"},{"op":"replace","path":"/series/count","value":3}]"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{p}");
    let (code, p) = s
        .patch(
            &format!("{CORE}/web.1"),
            "application/json-patch+json",
            r#"[{"op":"test","path":"/series/count","value":3}]"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{p}");

    // PUT of what a GET returned, through events.k8s.io; what was reported
    // stays (the events.k8s.io update rules, with that API's names).
    let (_, mut obj) = s.call("GET", &format!("{NEW}/web.1"), None).await;
    obj["series"]["count"] = json!(4);
    let (code, put) = s
        .call("PUT", &format!("{NEW}/web.1"), Some(obj.clone()))
        .await;
    assert_eq!(code, StatusCode::OK, "{put}");
    assert_new(&put);
    let (_, got) = s.call("GET", &format!("{CORE}/web.1"), None).await;
    assert_eq!(got["series"]["count"], 4);
    assert_eq!(
        got["metadata"]["resourceVersion"],
        put["metadata"]["resourceVersion"]
    );
    let (_, same) = s
        .call("PUT", &format!("{NEW}/web.1"), Some(put.clone()))
        .await;
    assert_eq!(
        same["metadata"]["resourceVersion"], put["metadata"]["resourceVersion"],
        "an update that changes nothing stores nothing"
    );
    let mut changed = put.clone();
    changed["note"] = json!("rewritten");
    let (code, err) = s.call("PUT", &format!("{NEW}/web.1"), Some(changed)).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["details"]["causes"][0]["field"], "note");

    // An event written through core (deprecated fields set) takes a series
    // through events.k8s.io.
    s.call("POST", CORE, Some(core_event("pod.1", "app-0")))
        .await;
    let (code, p) = s
        .patch(
            &format!("{NEW}/pod.1"),
            "application/merge-patch+json",
            &format!(r#"{{"series":{}}}"#, series(2)),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{p}");
    assert_eq!(p["deprecatedCount"], 2);
    let (_, got) = s.call("GET", &format!("{CORE}/pod.1"), None).await;
    assert_eq!(got["series"]["count"], 2);
    assert_eq!(got["count"], 2);

    // Server-side apply through events.k8s.io creates and updates.
    let applied = r#"{"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"ssa.1"},
        "eventTime":"2024-05-01T10:00:00.000000Z","reportingController":"example.com/c",
        "reportingInstance":"c-0","action":"Do","reason":"Done","type":"Normal","note":"first",
        "regarding":{"kind":"Pod","name":"p","namespace":"default"}}"#;
    let path = format!("{NEW}/ssa.1?fieldManager=tester");
    let (code, a) = s
        .patch(&path, "application/apply-patch+yaml", applied)
        .await;
    assert_eq!(code, StatusCode::CREATED, "{a}");
    assert_new(&a);
    let again = applied.replace(
        r#""note":"first","#,
        &format!(r#""note":"first","series":{},"#, series(2)),
    );
    let (code, a) = s.patch(&path, "application/apply-patch+yaml", &again).await;
    assert_eq!(code, StatusCode::OK, "{a}");
    assert_eq!(a["series"]["count"], 2);
    let (_, got) = s.call("GET", &format!("{CORE}/ssa.1"), None).await;
    assert_eq!(got["message"], "first");
    assert_eq!(got["series"]["count"], 2);
    assert_eq!(stored(&s, "ssa.1").await["apiVersion"], "v1");

    // Dry runs answer in the API's form too, and store nothing.
    let (code, dry) = s
        .call(
            "POST",
            &format!("{NEW}?dryRun=All"),
            Some(new_event("dry.1", "web")),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{dry}");
    assert_new(&dry);
    let (code, _) = s.call("GET", &format!("{CORE}/dry.1"), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn validation_is_that_of_the_api_called() {
    let s = Server::start().await;
    // events.k8s.io requires reportingController etc. for new events.
    let mut bad = new_event("bad.1", "web");
    bad.as_object_mut().unwrap().remove("reportingController");
    let (code, err) = s.call("POST", NEW, Some(bad)).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["details"]["group"], "events.k8s.io");
    // Core's legacy rules accept an event without eventTime.
    let (code, ok) = s.call("POST", CORE, Some(core_event("ok.1", "p"))).await;
    assert_eq!(code, StatusCode::CREATED, "{ok}");
}

#[tokio::test]
async fn tables_print_events_of_either_api() {
    let s = Server::start().await;
    s.call("POST", NEW, Some(new_event("web.1", "web"))).await;
    s.call("POST", CORE, Some(core_event("pod.1", "app-0")))
        .await;
    for base in [CORE, NEW] {
        let (code, _, t) = s
            .call_full(
                "GET",
                &format!("{base}?includeObject=Object"),
                "application/json",
                Some(TABLE),
                Vec::new(),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{t}");
        assert_eq!(t["kind"], "Table");
        let cols: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            cols,
            [
                "Last Seen",
                "Type",
                "Reason",
                "Object",
                "Subobject",
                "Source",
                "Message",
                "First Seen",
                "Count",
                "Name"
            ]
        );
        let rows = t["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{base}");
        // Rows in key order: pod.1, then web.1.
        let pod = &rows[0]["cells"];
        assert_eq!(pod[1], "Normal");
        assert_eq!(pod[2], "Pulled");
        assert_eq!(pod[3], "pod/app-0");
        assert_eq!(pod[4], "spec.containers{app}");
        assert_eq!(pod[5], "kubelet, node-1");
        assert_eq!(pod[6], "image pulled");
        assert_eq!(pod[8], 2);
        assert_eq!(pod[9], "pod.1");
        let web = &rows[1]["cells"];
        assert_eq!(web[2], "Scaled");
        assert_eq!(web[3], "deployment/web");
        assert_eq!(web[5], "example.com/scaler, scaler-0");
        assert_eq!(web[6], "scaled up");
        assert_eq!(web[8], 1);
        for row in rows {
            if base == CORE {
                assert_core(&row["object"]);
            } else {
                assert_new(&row["object"]);
            }
        }
    }
    // One object as a Table (kubectl get event NAME).
    let (_, _, t) = s
        .call_full(
            "GET",
            &format!("{CORE}/web.1"),
            "application/json",
            Some(TABLE),
            Vec::new(),
        )
        .await;
    assert_eq!(t["rows"][0]["cells"][3], "deployment/web");
}

#[tokio::test]
async fn events_stored_in_the_new_form_by_older_builds_read_in_both() {
    let s = Server::start().await;
    let mut old = new_event("old.1", "web");
    old["metadata"]["uid"] = json!("u-old");
    old["metadata"]["creationTimestamp"] = json!("2024-05-01T10:00:00Z");
    let txn = Txn::new().and_then([Op::put(
        "/registry/core/events/default/old.1".as_bytes().to_vec(),
        serde_json::to_vec(&old).unwrap(),
    )]);
    s.api.state().store.txn(txn).await.unwrap();

    let (code, got) = s.call("GET", &format!("{CORE}/old.1"), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_core(&got);
    assert_eq!(got["message"], "scaled up");
    let (_, got) = s.call("GET", &format!("{NEW}/old.1"), None).await;
    assert_new(&got);
    assert_eq!(got["note"], "scaled up");
    for path in [CORE.to_string(), format!("{CORE}?resourceVersion=0")] {
        let (_, list) = s.call("GET", &path, None).await;
        assert_core(&list["items"][0]);
    }
    let (_, list) = s
        .call(
            "GET",
            &format!("{CORE}?fieldSelector=involvedObject.name%3Dweb"),
            None,
        )
        .await;
    assert_eq!(names(&list), ["old.1"]);

    // The next write stores it in core form.
    let (code, p) = s
        .patch(
            &format!("{CORE}/old.1"),
            "application/merge-patch+json",
            r#"{"message":"rewritten"}"#,
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{p}");
    let raw = stored(&s, "old.1").await;
    assert_eq!(raw["apiVersion"], "v1");
    assert_eq!(raw["message"], "rewritten");
    assert!(raw.get("note").is_none());
}

#[tokio::test]
async fn deletes_answer_in_the_form_of_their_api() {
    let s = Server::start().await;
    s.call("POST", CORE, Some(core_event("a.1", "p"))).await;
    s.call("POST", CORE, Some(core_event("b.1", "p"))).await;
    let (code, st) = s.call("DELETE", &format!("{NEW}/a.1"), None).await;
    assert_eq!(code, StatusCode::OK, "{st}");
    assert_eq!(st["kind"], "Status");
    assert_eq!(st["details"]["group"], "events.k8s.io");
    let (code, list) = s.call("DELETE", NEW, None).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["apiVersion"], "events.k8s.io/v1");
    assert_eq!(names(&list), ["b.1"]);
    assert_new(&list["items"][0]);
    let (_, left) = s.call("GET", CORE, None).await;
    assert!(names(&left).is_empty());
}

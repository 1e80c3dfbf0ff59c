//! Building events from requests at each level, and their JSON.

use chrono::{DateTime, TimeZone, Utc};
use ironclad_auth::attributes::Attributes;
use ironclad_auth::user::UserInfo;
use serde_json::{Value, json};

use super::*;

fn at(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(1_700_000_000_000_000 + micros)
        .single()
        .unwrap()
}

fn attrs() -> Attributes {
    let mut user = UserInfo::authenticated("alice", &["devs"]);
    user.uid = "u-1".into();
    user.extra.insert("scopes".into(), vec!["a".into()]);
    let mut a = Attributes::resource(user, "create", "apps", "deployments", "default", "");
    a.api_version = "v1".into();
    a
}

fn record(level: Level, omit_managed_fields: bool) -> Option<RequestAudit> {
    let attrs = attrs();
    let config = RequestAuditConfig {
        level,
        omit_stages: vec![],
        omit_managed_fields,
    };
    RequestAudit::with_config(
        config,
        AuditRequest {
            attributes: &attrs,
            audit_id: "0b4e0f5c-1111-2222-3333-444455556666",
            request_uri: "/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl-client-side-apply",
            source_ips: vec!["10.0.0.1".into()],
            user_agent: "kubectl/v1.33.0 (linux/amd64) kubernetes/abc",
            received: at(0),
        },
    )
}

const REQUEST: &str = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","uid":"x-1","resourceVersion":"7","managedFields":[{"manager":"kubectl"}]},"spec":{"replicas":2}}"#;
const RESPONSE: &str = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","uid":"d-9","managedFields":[{"manager":"kubectl"}]},"spec":{"replicas":2}}"#;

fn complete(level: Level, omit_managed_fields: bool) -> AuditEvent {
    let mut r = record(level, omit_managed_fields).unwrap();
    r.set_authorization(true, r#"RBAC: allowed by ClusterRoleBinding "admins""#);
    r.set_request_body(REQUEST.as_bytes());
    r.set_response(201, Some(RESPONSE.as_bytes()));
    r.event(Stage::ResponseComplete, at(1234)).unwrap()
}

#[test]
fn none_records_nothing() {
    assert!(record(Level::None, false).is_none());
    let policy =
        AuditPolicy::from_yaml("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None}]")
            .unwrap();
    let a = attrs();
    let request = AuditRequest {
        attributes: &a,
        audit_id: "id",
        request_uri: "/",
        source_ips: vec![],
        user_agent: "",
        received: at(0),
    };
    assert!(RequestAudit::new(&policy, request.clone()).is_none());
    let r = RequestAudit::new(&AuditPolicy::default_metadata(), request).unwrap();
    assert_eq!(r.level(), Level::Metadata);
}

#[test]
fn levels_decide_the_bodies() {
    let metadata = complete(Level::Metadata, false);
    assert_eq!(metadata.request_object, None);
    assert_eq!(metadata.response_object, None);
    // The request body's metadata completes the object reference anyway.
    let object_ref = metadata.object_ref.as_ref().unwrap();
    assert_eq!(object_ref.name, "web");
    assert_eq!(object_ref.uid, "x-1");
    assert_eq!(object_ref.resource_version, "7");
    assert_eq!(object_ref.namespace, "default");
    assert_eq!(metadata.response_status, Some(ResponseStatus::code(201)));

    let request = complete(Level::Request, false);
    assert_eq!(
        request.request_object,
        Some(serde_json::from_str::<Value>(REQUEST).unwrap())
    );
    assert_eq!(request.response_object, None);

    let both = complete(Level::RequestResponse, false);
    assert!(both.request_object.is_some());
    assert_eq!(
        both.response_object,
        Some(serde_json::from_str::<Value>(RESPONSE).unwrap())
    );

    let stripped = complete(Level::RequestResponse, true);
    let req = stripped.request_object.unwrap();
    let resp = stripped.response_object.unwrap();
    assert!(req["metadata"].get("managedFields").is_none());
    assert!(resp["metadata"].get("managedFields").is_none());
    assert_eq!(req["spec"]["replicas"], 2);
    assert_eq!(resp["metadata"]["uid"], "d-9");
}

#[test]
fn failures_record_the_status() {
    let mut r = record(Level::RequestResponse, false).unwrap();
    r.set_authorization(false, "");
    let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "deployments.apps \"web\" already exists", "reason": "AlreadyExists",
        "details": {"name": "web", "group": "apps", "kind": "deployments"}, "code": 409});
    r.set_response_object(409, Some(status.clone()));
    let e = r.event(Stage::ResponseComplete, at(5)).unwrap();
    let s = e.response_status.as_ref().unwrap();
    assert_eq!(
        (s.code, s.status.as_str(), s.reason.as_str()),
        (409, "Failure", "AlreadyExists")
    );
    assert_eq!(s.message, "deployments.apps \"web\" already exists");
    assert_eq!(s.details.as_ref().unwrap()["name"], "web");
    assert_eq!(e.response_object, Some(status));
    assert_eq!(
        e.annotations.get(DECISION_ANNOTATION).map(String::as_str),
        Some("forbid")
    );
    assert!(!e.annotations.contains_key(REASON_ANNOTATION));
    let mut p = record(Level::Metadata, false).unwrap();
    p.set_panic("boom");
    let s = p
        .event(Stage::Panic, at(9))
        .unwrap()
        .response_status
        .unwrap();
    assert_eq!((s.code, s.reason.as_str()), (500, "InternalError"));
    assert_eq!(s.message, "APIServer panic'd: boom");
}

#[test]
fn stages_and_annotations() {
    let attrs = attrs();
    let config = RequestAuditConfig {
        level: Level::Metadata,
        omit_stages: vec![Stage::RequestReceived],
        omit_managed_fields: false,
    };
    let mut r = RequestAudit::with_config(
        config,
        AuditRequest {
            attributes: &attrs,
            audit_id: "id",
            request_uri: "/x",
            source_ips: vec![],
            user_agent: &"k".repeat(2000),
            received: at(0),
        },
    )
    .unwrap();
    assert!(r.event(Stage::RequestReceived, at(1)).is_none());
    r.add_annotation("mutation.webhook.admission.k8s.io/round_0_index_0", "{}");
    r.add_annotation(
        "mutation.webhook.admission.k8s.io/round_0_index_0",
        "ignored",
    );
    r.set_impersonated_user(&UserInfo::authenticated("bob", &[]));
    let e = r.event(Stage::ResponseStarted, at(2)).unwrap();
    assert_eq!(e.stage, Stage::ResponseStarted);
    assert_eq!(e.stage_timestamp, at(2));
    assert_eq!(e.request_received_timestamp, at(0));
    assert_eq!(
        e.annotations["mutation.webhook.admission.k8s.io/round_0_index_0"],
        "{}"
    );
    assert_eq!(e.impersonated_user.unwrap().username, "bob");
    assert_eq!(e.user_agent.len(), 1024 + "...TRUNCATED".len());
    assert!(e.user_agent.ends_with("...TRUNCATED"));
    assert_eq!(e.response_status, None);
}

#[test]
fn json_shape_matches_upstream() {
    let event = complete(Level::Request, false);
    let line = serde_json::to_string(&event).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "kind",
        "apiVersion",
        "level",
        "auditID",
        "stage",
        "requestURI",
        "verb",
        "user",
        "sourceIPs",
        "userAgent",
        "objectRef",
        "responseStatus",
        "requestObject",
        "requestReceivedTimestamp",
        "stageTimestamp",
        "annotations",
    ];
    let mut got = keys.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    // serde_json keeps upstream's field order.
    assert!(line.starts_with(r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"0b4e0f5c-1111-2222-3333-444455556666","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl-client-side-apply","verb":"create","user":{"username":"alice","uid":"u-1","groups":["devs","system:authenticated"],"extra":{"scopes":["a"]}},"sourceIPs":["10.0.0.1"],"userAgent":"kubectl/v1.33.0 (linux/amd64) kubernetes/abc","objectRef":{"resource":"deployments","namespace":"default","name":"web","uid":"x-1","apiGroup":"apps","apiVersion":"v1","resourceVersion":"7"},"responseStatus":{"metadata":{},"code":201},"requestObject":"#), "{line}");
    assert_eq!(v["requestReceivedTimestamp"], "2023-11-14T22:13:20.000000Z");
    assert_eq!(v["stageTimestamp"], "2023-11-14T22:13:20.001234Z");
    assert_eq!(v["annotations"]["authorization.k8s.io/decision"], "allow");
    assert_eq!(
        v["annotations"]["authorization.k8s.io/reason"],
        r#"RBAC: allowed by ClusterRoleBinding "admins""#
    );
    // And it reads back.
    let back: AuditEvent = serde_json::from_str(&line).unwrap();
    assert_eq!(back, event);
    // A non-resource request has no objectRef; empty fields are omitted.
    let a = Attributes::non_resource(UserInfo::anonymous(), "get", "/healthz");
    let r = RequestAudit::new(
        &AuditPolicy::default_metadata(),
        AuditRequest {
            attributes: &a,
            audit_id: "id",
            request_uri: "/healthz",
            source_ips: vec![],
            user_agent: "",
            received: at(0),
        },
    )
    .unwrap();
    let v = serde_json::to_value(r.event(Stage::RequestReceived, at(0)).unwrap()).unwrap();
    for absent in [
        "objectRef",
        "sourceIPs",
        "userAgent",
        "responseStatus",
        "annotations",
        "requestObject",
        "impersonatedUser",
    ] {
        assert!(v.get(absent).is_none(), "{absent} in {v}");
    }
    assert_eq!(
        v["user"],
        json!({"username": "system:anonymous", "groups": ["system:unauthenticated"]})
    );
    assert_eq!(v["stage"], "RequestReceived");
    assert_eq!(format_timestamp(&at(7)), "2023-11-14T22:13:20.000007Z");
}

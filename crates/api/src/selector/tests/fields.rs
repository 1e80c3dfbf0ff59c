use serde_json::{Value, json};

use crate::registry::{ResourceInfo, lookup};
use crate::selector::{FieldSelector, SelectorError, field_value, supported_fields};

fn info(group: &str, plural: &str) -> &'static ResourceInfo {
    lookup(group, "v1", plural).unwrap()
}

fn parse_err(s: &str) -> String {
    FieldSelector::parse(s).unwrap_err().to_string()
}

fn matches(info: &ResourceInfo, selector: &str, obj: &Value) -> bool {
    let s = FieldSelector::parse(selector).unwrap();
    s.check_supported(info).unwrap();
    s.matches(info, obj)
}

fn unsupported(info: &ResourceInfo, selector: &str) -> String {
    let err = FieldSelector::parse(selector)
        .unwrap()
        .check_supported(info)
        .unwrap_err();
    assert!(matches!(err, SelectorError::UnsupportedField { .. }));
    err.to_string()
}

#[test]
fn terms_parse_with_each_operator_and_sort() {
    let s = FieldSelector::parse("spec.nodeName!=,metadata.name==foo,b=2").unwrap();
    let terms: Vec<(&str, &str, bool)> = s
        .terms()
        .iter()
        .map(|t| (t.field.as_str(), t.value.as_str(), t.negated))
        .collect();
    assert_eq!(
        terms,
        [
            ("b", "2", false),
            ("metadata.name", "foo", false),
            ("spec.nodeName", "", true)
        ]
    );
    assert_eq!(s.to_string(), "b=2,metadata.name=foo,spec.nodeName!=");
    assert!(FieldSelector::parse("").unwrap().is_empty());
    assert!(FieldSelector::parse(",,").unwrap().is_empty());
    // No trimming: the space belongs to the field name, as upstream.
    assert_eq!(FieldSelector::parse("a =b").unwrap().terms()[0].field, "a ");
    assert_eq!(FieldSelector::parse("=x").unwrap().terms()[0].field, "");
}

#[test]
fn escaping_round_trips() {
    let s = FieldSelector::parse(r"a=x\,y\=z\\w,b=c\,d").unwrap();
    assert_eq!(s.terms()[0].value, r"x,y=z\w");
    assert_eq!(s.terms()[1].value, "c,d");
    assert_eq!(s.to_string(), r"a=x\,y\=z\\w,b=c\,d");
    assert_eq!(FieldSelector::parse(&s.to_string()).unwrap(), s);
    assert_eq!(crate::selector::escape_value(r"a\b,c=d"), r"a\\b\,c\=d");
}

#[test]
fn parse_errors_are_upstreams() {
    assert_eq!(
        parse_err("abc"),
        "invalid selector: 'abc'; can't understand 'abc'"
    );
    assert_eq!(
        parse_err("a=b,c"),
        "invalid selector: 'a=b,c'; can't understand 'c'"
    );
    assert_eq!(
        parse_err(r"a=b\x"),
        r"invalid field selector: invalid escape sequence: \x"
    );
    assert_eq!(
        parse_err(r"a=b\"),
        r"invalid field selector: invalid escape sequence: \"
    );
    assert_eq!(
        parse_err("a=b=c"),
        "invalid field selector: unescaped character in value: 61"
    );
    assert_eq!(
        parse_err("a!=b,c=d!=e"),
        "invalid field selector: unescaped character in value: 61"
    );
}

#[test]
fn exact_name_and_namespace() {
    let s = FieldSelector::parse("metadata.namespace=ns,metadata.name=foo").unwrap();
    assert_eq!(s.exact_name(), Some("foo"));
    assert_eq!(s.exact_namespace(), Some("ns"));
    let s = FieldSelector::parse("metadata.name!=foo").unwrap();
    assert_eq!(s.exact_name(), None);
    assert_eq!(s.exact_namespace(), None);
    assert_eq!(FieldSelector::default().exact_name(), None);
}

#[test]
fn pods_select_on_upstreams_fields() {
    let pods = info("", "pods");
    assert_eq!(
        supported_fields(pods),
        [
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ]
    );
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "default"},
        "spec": {
            "nodeName": "node-a", "restartPolicy": "Always",
            "schedulerName": "default-scheduler", "serviceAccountName": "builder",
            "hostNetwork": true,
        },
        "status": {
            "phase": "Running", "podIP": "10.0.0.5",
            "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}],
            "nominatedNodeName": "node-b",
        },
    });
    let expected = [
        ("metadata.name", "web-1"),
        ("metadata.namespace", "default"),
        ("spec.nodeName", "node-a"),
        ("spec.host", "node-a"),
        ("spec.restartPolicy", "Always"),
        ("spec.schedulerName", "default-scheduler"),
        ("spec.serviceAccountName", "builder"),
        ("spec.hostNetwork", "true"),
        ("status.phase", "Running"),
        ("status.podIP", "10.0.0.5"),
        // Accepted, but upstream's field set never renders it.
        ("status.podIPs", ""),
        ("status.nominatedNodeName", "node-b"),
    ];
    for (field, value) in expected {
        assert_eq!(
            field_value(pods, &pod, field).as_deref(),
            Some(value),
            "{field}"
        );
    }
    assert_eq!(field_value(pods, &pod, "spec.nothing"), None);
    let bare = json!({"metadata": {"name": "p"}, "status": {"podIP": "10.1.1.1"}});
    assert_eq!(
        field_value(pods, &bare, "spec.hostNetwork").unwrap(),
        "false"
    );
    assert_eq!(field_value(pods, &bare, "spec.nodeName").unwrap(), "");
    assert_eq!(
        field_value(pods, &bare, "status.podIP").unwrap(),
        "10.1.1.1"
    );
    let legacy = json!({"spec": {"serviceAccount": "old"}});
    assert_eq!(
        field_value(pods, &legacy, "spec.serviceAccountName").unwrap(),
        "old"
    );

    assert!(matches(
        pods,
        "spec.nodeName=node-a,status.phase=Running",
        &pod
    ));
    assert!(matches(pods, "spec.host=node-a", &pod));
    assert!(matches(pods, "status.phase!=Pending", &pod));
    assert!(!matches(pods, "status.phase!=Running", &pod));
    assert!(!matches(pods, "status.podIPs=10.0.0.5", &pod));
    assert!(matches(pods, "status.podIPs=", &pod));
    assert!(matches(pods, "spec.nodeName=", &bare));
    assert!(!matches(pods, "metadata.name=web-2", &pod));
    assert_eq!(
        unsupported(pods, "spec.nothing=x"),
        "field label not supported: spec.nothing"
    );
    assert_eq!(
        unsupported(pods, "status.phase=Running,spec.nothing=x"),
        "field label not supported: spec.nothing"
    );
}

#[test]
fn cluster_scoped_core_kinds() {
    let nodes = info("", "nodes");
    assert_eq!(
        supported_fields(nodes),
        ["metadata.name", "spec.unschedulable"]
    );
    assert_eq!(
        unsupported(nodes, "metadata.namespace=x"),
        "field label not supported: metadata.namespace"
    );
    let node = json!({"metadata": {"name": "n1"}, "spec": {"unschedulable": true}});
    assert!(matches(
        nodes,
        "spec.unschedulable=true,metadata.name=n1",
        &node
    ));
    assert!(matches(
        nodes,
        "spec.unschedulable=false",
        &json!({"metadata": {"name": "n2"}})
    ));

    let namespaces = info("", "namespaces");
    assert_eq!(
        supported_fields(namespaces),
        ["status.phase", "metadata.name"]
    );
    let ns = json!({"metadata": {"name": "kube-system"}, "status": {"phase": "Active"}});
    assert!(matches(namespaces, "status.phase=Active", &ns));
    assert!(matches(namespaces, "status.phase!=Terminating", &ns));
    assert_eq!(
        unsupported(namespaces, "metadata.namespace=x"),
        "field label not supported: metadata.namespace"
    );
}

#[test]
fn namespaced_core_kinds() {
    let secrets = info("", "secrets");
    let secret = json!({"metadata": {"name": "s", "namespace": "a"}, "type": "Opaque"});
    assert!(matches(
        secrets,
        "type=Opaque,metadata.namespace=a",
        &secret
    ));
    assert!(!matches(secrets, "type=kubernetes.io/tls", &secret));
    assert_eq!(
        unsupported(secrets, "data=x"),
        "field label not supported: data"
    );

    let services = info("", "services");
    let svc =
        json!({"metadata": {"name": "web"}, "spec": {"clusterIP": "None", "type": "ClusterIP"}});
    assert!(matches(
        services,
        "spec.clusterIP=None,spec.type=ClusterIP",
        &svc
    ));
    assert!(!matches(services, "spec.type=NodePort", &svc));
    assert_eq!(
        unsupported(services, "spec.ports=80"),
        "field label not supported: spec.ports"
    );

    let rcs = info("", "replicationcontrollers");
    let rc = json!({"metadata": {"name": "rc"}, "status": {"replicas": 3}});
    assert!(matches(rcs, "status.replicas=3", &rc));
    assert!(matches(
        rcs,
        "status.replicas=0",
        &json!({"metadata": {"name": "rc"}})
    ));
}

#[test]
fn kinds_without_a_conversion_accept_only_name_and_namespace() {
    let generic_message = "is not a known field selector: only \"metadata.name\", \
                           \"metadata.namespace\"";
    let rs = info("apps", "replicasets");
    assert_eq!(
        supported_fields(rs),
        ["metadata.name", "metadata.namespace"]
    );
    assert_eq!(
        unsupported(rs, "status.replicas=0"),
        format!("\"status.replicas\" {generic_message}")
    );
    let cm = info("", "configmaps");
    assert!(unsupported(cm, "data.x=1").ends_with(generic_message));
    let obj = json!({"metadata": {"name": "c", "namespace": "ns"}});
    assert!(matches(cm, "metadata.name=c,metadata.namespace=ns", &obj));
    assert!(!matches(cm, "metadata.namespace=other", &obj));

    // Cluster-scoped: accepted, and the namespace always reads "".
    let cr = lookup("rbac.authorization.k8s.io", "v1", "clusterroles").unwrap();
    assert!(matches(cr, "metadata.namespace=", &obj));
    assert!(!matches(cr, "metadata.namespace=ns", &obj));
}

#[test]
fn jobs_have_their_own_rejection() {
    let jobs = info("batch", "jobs");
    let job = json!({"metadata": {"name": "j"}, "status": {"succeeded": 2}});
    assert!(matches(jobs, "status.successful=2", &job));
    assert_eq!(
        field_value(jobs, &json!({}), "status.successful").unwrap(),
        "0"
    );
    assert_eq!(
        unsupported(jobs, "status.succeeded=1"),
        "field label \"status.succeeded\" not supported for batchv1.Job"
    );
}

fn core_event() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web.1", "namespace": "default"},
        "involvedObject": {
            "kind": "Pod", "namespace": "default", "name": "web", "uid": "u-1",
            "apiVersion": "v1", "resourceVersion": "42", "fieldPath": "spec.containers{app}",
        },
        "reason": "Pulled", "type": "Normal",
        "source": {"component": "kubelet", "host": "node-a"},
        "reportingComponent": "kubelet-rc",
    })
}

#[test]
fn core_events_select_on_the_involved_object() {
    let events = info("", "events");
    let ev = core_event();
    let expected = [
        ("involvedObject.kind", "Pod"),
        ("involvedObject.namespace", "default"),
        ("involvedObject.name", "web"),
        ("involvedObject.uid", "u-1"),
        ("involvedObject.apiVersion", "v1"),
        ("involvedObject.resourceVersion", "42"),
        ("involvedObject.fieldPath", "spec.containers{app}"),
        ("reason", "Pulled"),
        ("reportingComponent", "kubelet-rc"),
        ("source", "kubelet"),
        ("type", "Normal"),
        ("metadata.namespace", "default"),
        ("metadata.name", "web.1"),
    ];
    for (field, value) in expected {
        assert_eq!(
            field_value(events, &ev, field).as_deref(),
            Some(value),
            "{field}"
        );
    }
    assert_eq!(supported_fields(events).len(), expected.len());
    // source falls back to the reporting controller.
    let mut no_source = ev.clone();
    no_source["source"] = json!({});
    assert_eq!(
        field_value(events, &no_source, "source").unwrap(),
        "kubelet-rc"
    );
    assert!(matches(events, "involvedObject.name=web,type=Normal", &ev));
    assert_eq!(
        unsupported(events, "regarding.name=web"),
        "field label not supported: regarding.name"
    );
}

#[test]
fn events_k8s_io_maps_regarding_and_reporting_controller() {
    let events = info("events.k8s.io", "events");
    let fields = supported_fields(events);
    assert!(fields.contains(&"regarding.name") && fields.contains(&"reportingController"));
    // The same stored core-shaped object, selected through events.k8s.io.
    let ev = core_event();
    assert!(matches(
        events,
        "regarding.kind=Pod,regarding.name=web",
        &ev
    ));
    assert!(matches(
        events,
        "reportingController=kubelet-rc,source=kubelet",
        &ev
    ));
    assert_eq!(
        unsupported(events, "involvedObject.name=web"),
        "field label not supported: involvedObject.name"
    );
    // An object written in the events.k8s.io shape.
    let new = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "e", "namespace": "ns"},
        "regarding": {"kind": "Node", "name": "n1", "fieldPath": ""},
        "reportingController": "ctrl", "reason": "Ready", "type": "Normal",
        "deprecatedSource": {"component": "old"},
    });
    assert!(matches(
        events,
        "regarding.kind=Node,regarding.name=n1,reason=Ready",
        &new
    ));
    assert!(matches(events, "reportingController=ctrl,source=old", &new));
    let core = info("", "events");
    assert!(matches(
        core,
        "involvedObject.kind=Node,reportingComponent=ctrl",
        &new
    ));
}

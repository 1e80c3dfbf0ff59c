use serde_json::{Value, json};

use crate::tests::{ago, cells, column_names, info, wide_columns};

fn svc(spec: Value, status: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(45 * 86400)},
        "spec": spec,
        "status": status,
    })
}

#[test]
fn services() {
    let s = info("", "services");
    assert_eq!(
        column_names(s),
        [
            "Name",
            "Type",
            "Cluster-IP",
            "External-IP",
            "Port(s)",
            "Age",
            "Selector"
        ]
    );
    assert_eq!(wide_columns(s), ["Selector"]);
    let cluster_ip = svc(
        json!({
            "type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080},
                      {"port": 53, "protocol": "UDP"}],
            "selector": {"app": "web", "tier": "front"},
        }),
        json!({}),
    );
    assert_eq!(
        cells(s, cluster_ip),
        [
            json!("web"),
            json!("ClusterIP"),
            json!("10.96.0.10"),
            json!("<none>"),
            json!("80/TCP,53/UDP"),
            json!("45d"),
            json!("app=web,tier=front"),
        ]
    );
    let node_port = svc(
        json!({"type": "NodePort", "clusterIP": "10.96.1.1", "externalIPs": ["1.2.3.4"],
               "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}),
        json!({}),
    );
    let c = cells(s, node_port);
    assert_eq!(
        c[1..5],
        [
            json!("NodePort"),
            json!("10.96.1.1"),
            json!("1.2.3.4"),
            json!("80:30080/TCP")
        ]
    );
    assert_eq!(c[6], "<none>");

    let lb =
        |status: Value, external: Value| {
            cells(
            s,
            svc(json!({"type": "LoadBalancer", "clusterIPs": ["10.96.2.2"], "externalIPs": external,
                       "ports": [{"port": 443, "nodePort": 31443}]}), status),
        )[3]
        .clone()
        };
    assert_eq!(lb(json!({}), json!([])), "<pending>");
    let ingress = json!({"loadBalancer": {"ingress": [
        {"ip": "203.0.113.9"}, {"ip": "198.51.100.4"}, {"hostname": "lb.example.com"}, {"ip": "203.0.113.9"}]}});
    assert_eq!(
        lb(ingress.clone(), json!([])),
        "198.51.100.4,203.0.113.9,lb.example.com"
    );
    assert_eq!(
        lb(ingress, json!(["192.0.2.1"])),
        "198.51.100.4,203.0.113.9,lb.example.com,192.0.2.1"
    );
    assert_eq!(lb(json!({}), json!(["192.0.2.1"])), "192.0.2.1");

    let external = svc(
        json!({"type": "ExternalName", "externalName": "db.example.com"}),
        json!({}),
    );
    let c = cells(s, external);
    assert_eq!(
        c[1..5],
        [
            json!("ExternalName"),
            json!("<none>"),
            json!("db.example.com"),
            json!("<none>")
        ]
    );
    let headless = svc(
        json!({"clusterIP": "None", "ports": [{"port": 5432}]}),
        json!({}),
    );
    let c = cells(s, headless);
    // Type and protocol read as upstream's defaults when omitted.
    assert_eq!(
        c[1..5],
        [
            json!("ClusterIP"),
            json!("None"),
            json!("<none>"),
            json!("5432/TCP")
        ]
    );
    let odd = svc(json!({"type": "Weird"}), json!({}));
    assert_eq!(cells(s, odd)[3], "<unknown>");
}

#[test]
fn endpoints() {
    let e = info("", "endpoints");
    assert_eq!(column_names(e), ["Name", "Endpoints", "Age"]);
    let ep = |subsets: Value| {
        cells(
            e,
            json!({"metadata": {"name": "web", "creationTimestamp": ago(60)}, "subsets": subsets}),
        )
    };
    assert_eq!(
        ep(
            json!([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 8080}]}])
        ),
        [
            json!("web"),
            json!("10.0.0.1:8080,10.0.0.2:8080"),
            json!("60s")
        ]
    );
    assert_eq!(
        ep(
            json!([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                   "ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}])
        )[1],
        "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..."
    );
    assert_eq!(
        ep(json!([{"addresses": [{"ip": "10.0.0.5"}]}]))[1],
        "10.0.0.5"
    );
    assert_eq!(
        ep(json!([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}]))[1],
        "[fd00::1]:80"
    );
    assert_eq!(ep(json!([]))[1], "<none>");
    assert_eq!(
        ep(json!([{"notReadyAddresses": [{"ip": "10.0.0.9"}], "ports": [{"port": 80}]}]))[1],
        ""
    );
}

#[test]
fn nodes() {
    let n = info("", "nodes");
    assert_eq!(
        column_names(n),
        [
            "Name",
            "Status",
            "Roles",
            "Age",
            "Version",
            "Internal-IP",
            "External-IP",
            "OS-Image",
            "Kernel-Version",
            "Container-Runtime"
        ]
    );
    let node = json!({
        "metadata": {"name": "cp-1", "creationTimestamp": ago(2 * 86400 + 5 * 3600), "labels": {
            "node-role.kubernetes.io/control-plane": "",
            "node-role.kubernetes.io/": "",
            "kubernetes.io/role": "worker",
            "kubernetes.io/hostname": "cp-1",
        }},
        "spec": {"unschedulable": true},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "Hostname", "address": "cp-1"}, {"type": "InternalIP", "address": "192.168.1.10"}],
            "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "kernelVersion": "6.1.0-18-amd64", "containerRuntimeVersion": "containerd://1.7.13"},
        },
    });
    assert_eq!(
        cells(n, node),
        [
            json!("cp-1"),
            json!("Ready,SchedulingDisabled"),
            json!("control-plane,worker"),
            json!("2d5h"),
            json!("v1.33.1"),
            json!("192.168.1.10"),
            json!("<none>"),
            json!("Debian GNU/Linux 12 (bookworm)"),
            json!("6.1.0-18-amd64"),
            json!("containerd://1.7.13"),
        ]
    );
    let not_ready = json!({"metadata": {"name": "w"}, "status": {"conditions": [
        {"type": "Ready", "status": "Unknown"}]}});
    let c = cells(n, not_ready);
    assert_eq!(c[1..3], [json!("NotReady"), json!("<none>")]);
    assert_eq!(
        c[7..],
        [json!("<unknown>"), json!("<unknown>"), json!("<unknown>")]
    );
    assert_eq!(cells(n, json!({}))[1], "Unknown");
}

#[test]
fn namespaces_config_maps_secrets_and_service_accounts() {
    let ns = info("", "namespaces");
    assert_eq!(column_names(ns), ["Name", "Status", "Age"]);
    let obj = json!({"metadata": {"name": "kube-system", "creationTimestamp": ago(30)},
                     "status": {"phase": "Active"}});
    assert_eq!(
        cells(ns, obj),
        [json!("kube-system"), json!("Active"), json!("30s")]
    );

    let cm = info("", "configmaps");
    assert_eq!(column_names(cm), ["Name", "Data", "Age"]);
    let obj = json!({"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
    assert_eq!(cells(cm, obj)[1], 3);

    let secrets = info("", "secrets");
    assert_eq!(column_names(secrets), ["Name", "Type", "Data", "Age"]);
    let obj = json!({"metadata": {"name": "tls", "creationTimestamp": ago(3600)},
                     "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""},
                     "stringData": {"tls.key": "k", "ca.crt": "c"}});
    assert_eq!(
        cells(secrets, obj),
        [
            json!("tls"),
            json!("kubernetes.io/tls"),
            json!(3),
            json!("60m")
        ]
    );

    let sa = info("", "serviceaccounts");
    assert_eq!(column_names(sa), ["Name", "Secrets", "Age"]);
    let obj = json!({"metadata": {"name": "default"}, "secrets": [{"name": "default-token"}]});
    assert_eq!(cells(sa, obj)[1], 1);
    assert_eq!(cells(sa, json!({"metadata": {"name": "b"}}))[1], 0);
}

#[test]
fn resource_quotas() {
    let q = info("", "resourcequotas");
    assert_eq!(column_names(q), ["Name", "Request", "Limit", "Age"]);
    let obj = json!({
        "metadata": {"name": "compute", "creationTimestamp": ago(120)},
        "status": {
            "hard": {"pods": "10", "requests.cpu": "1", "limits.memory": "2Gi", "limits.cpu": "2"},
            "used": {"pods": "3", "requests.cpu": "500m", "limits.cpu": "1"},
        },
    });
    assert_eq!(
        cells(q, obj),
        [
            json!("compute"),
            json!("pods: 3/10, requests.cpu: 500m/1"),
            json!("limits.cpu: 1/2, limits.memory: 0/2Gi"),
            json!("2m"),
        ]
    );
    assert_eq!(cells(q, json!({}))[1..3], [json!(""), json!("")]);
}

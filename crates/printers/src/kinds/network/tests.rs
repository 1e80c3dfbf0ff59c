use serde_json::json;

use crate::tests::{ago, cells, column_names, info};

#[test]
fn ingresses() {
    let i = info("networking.k8s.io", "ingresses");
    assert_eq!(
        column_names(i),
        ["Name", "Class", "Hosts", "Address", "Ports", "Age"]
    );
    let ing = json!({
        "metadata": {"name": "web", "creationTimestamp": ago(600)},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}],
            "tls": [{"hosts": ["a.example.com"], "secretName": "tls"}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
    });
    assert_eq!(
        cells(i, ing),
        [
            json!("web"),
            json!("nginx"),
            json!("a.example.com,b.example.com"),
            json!("203.0.113.7"),
            json!("80, 443"),
            json!("10m"),
        ]
    );
    let many = json!({"spec": {"rules": [
        {"host": "a"}, {"host": "b"}, {}, {"host": "c"}, {"host": "d"}]}});
    let c = cells(i, many);
    assert_eq!(
        c[1..5],
        [
            json!("<none>"),
            json!("a,b,c + 2 more..."),
            json!(""),
            json!("80")
        ]
    );
    let default_backend = json!({"spec": {"defaultBackend": {"service": {"name": "x"}}}});
    assert_eq!(cells(i, default_backend)[2], "*");
}

#[test]
fn endpoint_slices() {
    let e = info("discovery.k8s.io", "endpointslices");
    assert_eq!(
        column_names(e),
        ["Name", "AddressType", "Ports", "Endpoints", "Age"]
    );
    let slice = json!({
        "metadata": {"name": "web-abc12", "creationTimestamp": ago(200)},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "metrics"}, {}],
        "endpoints": [
            {"addresses": ["10.0.0.1"], "conditions": {"ready": true}},
            {"addresses": ["10.0.0.2", "10.0.0.3"]},
            {"addresses": ["10.0.0.4"]},
        ],
    });
    assert_eq!(
        cells(e, slice),
        [
            json!("web-abc12"),
            json!("IPv4"),
            json!("80,metrics,*"),
            json!("10.0.0.1,10.0.0.2,10.0.0.3 + 1 more..."),
            json!("3m20s"),
        ]
    );
    let c = cells(
        e,
        json!({"metadata": {"name": "empty"}, "addressType": "IPv6"}),
    );
    assert_eq!(c[2..4], [json!("<unset>"), json!("<unset>")]);
    let four_ports = json!({"ports": [{"port": 1}, {"port": 2}, {"port": 3}, {"port": 4}]});
    assert_eq!(cells(e, four_ports)[2], "1,2,3 + 1 more...");
}

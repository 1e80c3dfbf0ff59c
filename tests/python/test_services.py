"""Services: ClusterIP and NodePort allocation, headless services."""

import ipaddress

import pytest
from kubernetes import client

from support import status_of

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
NODE_PORTS = range(30000, 32768)


def service(name, type_=None, cluster_ip=None, ports=None):
    return client.V1Service(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1ServiceSpec(
            type=type_,
            cluster_ip=cluster_ip,
            selector={"app": name},
            ports=ports or [client.V1ServicePort(port=80, target_port=8080)],
        ),
    )


def test_cluster_ip_is_allocated_from_the_service_range(core, namespace):
    created = core.create_namespaced_service(namespace, service("web"))
    assert created.spec.type == "ClusterIP"
    ip = ipaddress.ip_address(created.spec.cluster_ip)
    assert ip in SERVICE_CIDR
    assert created.spec.cluster_ips == [created.spec.cluster_ip]
    assert created.spec.session_affinity == "None"
    port = created.spec.ports[0]
    assert port.protocol == "TCP"
    assert port.target_port == 8080

    other = core.create_namespaced_service(namespace, service("api"))
    assert ipaddress.ip_address(other.spec.cluster_ip) in SERVICE_CIDR
    assert other.spec.cluster_ip != created.spec.cluster_ip

    # The address stays with the Service.
    assert core.read_namespaced_service("web", namespace).spec.cluster_ip == created.spec.cluster_ip


def test_node_port_is_allocated_from_the_node_port_range(core, namespace):
    created = core.create_namespaced_service(namespace, service("edge", type_="NodePort"))
    assert created.spec.type == "NodePort"
    assert ipaddress.ip_address(created.spec.cluster_ip) in SERVICE_CIDR
    node_port = created.spec.ports[0].node_port
    assert node_port in NODE_PORTS
    assert created.spec.external_traffic_policy == "Cluster"


def test_requested_node_port_is_kept_and_not_given_twice(core, namespace):
    first = core.create_namespaced_service(namespace, service("edge-a", type_="NodePort"))
    taken = first.spec.ports[0].node_port

    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_service(
            namespace,
            service("edge-b", type_="NodePort", ports=[client.V1ServicePort(port=80, node_port=taken)]),
        )
    assert err.value.status == 422
    fields = [cause.get("field") for cause in status_of(err.value)["details"]["causes"]]
    assert "spec.ports[0].nodePort" in fields

    # Deleting the Service releases its port.
    core.delete_namespaced_service("edge-a", namespace)
    again = core.create_namespaced_service(
        namespace,
        service("edge-c", type_="NodePort", ports=[client.V1ServicePort(port=80, node_port=taken)]),
    )
    assert again.spec.ports[0].node_port == taken


def test_headless_service_keeps_cluster_ip_none(core, namespace):
    created = core.create_namespaced_service(namespace, service("peers", cluster_ip="None"))
    assert created.spec.cluster_ip == "None"
    assert created.spec.cluster_ips == ["None"]
    assert core.read_namespaced_service("peers", namespace).spec.cluster_ip == "None"

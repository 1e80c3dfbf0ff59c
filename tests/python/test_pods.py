"""Pods are accepted without any node and come back with upstream's
defaults filled in."""

from kubernetes import client


def pod(name, resources=None):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": name}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="nginx:1.27", resources=resources)]),
    )


def test_pod_defaults(core, namespace):
    created = core.create_namespaced_pod(namespace, pod("plain"))
    spec = created.spec
    assert spec.restart_policy == "Always"
    assert spec.dns_policy == "ClusterFirst"
    assert spec.scheduler_name == "default-scheduler"
    assert spec.termination_grace_period_seconds == 30
    assert spec.enable_service_links is True
    assert spec.node_name is None

    container = spec.containers[0]
    assert container.termination_message_path == "/dev/termination-log"
    assert container.termination_message_policy == "File"
    # Not :latest, so IfNotPresent.
    assert container.image_pull_policy == "IfNotPresent"

    assert created.status.phase == "Pending"
    assert created.status.qos_class == "BestEffort"

    got = core.read_namespaced_pod("plain", namespace)
    assert got.status.phase == "Pending"
    assert got.spec.restart_policy == "Always"


def test_pod_qos_class_follows_resources(core, namespace):
    guaranteed = core.create_namespaced_pod(
        namespace,
        pod("guaranteed", client.V1ResourceRequirements(limits={"cpu": "100m", "memory": "64Mi"})),
    )
    # Limits alone become the requests too.
    assert guaranteed.spec.containers[0].resources.requests == {"cpu": "100m", "memory": "64Mi"}
    assert guaranteed.status.qos_class == "Guaranteed"

    burstable = core.create_namespaced_pod(
        namespace,
        pod("burstable", client.V1ResourceRequirements(requests={"cpu": "50m"})),
    )
    assert burstable.status.qos_class == "Burstable"


def test_latest_image_is_always_pulled(core, namespace):
    created = core.create_namespaced_pod(
        namespace,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="latest"),
            spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="busybox")]),
        ),
    )
    assert created.spec.containers[0].image_pull_policy == "Always"


def test_unbound_pod_is_deleted_at_once(core, namespace):
    core.create_namespaced_pod(namespace, pod("short"))
    core.delete_namespaced_pod("short", namespace)
    assert core.list_namespaced_pod(namespace).items == []

"""apps/v1 through AppsV1Api: Deployments (create, strategic merge patch,
the scale subresource, delete); DaemonSets and StatefulSets once the server
serves them (skipped until /apis/apps/v1 lists them)."""

import time

import pytest
from kubernetes import client

from support import status_of


def template(app, *containers):
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels={"app": app}),
        spec=client.V1PodSpec(containers=[client.V1Container(name=n, image=i) for n, i in containers]),
    )


def deployment(name, replicas=2):
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=template(name, ("web", "nginx:1.27"), ("sidecar", "busybox:1.36")),
        ),
    )


@pytest.fixture
def apps(api_client):
    return client.AppsV1Api(api_client)


def served(apps, resource):
    """Skips the test unless /apis/apps/v1 lists `resource`."""
    names = {r.name for r in apps.get_api_resources().resources}
    if resource not in names:
        pytest.skip(f"the server does not serve apps/v1 {resource} yet")


def test_deployment_create_has_defaults(apps, namespace):
    created = apps.create_namespaced_deployment(namespace, deployment("web"))
    assert created.metadata.generation == 1
    assert created.spec.replicas == 2
    assert created.spec.strategy.type == "RollingUpdate"
    assert created.spec.strategy.rolling_update.max_surge == "25%"
    assert created.spec.strategy.rolling_update.max_unavailable == "25%"
    assert created.spec.revision_history_limit == 10
    assert created.spec.progress_deadline_seconds == 600
    assert created.spec.template.spec.restart_policy == "Always"
    assert [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items] == ["web"]


def test_deployment_strategic_merge_patch(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web"))

    # A dict body is sent as a strategic merge patch: containers merge by name,
    # so the sidecar survives and only the web image changes.
    patched = apps.patch_namespaced_deployment(
        "web",
        namespace,
        {
            "metadata": {"labels": {"tier": "front"}},
            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}},
        },
    )
    images = {c.name: c.image for c in patched.spec.template.spec.containers}
    assert images == {"web": "nginx:1.28", "sidecar": "busybox:1.36"}
    assert patched.metadata.labels == {"tier": "front"}
    assert patched.metadata.generation == 2

    # $patch: delete removes one element of a merged list.
    patched = apps.patch_namespaced_deployment(
        "web",
        namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}},
    )
    assert [c.name for c in patched.spec.template.spec.containers] == ["web"]
    assert patched.metadata.generation == 3


def test_deployment_scale_subresource(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=1))

    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert scale.spec.replicas == 1
    assert scale.metadata.name == "web"

    scaled = apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 5}})
    assert scaled.spec.replicas == 5
    assert apps.read_namespaced_deployment_scale("web", namespace).spec.replicas == 5
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 5

    # A replace carries the resourceVersion it read; the deployment
    # controller may write the Deployment in between (409 Conflict, as on
    # any cluster), and clients then read again and retry.
    deadline = time.monotonic() + 10
    while True:
        scale = apps.read_namespaced_deployment_scale("web", namespace)
        scale.spec.replicas = 0
        try:
            replaced = apps.replace_namespaced_deployment_scale("web", namespace, scale)
            break
        except client.ApiException as e:
            assert e.status == 409 and time.monotonic() < deadline, e
    assert replaced.spec.replicas == 0
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 0


def test_deployment_delete(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    apps.delete_namespaced_deployment("web", namespace)
    assert apps.list_namespaced_deployment(namespace).items == []
    with pytest.raises(client.ApiException) as err:
        apps.read_namespaced_deployment("web", namespace)
    assert err.value.status == 404
    assert status_of(err.value)["details"]["group"] == "apps"


def test_deployment_selector_must_match_template(apps, namespace):
    bad = deployment("web")
    bad.spec.selector = client.V1LabelSelector(match_labels={"app": "other"})
    with pytest.raises(client.ApiException) as err:
        apps.create_namespaced_deployment(namespace, bad)
    assert err.value.status == 422
    fields = [c.get("field") for c in status_of(err.value)["details"]["causes"]]
    assert "spec.template.metadata.labels" in fields


def test_daemonset_create_read_delete(apps, namespace):
    served(apps, "daemonsets")
    created = apps.create_namespaced_daemon_set(
        namespace,
        client.V1DaemonSet(
            metadata=client.V1ObjectMeta(name="agent"),
            spec=client.V1DaemonSetSpec(
                selector=client.V1LabelSelector(match_labels={"app": "agent"}),
                template=template("agent", ("agent", "busybox:1.36")),
            ),
        ),
    )
    assert created.spec.update_strategy.type == "RollingUpdate"
    assert created.spec.revision_history_limit == 10
    got = apps.read_namespaced_daemon_set("agent", namespace)
    assert got.metadata.uid == created.metadata.uid
    apps.delete_namespaced_daemon_set("agent", namespace)
    assert apps.list_namespaced_daemon_set(namespace).items == []


def test_statefulset_create_read_delete(apps, namespace):
    served(apps, "statefulsets")
    created = apps.create_namespaced_stateful_set(
        namespace,
        client.V1StatefulSet(
            metadata=client.V1ObjectMeta(name="db"),
            spec=client.V1StatefulSetSpec(
                service_name="db",
                replicas=3,
                selector=client.V1LabelSelector(match_labels={"app": "db"}),
                template=template("db", ("db", "postgres:16")),
            ),
        ),
    )
    assert created.spec.replicas == 3
    assert created.spec.pod_management_policy == "OrderedReady"
    assert created.spec.update_strategy.type == "RollingUpdate"
    got = apps.read_namespaced_stateful_set("db", namespace)
    assert got.metadata.uid == created.metadata.uid
    apps.delete_namespaced_stateful_set("db", namespace)
    assert apps.list_namespaced_stateful_set(namespace).items == []

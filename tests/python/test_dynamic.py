"""kubernetes.dynamic.DynamicClient: discovery (/api, /apis and each
group/version's resource list) and generic get/create/patch/delete."""

import pytest
from kubernetes import dynamic
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

from support import without_root_ca


@pytest.fixture
def dyn(api_client):
    return dynamic.DynamicClient(api_client)


def test_discovery_finds_core_and_group_resources(dyn):
    config_maps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    assert config_maps.name == "configmaps"
    assert config_maps.namespaced is True
    assert {"create", "get", "list", "watch", "patch", "delete"} <= set(config_maps.verbs)

    namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
    assert namespaces.namespaced is False

    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.group == "apps"
    assert deployments.name == "deployments"
    scale = deployments.subresources["scale"]
    assert scale.kind == "Scale"
    assert scale.name == "deployments/scale"

    jobs = dyn.resources.get(group="batch", kind="Job")
    assert jobs.api_version == "v1"

    with pytest.raises(ResourceNotFoundError):
        dyn.resources.get(api_version="v1", kind="NoSuchKind")


def test_discovery_knows_the_server_version(dyn):
    version = dyn.version
    assert "kubernetes" in version
    assert version["kubernetes"]["major"]


def test_dynamic_configmap_create_get_patch_delete(dyn, namespace):
    config_maps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    created = config_maps.create(
        body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dyn"}, "data": {"a": "1"}},
        namespace=namespace,
    )
    assert created.metadata.name == "dyn"
    assert created.metadata.namespace == namespace

    got = config_maps.get(name="dyn", namespace=namespace)
    assert got.data.a == "1"
    assert got.metadata.uid == created.metadata.uid

    listed = config_maps.get(namespace=namespace)
    assert listed.kind == "ConfigMapList"
    assert [item.metadata.name for item in without_root_ca(listed.items)] == ["dyn"]

    patched = config_maps.patch(
        name="dyn",
        namespace=namespace,
        body={"data": {"b": "2"}},
        content_type="application/merge-patch+json",
    )
    assert patched.data.to_dict() == {"a": "1", "b": "2"}

    config_maps.delete(name="dyn", namespace=namespace)
    with pytest.raises(NotFoundError):
        config_maps.get(name="dyn", namespace=namespace)


def test_dynamic_server_side_apply(dyn, namespace):
    config_maps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied", "namespace": namespace}, "data": {"k": "v"}}
    applied = config_maps.server_side_apply(body=body, name="applied", namespace=namespace, field_manager="pytest")
    assert applied.data.k == "v"
    managers = [m.manager for m in applied.metadata.managedFields]
    assert managers == ["pytest"]


def test_dynamic_scale_subresource(dyn, namespace):
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    deployments.create(
        body={
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
        namespace=namespace,
    )
    scale = deployments.subresources["scale"]
    assert scale.get(name="web", namespace=namespace).spec.replicas == 1
    scale.patch(name="web", namespace=namespace, body={"spec": {"replicas": 3}}, content_type="application/merge-patch+json")
    assert deployments.get(name="web", namespace=namespace).spec.replicas == 3

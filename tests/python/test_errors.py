"""Errors as the client sees them: ApiException with the server's Status."""

import pytest
from kubernetes import client

from support import status_of


def config_map(name, **data):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data or None)


def test_replace_with_stale_resource_version_conflicts(core, namespace):
    first = core.create_namespaced_config_map(namespace, config_map("cm", v="1"))
    core.patch_namespaced_config_map("cm", namespace, {"data": {"v": "2"}})

    stale = config_map("cm", v="3")
    stale.metadata.resource_version = first.metadata.resource_version
    with pytest.raises(client.ApiException) as err:
        core.replace_namespaced_config_map("cm", namespace, stale)
    assert err.value.status == 409
    status = status_of(err.value)
    assert status["kind"] == "Status"
    assert status["reason"] == "Conflict"
    assert status["code"] == 409
    assert core.read_namespaced_config_map("cm", namespace).data == {"v": "2"}


def test_create_duplicate_is_already_exists(core, namespace):
    core.create_namespaced_config_map(namespace, config_map("dup"))
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_config_map(namespace, config_map("dup"))
    assert err.value.status == 409
    status = status_of(err.value)
    assert status["reason"] == "AlreadyExists"
    assert status["status"] == "Failure"
    assert status["details"]["name"] == "dup"
    assert status["details"]["kind"] == "configmaps"
    assert status["message"] == 'configmaps "dup" already exists'


def test_read_missing_is_not_found(core, namespace):
    with pytest.raises(client.ApiException) as err:
        core.read_namespaced_config_map("nowhere", namespace)
    assert err.value.status == 404
    assert status_of(err.value)["reason"] == "NotFound"


def test_invalid_object_is_unprocessable_with_field_path(core, namespace):
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_config_map(namespace, config_map("Not_A_Valid_Name"))
    assert err.value.status == 422
    status = status_of(err.value)
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "ConfigMap"
    assert status["details"]["name"] == "Not_A_Valid_Name"
    fields = [cause.get("field") for cause in status["details"]["causes"]]
    assert "metadata.name" in fields


def test_invalid_pod_names_each_bad_field(core, namespace):
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="bad"),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="c", image="busybox", ports=[client.V1ContainerPort(container_port=70000)])],
            restart_policy="Sometimes",
        ),
    )
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_pod(namespace, pod)
    assert err.value.status == 422
    fields = {cause.get("field") for cause in status_of(err.value)["details"]["causes"]}
    assert "spec.restartPolicy" in fields
    assert "spec.containers[0].ports[0].containerPort" in fields

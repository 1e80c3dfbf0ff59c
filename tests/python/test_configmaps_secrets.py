"""ConfigMaps and Secrets: create, read, list, replace, patch, delete."""

import base64

from kubernetes import client


def meta(name, **labels):
    return client.V1ObjectMeta(name=name, labels=labels or None)


def test_configmap_crud(core, namespace):
    created = core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(metadata=meta("settings", app="web"), data={"mode": "fast"}),
    )
    assert created.metadata.namespace == namespace
    assert created.data == {"mode": "fast"}
    assert created.metadata.creation_timestamp is not None

    got = core.read_namespaced_config_map("settings", namespace)
    assert got.metadata.uid == created.metadata.uid
    assert got.metadata.resource_version == created.metadata.resource_version

    got.data["mode"] = "slow"
    replaced = core.replace_namespaced_config_map("settings", namespace, got)
    assert replaced.data == {"mode": "slow"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)

    patched = core.patch_namespaced_config_map("settings", namespace, {"data": {"extra": "1"}})
    assert patched.data == {"mode": "slow", "extra": "1"}

    # Every namespace also has the cluster CA bundle, as upstream's do (the
    # namespace fixture waits for it, so it is there by now).
    listed = core.list_namespaced_config_map(namespace)
    assert [cm.metadata.name for cm in listed.items] == ["kube-root-ca.crt", "settings"]
    assert listed.metadata.resource_version

    # Deleting a ConfigMap answers with a Success Status naming it.
    status = core.delete_namespaced_config_map("settings", namespace)
    assert status["kind"] == "Status"
    assert status["status"] == "Success"
    assert status["details"]["name"] == "settings"
    assert status["details"]["uid"] == created.metadata.uid
    names = [cm.metadata.name for cm in core.list_namespaced_config_map(namespace).items]
    assert names == ["kube-root-ca.crt"]


def test_secret_crud(core, namespace):
    raw = base64.b64encode(b"s3cret").decode()
    created = core.create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=meta("creds"), type="Opaque", data={"password": raw}, string_data={"user": "admin"}),
    )
    # stringData is folded into data (base64) and never stored.
    assert created.data == {"password": raw, "user": base64.b64encode(b"admin").decode()}
    assert created.string_data is None
    assert created.type == "Opaque"

    got = core.read_namespaced_secret("creds", namespace)
    assert base64.b64decode(got.data["password"]) == b"s3cret"

    got.data = {"password": base64.b64encode(b"rotated").decode()}
    replaced = core.replace_namespaced_secret("creds", namespace, got)
    assert list(replaced.data) == ["password"]

    assert [s.metadata.name for s in core.list_namespaced_secret(namespace).items] == ["creds"]
    core.delete_namespaced_secret("creds", namespace)
    assert core.list_namespaced_secret(namespace).items == []


def test_default_secret_type(core, namespace):
    created = core.create_namespaced_secret(namespace, client.V1Secret(metadata=meta("plain"), data={}))
    assert created.type == "Opaque"

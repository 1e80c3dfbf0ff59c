"""Namespaces through CoreV1Api: create, get, list, delete until gone."""

from kubernetes import client

from support import unique, wait_until


def test_namespace_lifecycle(core):
    name = unique("ns-life")
    meta = client.V1ObjectMeta(name=name, labels={"suite": "python"})
    created = core.create_namespace(client.V1Namespace(metadata=meta))
    assert created.metadata.name == name
    assert created.metadata.uid
    assert created.metadata.resource_version

    got = core.read_namespace(name)
    assert got.metadata.uid == created.metadata.uid
    assert got.status.phase == "Active"
    assert got.metadata.labels["suite"] == "python"
    # Upstream labels every namespace with its own name.
    assert got.metadata.labels["kubernetes.io/metadata.name"] == name

    names = [ns.metadata.name for ns in core.list_namespace().items]
    assert name in names
    assert {"default", "kube-system"} <= set(names)

    by_label = core.list_namespace(label_selector=f"kubernetes.io/metadata.name={name}").items
    assert [ns.metadata.name for ns in by_label] == [name]

    core.delete_namespace(name)

    def gone():
        try:
            core.read_namespace(name)
        except client.ApiException as e:
            return e.status == 404
        return False

    wait_until(gone, f"namespace {name} to be deleted")
    assert name not in [ns.metadata.name for ns in core.list_namespace().items]


def test_namespace_deletion_removes_its_objects(core):
    name = unique("ns-content")
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    core.create_namespaced_config_map(name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm"), data={"k": "v"}))

    core.delete_namespace(name)
    # While it terminates the namespace is still readable and says so.
    try:
        phase = core.read_namespace(name).status.phase
        assert phase == "Terminating"
    except client.ApiException as e:
        assert e.status == 404

    def gone():
        try:
            core.read_namespace(name)
        except client.ApiException as e:
            return e.status == 404
        return False

    wait_until(gone, f"namespace {name} to be deleted")
    assert core.list_namespaced_config_map(name).items == []

"""List filtering: label selectors and the metadata.name field selector."""

from kubernetes import client

from support import without_root_ca


def make(core, namespace, name, **labels):
    meta = client.V1ObjectMeta(name=name, labels=labels or None)
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=meta))


def names(config_map_list):
    """The sorted names of the test's own ConfigMaps in a list (the
    namespace's unlabelled `kube-root-ca.crt` matches some selectors too)."""
    return sorted(cm.metadata.name for cm in without_root_ca(config_map_list.items))


def test_label_selector(core, namespace):
    make(core, namespace, "web-prod", app="web", env="prod")
    make(core, namespace, "web-dev", app="web", env="dev")
    make(core, namespace, "db-prod", app="db", env="prod")
    make(core, namespace, "unlabelled")

    def select(selector):
        return names(core.list_namespaced_config_map(namespace, label_selector=selector))

    assert select("app=web") == ["web-dev", "web-prod"]
    assert select("app=web,env=prod") == ["web-prod"]
    assert select("env!=prod") == ["unlabelled", "web-dev"]
    assert select("app in (db,web),env notin (dev)") == ["db-prod", "web-prod"]
    assert select("app") == ["db-prod", "web-dev", "web-prod"]
    assert select("!app") == ["unlabelled"]
    assert select("app=cache") == []


def test_field_selector_on_name(core, namespace):
    make(core, namespace, "alpha")
    make(core, namespace, "beta")

    assert names(core.list_namespaced_config_map(namespace, field_selector="metadata.name=beta")) == ["beta"]
    assert names(core.list_namespaced_config_map(namespace, field_selector="metadata.name!=beta")) == ["alpha"]
    in_namespace = core.list_namespaced_config_map(namespace, field_selector=f"metadata.namespace={namespace}")
    assert names(in_namespace) == ["alpha", "beta"]


def test_unknown_field_selector_is_rejected(core, namespace):
    try:
        core.list_namespaced_config_map(namespace, field_selector="data.key=x")
    except client.ApiException as e:
        assert e.status == 400
    else:
        raise AssertionError("a field selector on an unsupported field must be refused")

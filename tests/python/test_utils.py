"""kubernetes.utils: create_from_yaml / create_from_dict with several kinds
in one document set, and partial failure when some objects already exist
(FailToCreateError holds one ApiException per object that was refused, and
every other object is still created)."""

import json
import textwrap

import pytest
from kubernetes import client, utils

from support import without_root_ca

MANIFEST = textwrap.dedent(
    """\
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: app-config
      labels: {app: shop}
    data:
      mode: production
    ---
    apiVersion: v1
    kind: Secret
    metadata:
      name: app-secret
    stringData:
      token: abc123
    ---
    apiVersion: v1
    kind: Service
    metadata:
      name: shop
    spec:
      selector: {app: shop}
      ports:
      - port: 80
        targetPort: 8080
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: shop
    spec:
      replicas: 2
      selector:
        matchLabels: {app: shop}
      template:
        metadata:
          labels: {app: shop}
        spec:
          containers:
          - name: shop
            image: nginx:1.27
    ---
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: migrate
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: migrate
            image: busybox:1.36
            command: ["true"]
    """
)

# (kind, name) of every object in MANIFEST, in order.
OBJECTS = [
    ("ConfigMap", "app-config"),
    ("Secret", "app-secret"),
    ("Service", "shop"),
    ("Deployment", "shop"),
    ("Job", "migrate"),
]


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFEST)
    return str(path)


def existing(api_client, namespace):
    """(kind, name) of the objects of MANIFEST's kinds in `namespace`, but
    the `kube-root-ca.crt` ConfigMap every namespace has."""
    core = client.CoreV1Api(api_client)
    apps = client.AppsV1Api(api_client)
    batch = client.BatchV1Api(api_client)
    found = []
    for kind, lister in [
        ("ConfigMap", core.list_namespaced_config_map),
        ("Secret", core.list_namespaced_secret),
        ("Service", core.list_namespaced_service),
        ("Deployment", apps.list_namespaced_deployment),
        ("Job", batch.list_namespaced_job),
    ]:
        found += [(kind, o.metadata.name) for o in without_root_ca(lister(namespace).items)]
    return sorted(found)


def conflicts(failure):
    """(details.kind, details.name) of each AlreadyExists in a FailToCreateError."""
    out = []
    for e in failure.api_exceptions:
        assert e.status == 409
        assert e.reason == "Conflict"
        status = json.loads(e.body)
        assert status["reason"] == "AlreadyExists"
        out.append((status["details"]["kind"], status["details"]["name"]))
    return out


def test_create_from_yaml_multi_document(api_client, namespace, manifest):
    created = utils.create_from_yaml(api_client, manifest, namespace=namespace)
    # One list of created objects per document.
    assert [[type(o).__name__ for o in doc] for doc in created] == [
        ["V1ConfigMap"],
        ["V1Secret"],
        ["V1Service"],
        ["V1Deployment"],
        ["V1Job"],
    ]
    assert existing(api_client, namespace) == sorted(OBJECTS)
    assert all(doc[0].metadata.namespace == namespace for doc in created)

    secret = client.CoreV1Api(api_client).read_namespaced_secret("app-secret", namespace)
    assert list(secret.data) == ["token"]
    job = client.BatchV1Api(api_client).read_namespaced_job("migrate", namespace)
    assert job.spec.selector.match_labels["batch.kubernetes.io/controller-uid"] == job.metadata.uid


def test_create_from_yaml_with_conflicts_creates_the_rest(api_client, namespace, manifest):
    core = client.CoreV1Api(api_client)
    apps = client.AppsV1Api(api_client)
    core.create_namespaced_service(
        namespace,
        {"metadata": {"name": "shop"}, "spec": {"ports": [{"port": 81}]}},
    )
    utils.create_from_dict(
        api_client,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "shop"},
            "spec": {
                "selector": {"matchLabels": {"app": "old"}},
                "template": {"metadata": {"labels": {"app": "old"}}, "spec": {"containers": [{"name": "c", "image": "old"}]}},
            },
        },
        namespace=namespace,
    )

    with pytest.raises(utils.FailToCreateError) as err:
        utils.create_from_yaml(api_client, manifest, namespace=namespace)

    # Exactly the two existing objects were refused, in document order...
    assert conflicts(err.value) == [("services", "shop"), ("deployments", "shop")]
    text = str(err.value)
    assert text.startswith("Error from server (Conflict): ")
    assert text.count("Error from server (Conflict): ") == 2
    # ...everything else was created...
    assert existing(api_client, namespace) == sorted(OBJECTS)
    # ...and the existing ones were left as they were.
    assert core.read_namespaced_service("shop", namespace).spec.ports[0].port == 81
    assert apps.read_namespaced_deployment("shop", namespace).spec.template.spec.containers[0].image == "old"


def test_create_from_dict_list_with_a_duplicate(api_client, namespace):
    def svc(name):
        return {
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"selector": {"app": name}, "ports": [{"port": 99, "targetPort": 9949}]},
        }

    # A typed List: items take the List's apiVersion and kind without "List".
    service_list = {"apiVersion": "v1", "kind": "ServiceList", "items": [svc("one"), svc("one"), svc("two")]}
    with pytest.raises(utils.FailToCreateError) as err:
        utils.create_from_dict(api_client, service_list, namespace=namespace)
    assert conflicts(err.value) == [("services", "one")]
    names = sorted(s.metadata.name for s in client.CoreV1Api(api_client).list_namespaced_service(namespace).items)
    assert names == ["one", "two"]


def test_create_from_dict_generic_list(api_client, namespace):
    generic = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-list"}, "data": {"a": "b"}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "from-list"}, "stringData": {"c": "d"}},
        ],
    }
    created = utils.create_from_dict(api_client, generic, namespace=namespace)
    assert [type(o).__name__ for o in created] == ["V1ConfigMap", "V1Secret"]
    assert existing(api_client, namespace) == [("ConfigMap", "from-list"), ("Secret", "from-list")]


def test_create_from_yaml_objects_in_their_own_namespace(api_client, namespace):
    # metadata.namespace in the object wins over the namespace argument.
    objects = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "placed", "namespace": namespace}}]
    created = utils.create_from_yaml(api_client, yaml_objects=objects, namespace="default")
    assert created[0][0].metadata.namespace == namespace


def go_status_json(message, reason, code, **details):
    """A failure Status as upstream's API server writes it: Go struct field
    order, empty details fields omitted, and a trailing newline."""
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason}
    status["details"] = {k: v for k, v in details.items() if v}
    status["code"] = code
    return json.dumps(status, separators=(",", ":")) + "\n"


def test_conflict_error_text_is_upstreams(api_client, namespace):
    doc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "mock"}, "spec": {"ports": [{"port": 99}]}}
    utils.create_from_dict(api_client, doc, namespace=namespace)
    with pytest.raises(utils.FailToCreateError) as err:
        utils.create_from_dict(api_client, doc, namespace=namespace)
    expected = go_status_json(
        'services "mock" already exists', "AlreadyExists", 409, name="mock", group="", kind="services"
    )
    assert str(err.value) == "Error from server (Conflict): " + expected

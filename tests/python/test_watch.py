"""Watches through kubernetes.watch.Watch: event order, watching from a
resourceVersion, selector transitions and bookmarks.

Every stream is bounded twice: `timeout_seconds` ends it on the server, and
`_request_timeout` makes the client give up if the server goes quiet, so a
missing event fails the test instead of hanging it.

The `namespace` fixture hands over a namespace that already holds its
`kube-root-ca.crt` ConfigMap, so a watch's initial state includes it and
nothing of the controller's is written while a test runs."""

from kubernetes import client, watch

from support import ROOT_CA_CONFIG_MAP, is_root_ca

WATCH_SECONDS = 15
# Bookmarks come every 10 s (upstream: about once a minute), so waiting for
# one takes longer than waiting for an event.
BOOKMARK_SECONDS = 25


def config_map(name, labels=None, **data):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data or None)


def stream(core, namespace, seconds=WATCH_SECONDS, **kwargs):
    w = watch.Watch()
    events = w.stream(
        core.list_namespaced_config_map,
        namespace,
        timeout_seconds=seconds,
        _request_timeout=seconds + 5,
        **kwargs,
    )
    return w, events


def test_watch_sees_added_modified_deleted_in_order(core, namespace):
    core.create_namespaced_config_map(namespace, config_map("seed", v="0"))
    w, events = stream(core, namespace)
    seen = []
    # Each write is made only after the previous event arrived, so the watch
    # is known to be running when it happens.
    for event in events:
        obj = event["object"]
        # The namespace's CA bundle is part of the initial state, not ours.
        if is_root_ca(event["raw_object"]):
            continue
        seen.append((event["type"], obj.metadata.name, (obj.data or {}).get("v")))
        if len(seen) == 1:
            core.patch_namespaced_config_map("seed", namespace, {"data": {"v": "1"}})
        elif len(seen) == 2:
            core.create_namespaced_config_map(namespace, config_map("second", v="a"))
        elif len(seen) == 3:
            core.delete_namespaced_config_map("seed", namespace)
        else:
            w.stop()
    assert seen == [
        ("ADDED", "seed", "0"),
        ("MODIFIED", "seed", "1"),
        ("ADDED", "second", "a"),
        ("DELETED", "seed", "1"),
    ]


def test_watch_from_resource_version_replays_what_followed(core, namespace):
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    created = core.create_namespaced_config_map(namespace, config_map("cm", v="1"))
    modified = core.patch_namespaced_config_map("cm", namespace, {"data": {"v": "2"}})
    core.delete_namespaced_config_map("cm", namespace)

    w, events = stream(core, namespace, resource_version=start)
    seen = []
    for event in events:
        seen.append((event["type"], event["object"].metadata.resource_version, event["object"].data))
        if len(seen) == 3:
            w.stop()
    assert [s[0] for s in seen] == ["ADDED", "MODIFIED", "DELETED"]
    assert seen[0][1:] == (created.metadata.resource_version, {"v": "1"})
    assert seen[1][1:] == (modified.metadata.resource_version, {"v": "2"})
    # The DELETED event carries the last state at a newer resourceVersion.
    assert seen[2][2] == {"v": "2"}
    assert int(seen[2][1]) > int(modified.metadata.resource_version)

    # From the newest resourceVersion nothing old is replayed: the first event
    # is the next write.
    latest = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, config_map("next"))
    w, events = stream(core, namespace, resource_version=latest)
    first = next(events)
    w.stop()
    assert (first["type"], first["object"].metadata.name) == ("ADDED", "next")


def test_watch_with_label_selector_follows_transitions(core, namespace):
    core.create_namespaced_config_map(namespace, config_map("cm", labels={"role": "other"}))
    start = core.read_namespaced_config_map("cm", namespace).metadata.resource_version
    core.patch_namespaced_config_map("cm", namespace, {"metadata": {"labels": {"role": "watched"}}})
    core.patch_namespaced_config_map("cm", namespace, {"data": {"k": "v"}})
    core.patch_namespaced_config_map("cm", namespace, {"metadata": {"labels": {"role": "other"}}})

    w, events = stream(core, namespace, resource_version=start, label_selector="role=watched")
    seen = []
    for event in events:
        seen.append(event["type"])
        if len(seen) == 3:
            w.stop()
    # Entering the selection is ADDED, leaving it is DELETED.
    assert seen == ["ADDED", "MODIFIED", "DELETED"]


def test_watch_bookmarks_carry_a_resource_version(core, namespace):
    created = core.create_namespaced_config_map(namespace, config_map("cm"))
    w, events = stream(core, namespace, seconds=BOOKMARK_SECONDS, allow_watch_bookmarks=True)
    bookmark = None
    for event in events:
        if event["type"] == "BOOKMARK":
            bookmark = event
            w.stop()
    assert bookmark is not None, "no BOOKMARK before the watch timed out"
    raw = bookmark["raw_object"]
    assert raw["kind"] == "ConfigMap"
    assert raw["apiVersion"] == "v1"
    assert int(raw["metadata"]["resourceVersion"]) >= int(created.metadata.resource_version)
    # The client resumes from the bookmark's resourceVersion.
    assert w.resource_version == raw["metadata"]["resourceVersion"]


def test_watch_list_ends_initial_events_with_a_bookmark(core, namespace):
    core.create_namespaced_config_map(namespace, config_map("a"))
    core.create_namespaced_config_map(namespace, config_map("b"))
    w, events = stream(
        core,
        namespace,
        allow_watch_bookmarks=True,
        send_initial_events=True,
        resource_version_match="NotOlderThan",
    )
    seen = []
    for event in events:
        if event["type"] == "BOOKMARK":
            annotations = event["raw_object"]["metadata"].get("annotations") or {}
            assert annotations.get("k8s.io/initial-events-end") == "true"
            w.stop()
            break
        seen.append((event["type"], event["object"].metadata.name))
    # Everything in the namespace, the CA bundle the cluster put there too.
    assert sorted(seen) == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", ROOT_CA_CONFIG_MAP)]

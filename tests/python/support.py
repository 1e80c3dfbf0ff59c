"""Small helpers shared by the Python client tests: unique names, waiting
on a condition with a deadline (never a fixed sleep), and telling apart the
objects a test made from those the cluster puts in every namespace."""

import json
import time
import uuid

DEFAULT_TIMEOUT = 20.0

# The ConfigMap the root-ca-cert-publisher puts in every namespace a moment
# after it is created (upstream's name), holding the cluster CA bundle.
ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"


def unique(prefix):
    """A DNS-1123 name unique to this run: `<prefix>-<8 hex digits>`."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_until(condition, what, timeout=DEFAULT_TIMEOUT, interval=0.05):
    """Polls `condition()` until it returns something truthy and returns it;
    fails the test with `what` and the last value seen once `timeout`
    seconds have passed."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def status_of(api_exception):
    """The `Status` object the server sent with an error, as a dict."""
    return json.loads(api_exception.body)


def is_root_ca(obj):
    """Whether `obj` (a typed object, or a dict as in a watch's
    `raw_object`) is the namespace's `kube-root-ca.crt` ConfigMap."""
    if isinstance(obj, dict):
        kind, name = obj.get("kind"), (obj.get("metadata") or {}).get("name")
    else:
        kind, name = getattr(obj, "kind", None), obj.metadata.name
    # Items of a typed list carry no kind; a ConfigMap's name is enough then.
    return name == ROOT_CA_CONFIG_MAP and kind in (None, "ConfigMap")


def without_root_ca(items):
    """`items` (objects or watch events) without the namespace's
    `kube-root-ca.crt` ConfigMap: what the test itself made."""
    out = []
    for item in items:
        obj = item["raw_object"] if isinstance(item, dict) and "raw_object" in item else item
        if not is_root_ca(obj):
            out.append(item)
    return out

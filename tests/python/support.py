"""Small helpers shared by the Python client tests: unique names and waiting
on a condition with a deadline (never a fixed sleep)."""

import json
import time
import uuid

DEFAULT_TIMEOUT = 20.0


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

"""Fixtures for the Python client tests.

One fresh `ironclad server` per test session, on a temporary data directory
and a free loopback port, driven through the official `kubernetes` client
from PyPI exactly as users drive it: the client loads the server's
`admin.kubeconfig`. Each test that needs one gets its own namespace.

The binary is `$IRONCLAD_BIN`, else `$CARGO_TARGET_DIR/debug/ironclad`, else
`target/debug/ironclad` in the repository (build it first: `make test-python`
does).
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from kubernetes import client, config

from support import ROOT_CA_CONFIG_MAP, unique, wait_until

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def ironclad_bin():
    """Where the ironclad binary under test is."""
    if os.environ.get("IRONCLAD_BIN"):
        return Path(os.environ["IRONCLAD_BIN"])
    target = os.environ.get("CARGO_TARGET_DIR")
    return (Path(target) if target else REPO / "target") / "debug" / "ironclad"


def free_port():
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `ironclad server` and the files it writes."""

    def __init__(self, binary, data_dir, port):
        self.data_dir = Path(data_dir)
        self.port = port
        self.stdout_path = self.data_dir / "server.stdout"
        self.stderr_path = self.data_dir / "server.stderr"
        self.kubeconfig = self.data_dir / "admin.kubeconfig"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                [str(binary), "server", "--data-dir", str(self.data_dir), "--api-port", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    def output(self):
        """What the server printed so far, for failure messages."""
        return (
            f"--- stdout\n{self.stdout_path.read_text(errors='replace')}"
            f"--- stderr\n{self.stderr_path.read_text(errors='replace')}"
        )

    def wait_ready(self, timeout):
        """Polls the server's stdout for its `ready` line until `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any("ready" in line for line in self.stdout_path.read_text(errors="replace").splitlines()):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"ironclad server exited with {self.process.returncode}\n{self.output()}")
            time.sleep(0.05)
        raise RuntimeError(f"ironclad server not ready after {timeout}s\n{self.output()}")

    def stop(self):
        """Stops the server by its PID (SIGTERM, then SIGKILL)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="session")
def server():
    """A fresh `ironclad server` for the whole session, stopped at the end."""
    binary = ironclad_bin()
    if not os.access(binary, os.X_OK):
        pytest.exit(f"ironclad binary not found at {binary} (build it, or set IRONCLAD_BIN)", returncode=2)
    data_dir = tempfile.mkdtemp(prefix="ironclad-pytest-")
    srv = Server(binary, data_dir, free_port())
    try:
        srv.wait_ready(READY_TIMEOUT)
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def api_client(server):
    """An ApiClient configured from the server's admin.kubeconfig."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(server.kubeconfig), client_configuration=configuration)
    with client.ApiClient(configuration) as api:
        yield api


@pytest.fixture
def core(api_client):
    """CoreV1Api on the session's server."""
    return client.CoreV1Api(api_client)


def has_config_map(core, namespace, name):
    """Whether the ConfigMap `namespace/name` exists."""
    try:
        core.read_namespaced_config_map(name, namespace)
    except client.ApiException as e:
        if e.status == 404:
            return False
        raise
    return True


@pytest.fixture
def namespace(core, request):
    """A namespace of this test's own (created now, deleted afterwards).

    It is handed over settled: Active, and holding the `kube-root-ca.crt`
    ConfigMap the root-ca-cert-publisher adds to every new namespace shortly
    after its creation, so that no write of the controller's lands in the
    middle of a test (a list, a watch) and makes it racy."""
    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())
    name = unique(stem[:40].strip("-") or "t")
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    wait_until(
        lambda: core.read_namespace(name).status.phase == "Active",
        f"namespace {name} to be Active",
    )
    wait_until(lambda: has_config_map(core, name, ROOT_CA_CONFIG_MAP), f"{ROOT_CA_CONFIG_MAP} in namespace {name}")
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException as e:
        if e.status != 404:
            raise

"""The scaled shape as ``make cluster`` starts it (``scripts/cluster.py``), once per session, on
loopback ports of its own, in a folder of its own; stopped at the end, by the PIDs it recorded.

One setting differs from ``make cluster``'s: a worker's lease on the scores it claimed is
``LEASE_SECONDS``, not a minute, so that the scores of a worker killed in the middle of a batch
are sent by another within the test (``test_faults.py``); the LMS's timeout stays well under it,
as the setting asks."""

from __future__ import annotations

import importlib.util
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from app import create_app
from app.devlms import create_devlms_app
from config import PROJECT_ROOT
from tests.support.live import LiveServers

LEASE_SECONDS = 10
CLUSTER_SETTINGS = {
    "MICROCRED_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
    "MICROCRED_HTTP_TIMEOUT": str(LEASE_SECONDS // 2),
}


def launcher() -> ModuleType:
    """``scripts/cluster.py`` as a module (its ``Ports`` and ``backend_states``)."""
    name = "microcred_cluster_launcher"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "scripts" / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (its dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


@dataclass
class RunningCluster:
    folder: Path
    ports: Any
    output: str
    env: dict[str, str]
    live: LiveServers
    """For ``LmsUser``: the tool is HAProxy's URL; the apps only read the cluster's database."""
    parts: Any
    """The launcher's ``Cluster``: its processes, ``kill``, ``restart``, ``roll``, HAProxy."""

    def instance_url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.ports.instances[number - 1]}"

    @property
    def stats_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.stats}"


def _free_block(module: ModuleType) -> Any:
    """Eight consecutive free loopback ports below the system's ephemeral range: a port in
    that range may become some outgoing connection's own between the check and the bind
    (HAProxy's stats port once did, on a busy machine)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(50):
        ports = module.Ports(random.randrange(10000, low - 8))
        if all(module._port_free(p) for p in ports.all()):
            return ports
    raise RuntimeError("no eight consecutive free loopback ports")


@pytest.fixture(scope="session")
def cluster() -> Iterator[RunningCluster]:
    module = launcher()
    ports = _free_block(module)
    # PostgreSQL runs as its own account when the suite runs as root: the folder must be
    # reachable by it (pytest's temporary folders are not).
    folder = Path(tempfile.mkdtemp(prefix="microcred-cluster-"))
    folder.chmod(0o755)
    command = [sys.executable, "scripts/cluster.py", "--folder", str(folder), "--port"]
    settings = [f"--env={key}={value}" for key, value in CLUSTER_SETTINGS.items()]
    started = subprocess.run(
        [*command[:2], "start", *command[2:], str(ports.base), *settings],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert started.returncode == 0, started.stdout + started.stderr
    env = dict(line.split("=", 1) for line in (folder / "microcred.env").read_text().splitlines())
    tool, devlms = create_app(env), create_devlms_app(env)
    live = LiveServers(
        tool=tool,
        devlms=devlms,
        tool_url=env["MICROCRED_BASE_URL"],
        devlms_url=env["MICROCRED_DEVLMS_URL"],
        devlms_sso_url=env["MICROCRED_DEVLMS_URL"],
        devlms_account_url=env["MICROCRED_DEVLMS_URL"],
    )
    started_first = module.Cluster(folder).processes()
    parts = module.Cluster(folder)
    try:
        yield RunningCluster(folder, ports, started.stdout, env, live, parts)
    finally:
        for app in (tool, devlms):
            app.extensions["db"].dispose()
        # The processes as started, and those a test started again since (restart, roll).
        recorded = [*started_first.items(), *parts.processes().items()]
        stopped = subprocess.run(
            [*command[:2], "stop", "--folder", str(folder)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        parts._reap()  # the parts a test started again were children of this process
        left = [name for name, pid in recorded if module._alive(pid)]
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert not left, f"make cluster-stop left {left} running"
        shutil.rmtree(folder, ignore_errors=True)  # kept, with its logs, when a check failed

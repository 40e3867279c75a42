"""The scaled shape as ``make cluster`` starts it (``scripts/cluster.py``), once per session, on
loopback ports of its own, in a folder of its own; stopped at the end, by the PIDs it recorded."""

from __future__ import annotations

import importlib.util
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
from tests.support.postgres import free_port


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

    def instance_url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.ports.instances[number - 1]}"

    @property
    def stats_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.stats}"


def _free_block(module: ModuleType) -> Any:
    """Eight consecutive free loopback ports, starting where the system gave one."""
    for _ in range(50):
        ports = module.Ports(free_port())
        if ports.base + 8 < 65536 and all(module._port_free(p) for p in ports.all()):
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
    started = subprocess.run(
        [*command[:2], "start", *command[2:], str(ports.base)],
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
    recorded = module.Cluster(folder).processes()
    try:
        yield RunningCluster(folder, ports, started.stdout, env, live)
    finally:
        for app in (tool, devlms):
            app.extensions["db"].dispose()
        stopped = subprocess.run(
            [*command[:2], "stop", "--folder", str(folder)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        left = [name for name, pid in recorded.items() if module._alive(pid)]
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert not left, f"make cluster-stop left {left} running"
        shutil.rmtree(folder, ignore_errors=True)  # kept, with its logs, when a check failed

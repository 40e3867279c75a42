"""Start or stop the scaled shape on this machine: ``make cluster`` / ``make cluster-stop``.

    python scripts/cluster.py start [--port 8400] [--folder .cluster] [--env KEY=VALUE ...]
    python scripts/cluster.py stop [--folder .cluster]
    python scripts/cluster.py kill PART      # SIGKILL, as a crash: instance-1, worker-2, redis…
    python scripts/cluster.py restart PART   # start a part again (killed, or running: killed first)
    python scripts/cluster.py roll           # restart the instances one at a time, drained

HAProxy in front of two gunicorn instances of the tool, PostgreSQL, Redis as the state store,
two ``flask worker`` processes, moto's S3-compatible server for evidence, and the development
LMS, each its own process on a loopback port (``--port`` and the seven after it). The
configuration files are those in ``deploy/cluster/``; the environment every Microcred process
gets is written to ``<folder>/microcred.env``; logs go to ``<folder>/logs/``. A start begins
afresh (moto keeps its objects in memory, so keeping the database alone would leave files
without their bytes); a stop ends every process it started, by the PIDs it recorded, and keeps
the folder for its logs.

``kill`` and ``restart`` act on one part by the PID recorded for it (its process group: an
instance's gunicorn master and workers; PostgreSQL's postmaster and its backends), for trying
what a crash does (``tests/cluster/test_faults.py``); ``restart`` starts the part with the
command and environment it was first started with. ``roll`` is a rolling restart without a
failed request: each instance in turn is drained in HAProxy (its admin socket), stopped once
nothing is in flight on it (SIGTERM: gunicorn finishes what it has), started again, and put
back once it answers ``/healthz/ready``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import itertools
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "cluster"
BUCKET = "microcred-evidence"
S3_KEY, S3_SECRET = "microcred-lab", "microcred-lab-secret"
OPERATOR = "operator@example.org"
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Ports:
    """The loopback ports of one cluster: ``base`` and the seven after it."""

    base: int

    @property
    def haproxy(self) -> int:
        return self.base

    @property
    def instances(self) -> tuple[int, int]:
        return self.base + 1, self.base + 2

    @property
    def devlms(self) -> int:
        return self.base + 3

    @property
    def postgres(self) -> int:
        return self.base + 4

    @property
    def redis(self) -> int:
        return self.base + 5

    @property
    def s3(self) -> int:
        return self.base + 6

    @property
    def stats(self) -> int:
        return self.base + 7

    def all(self) -> list[int]:
        return list(range(self.base, self.base + 8))


class Cluster:
    """One cluster's folder: its processes (name → PID), environment and logs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.logs = self.folder / "logs"
        self.record = self.folder / "processes.json"
        self.commands = self.folder / "commands.json"
        """How each part was started (command, and the environment beyond this process's),
        so that ``restart`` starts it the same way; and the cluster's first port."""
        self._started: list[subprocess.Popen[bytes]] = []
        """The processes this object started: kept, and reaped once they end, so that a
        long-lived caller (the cluster tests) leaves no zombie and no handle behind."""

    # --- processes ------------------------------------------------------------------------

    def processes(self) -> dict[str, int]:
        if not self.record.exists():
            return {}
        recorded: dict[str, int] = json.loads(self.record.read_text())
        return recorded

    def _remember(self, name: str, pid: int) -> None:
        recorded = self.processes()
        recorded[name] = pid
        self.record.write_text(json.dumps(recorded, indent=2))

    def running(self) -> dict[str, int]:
        """The recorded processes that are still alive."""
        return {name: pid for name, pid in self.processes().items() if _alive(pid)}

    def started_as(self) -> dict[str, Any]:
        if not self.commands.exists():
            return {}
        recorded: dict[str, Any] = json.loads(self.commands.read_text())
        return recorded

    def _remember_start(self, name: str, how: Any) -> None:
        recorded = self.started_as()
        recorded[name] = how
        self.commands.write_text(json.dumps(recorded, indent=2))

    @property
    def ports(self) -> Ports:
        return Ports(int(self.started_as()["port"]))

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> int:
        """Start ``command`` in a session of its own (it outlives ``make``), logging to
        ``logs/<name>.log``; record its PID, and how it was started."""
        own = {k: v for k, v in env.items() if os.environ.get(k) != v or k.startswith("MICROCRED_")}
        self._remember_start(name, {"command": command, "env": own})
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._started.append(process)
        self._remember(name, process.pid)
        return process.pid

    def _reap(self) -> None:
        """Collect the exit of the processes this object started that have ended."""
        self._started = [process for process in self._started if process.poll() is None]

    def stop(self) -> list[str]:
        """End every recorded process: what serves and sends first, then the stores they use
        (SIGTERM, all of a tier at once; SIGKILL to a process's group after 30 s); return the
        names of those that were running."""
        recorded = self.processes()
        stores = {"redis", "s3", "postgres"}
        stopped: list[str] = []
        for tier in (
            [name for name in recorded if name not in stores],
            [name for name in recorded if name in stores - {"postgres"}],
        ):
            running = {name: recorded[name] for name in tier if _alive(recorded[name])}
            for pid in running.values():
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while any(_alive(pid) for pid in running.values()) and time.monotonic() < deadline:
                time.sleep(0.1)
            for pid in running.values():
                if _alive(pid):
                    os.killpg(pid, signal.SIGKILL)  # the session it was started in: its children
            stopped.extend(running)
        # By its data folder, not the recorded PID: a server restarted since has another.
        if "postgres" in recorded and _pg_running(self.folder / "postgres"):
            _pg_ctl(self.folder / "postgres", "stop", "-m", "fast")
            stopped.append("postgres")
        self.record.unlink(missing_ok=True)
        return stopped

    # --- one part ---------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """SIGKILL one part, as a crash would, and return once none of it runs: the process
        recorded for ``name`` and the session it was started in (an instance's workers), or,
        for PostgreSQL, the postmaster and every process it started (each backend is a session
        of its own)."""
        pid = self._recorded(name)
        if not _alive(pid):
            return
        if name == "postgres":
            os.kill(pid, signal.SIGSTOP)  # it starts no backend between the listing and the kill
            doomed = [pid, *_children(pid)]
            for each in doomed:
                _kill(each)
            _wait_gone(doomed, "PostgreSQL after SIGKILL")
            _wait_reaped(pid, self.folder / "postgres" / "data" / "postmaster.pid")
            return
        os.killpg(pid, signal.SIGKILL)
        _wait_gone([pid], f"{name} after SIGKILL")
        self._reap()

    def terminate(self, name: str, timeout: float = 40.0) -> None:
        """Stop one part politely (SIGTERM: gunicorn finishes the requests it has); SIGKILL
        its session if it is still there after ``timeout`` seconds."""
        pid = self._recorded(name)
        if not _alive(pid):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
            _wait_gone([pid], name)
        self._reap()

    def restart(self, name: str, settings: dict[str, str] | None = None) -> int:
        """Start one part again as it was first started (killed first if it still runs),
        with ``settings`` changed in its environment from now on; return once it answers,
        with its new PID."""
        if settings:
            how = self.started_as()[name]
            self._remember_start(name, {**how, "env": {**how["env"], **settings}})
        self.kill(name)
        ports = self.ports
        if name == "postgres":
            pid = _pg_start(self.folder / "postgres", ports.postgres)
            self._remember("postgres", pid)
            return pid
        how = self.started_as()[name]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
        pid = self.spawn(name, how["command"], {**env, **how["env"]})
        ready: dict[str, Callable[[], bool]] = {
            "redis": lambda: _listens(ports.redis),
            "s3": lambda: _listens(ports.s3),
            "devlms": lambda: _answers(f"http://127.0.0.1:{ports.devlms}/"),
            "haproxy": lambda: _listens(ports.haproxy),
        }
        for number, port in enumerate(ports.instances, start=1):
            ready[f"instance-{number}"] = partial(_answers, f"http://127.0.0.1:{port}/healthz/live")
        _wait(name, ready.get(name, partial(_alive, pid)), self, stop_on_failure=False)
        return pid

    def _recorded(self, name: str) -> int:
        recorded = self.processes()
        if name not in recorded:
            known = ", ".join(recorded) or "none: is it running?"
            raise SystemExit(f"cluster: no part named {name} (parts: {known}).")
        return recorded[name]

    # --- HAProxy ----------------------------------------------------------------------------

    def haproxy(self, command: str) -> str:
        """Send one command to HAProxy's admin socket; return its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as admin:
            admin.settimeout(5)
            admin.connect(str(self.folder / "haproxy.sock"))
            admin.sendall(command.encode() + b"\n")
            answer = b""
            while chunk := admin.recv(65536):
                answer += chunk
        return answer.decode()

    def servers(self) -> dict[tuple[str, str], dict[str, str]]:
        """HAProxy's statistics of each instance in each backend: ``("microcred", "app1")`` →
        its row (``status``: UP, DOWN, DRAIN, MAINT…; ``scur``: requests on it now…)."""
        text = self.haproxy("show stat").lstrip("# ")
        return {
            (row["pxname"], row["svname"]): row
            for row in csv.DictReader(io.StringIO(text))
            if row["pxname"] in BACKENDS and row["svname"] not in {"FRONTEND", "BACKEND"}
        }

    def set_state(self, server: str, state: str) -> None:
        """``ready``, ``drain`` or ``maint`` an instance in every backend that has it."""
        for backend in BACKENDS:
            answer = self.haproxy(f"set server {backend}/{server} state {state}").strip()
            if answer:
                raise SystemExit(f"cluster: HAProxy refused to {state} {server}: {answer}")

    def _server_is(self, server: str, check: Callable[[dict[str, str]], bool]) -> bool:
        """Whether ``check`` holds for ``server``'s row in every backend."""
        rows = [row for (_, name), row in self.servers().items() if name == server]
        return bool(rows) and all(check(row) for row in rows)

    def roll(self, say: Callable[[str], None] = print) -> None:
        """Restart every instance, one at a time, without failing a request: drain it in
        HAProxy, wait until nothing is in flight on it, stop it (SIGTERM), start it again,
        wait until it is ready, put it back, and wait until HAProxy sends it traffic before
        the next one."""
        for number, port in enumerate(self.ports.instances, start=1):
            name, server = f"instance-{number}", f"app{number}"
            took = [time.monotonic()]
            self.set_state(server, "drain")
            idle = partial(self._server_is, server, lambda row: row["scur"] == "0")
            _wait(f"{server} to finish its requests", idle, self, stop_on_failure=False)
            took.append(time.monotonic())
            self.terminate(name)
            took.append(time.monotonic())
            pid = self.restart(name)
            ready = partial(_answers, f"http://127.0.0.1:{port}/healthz/ready")
            _wait(f"{name} to be ready", ready, self, stop_on_failure=False)
            took.append(time.monotonic())
            self.set_state(server, "ready")
            up = partial(self._server_is, server, lambda row: row["status"] == "UP")
            _wait(f"HAProxy to send {server} traffic", up, self, stop_on_failure=False)
            took.append(time.monotonic())
            drained, stopped, started, back = (b - a for a, b in itertools.pairwise(took))
            say(
                f"cluster: {name} restarted (PID {pid}) and back in HAProxy in "
                f"{took[-1] - took[0]:.1f} s (drained {drained:.1f} s, stopped {stopped:.1f} s, "
                f"ready {started:.1f} s, in HAProxy again {back:.1f} s)."
            )


BACKENDS = ("microcred", "microcred_alive")
"""HAProxy's backends of the instances (deploy/cluster/haproxy.cfg): ready, and alive."""


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.kill(pid, signal.SIGKILL)


def _wait_reaped(pid: int, lock_file: Path) -> None:
    """Return once a killed postmaster is no process at all: a new one refuses to start while
    the PID in its lock file exists, and a zombie's does until its parent (here init, once
    ``pg_ctl`` has left) reaps it. A zombie not reaped within 10 s is dead all the same: its
    lock file is then removed, as an operator would after checking."""
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            lock_file.unlink(missing_ok=True)
            return
        time.sleep(0.02)


def _wait_gone(pids: list[int], what: str) -> None:
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            raise SystemExit(f"cluster: {what} is still running after 30 s.")
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


# --- PostgreSQL --------------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise SystemExit(f"cluster: PostgreSQL's {name} is missing (Debian package postgresql).")


def _as_postgres() -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` account then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _pg_ctl(folder: Path, *args: str) -> None:
    subprocess.run(
        [*_as_postgres(), _pg_bin("pg_ctl"), "-D", str(folder / "data"), *args],
        check=True,
        capture_output=True,
    )


def _pg_running(folder: Path) -> bool:
    status = subprocess.run(
        [*_as_postgres(), _pg_bin("pg_ctl"), "-D", str(folder / "data"), "status"],
        capture_output=True,
    )
    return status.returncode == 0


def _pg_start(folder: Path, port: int) -> int:
    """Start the server of ``folder`` (after a crash: it recovers from its write-ahead log
    first); return its postmaster's PID once it accepts connections."""
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder}"
    log = folder / "server.log"
    _pg_ctl(folder, "-o", options, "-l", str(log), "-w", "-t", "60", "start")
    return int((folder / "data" / "postmaster.pid").read_text().split()[0])


def start_postgres(cluster: Cluster, port: int) -> str:
    """Make and start the cluster's PostgreSQL server; return the tool's database URL."""
    folder = cluster.folder / "postgres"
    folder.mkdir()
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
    subprocess.run(
        [
            *_as_postgres(),
            _pg_bin("initdb"),
            "-D",
            str(folder / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",  # a lab on loopback; production uses passwords or certificates
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    cluster._remember("postgres", _pg_start(folder, port))
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
    ) as connection:
        connection.execute("CREATE DATABASE microcred")
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/microcred"


# --- the rest ----------------------------------------------------------------------------------


def _need(command: str, package: str) -> str:
    found = shutil.which(command)
    if found is None:
        raise SystemExit(
            f"cluster: {command} is missing: install Debian's {package} "
            "(as root, `scripts/system-deps.sh cluster` does)."
        )
    return found


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _wait(
    what: str, ready: Callable[[], bool], cluster: Cluster, *, stop_on_failure: bool = True
) -> None:
    """Poll ``ready()`` until it is true; fail naming ``what`` and the logs after a minute
    (stopping the whole cluster first, when it is being started)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.05)
    if stop_on_failure:
        cluster.stop()
    raise SystemExit(f"cluster: waited a minute for {what}; see {cluster.logs}/.")


def _answers(url: str, status: int = 200) -> bool:
    return requests.get(url, timeout=2).status_code == status


def _listens(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def backend_states(stats_url: str) -> dict[str, str]:
    """HAProxy's view of each instance in the ready backend: ``app1`` → ``UP``, ``DOWN``…"""
    text = requests.get(f"{stats_url}/;csv", timeout=2).text.lstrip("# ")
    return {
        row["svname"]: row["status"]
        for row in csv.DictReader(io.StringIO(text))
        if row["pxname"] == "microcred" and row["svname"] not in {"FRONTEND", "BACKEND"}
    }


def environment(
    cluster: Cluster, ports: Ports, database_url: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """What every Microcred process of the cluster is given (also written to microcred.env);
    ``extra`` (``--env``) adds or replaces settings."""
    return {
        "MICROCRED_ENV": "production",
        "MICROCRED_ALLOW_HTTP": "true",  # a lab on loopback: production uses https
        "MICROCRED_SECRET_KEY": secrets.token_urlsafe(48),
        "MICROCRED_INSTANCE_PATH": str(cluster.folder / "instance"),
        "MICROCRED_BASE_URL": f"http://127.0.0.1:{ports.haproxy}",
        "MICROCRED_DATABASE_URL": database_url,
        "MICROCRED_DATABASE_POOL_SIZE": "4",
        "MICROCRED_STATE_STORE": "redis",
        "MICROCRED_REDIS_URL": f"redis://127.0.0.1:{ports.redis}/0",
        "MICROCRED_EVIDENCE_STORE": "s3",
        "MICROCRED_S3_ENDPOINT_URL": f"http://127.0.0.1:{ports.s3}",
        "MICROCRED_S3_BUCKET": BUCKET,
        "MICROCRED_S3_ACCESS_KEY_ID": S3_KEY,
        "MICROCRED_S3_SECRET_ACCESS_KEY": S3_SECRET,
        "MICROCRED_WORKER_THREADS": "8",
        "MICROCRED_DEVLMS_ENABLED": "true",
        "MICROCRED_DEVLMS_URL": f"http://127.0.0.1:{ports.devlms}",
        "MICROCRED_LOG_LEVEL": "INFO",
        **(extra or {}),
    }


def start(cluster: Cluster, ports: Ports, extra: dict[str, str] | None = None) -> None:
    if cluster.running():
        print(f"cluster: already running ({cluster.record}); `make cluster-stop` ends it.")
        print_urls(cluster, ports)
        return
    haproxy = _need("haproxy", "haproxy")
    redis_server = _need("redis-server", "redis-server")
    taken = [port for port in ports.all() if not _port_free(port)]
    if taken:
        raise SystemExit(
            f"cluster: loopback ports {taken} are in use; choose others with "
            f"`make cluster CLUSTER_PORT=...` (it uses {ports.base}-{ports.base + 7})."
        )
    if cluster.folder.exists():
        shutil.rmtree(cluster.folder)
    cluster.logs.mkdir(parents=True)
    (cluster.folder / "redis").mkdir()
    cluster._remember_start("port", ports.base)

    database_url = start_postgres(cluster, ports.postgres)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env = {**base_env, **environment(cluster, ports, database_url, extra)}
    (cluster.folder / "microcred.env").write_text(
        "".join(f"{k}={v}\n" for k, v in env.items() if k.startswith("MICROCRED_"))
    )

    cluster.spawn(
        "redis",
        [
            redis_server,
            str(DEPLOY / "redis.conf"),
            "--port",
            str(ports.redis),
            "--dir",
            str(cluster.folder / "redis"),
        ],
        env,
    )
    python = sys.executable
    cluster.spawn("s3", [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(ports.s3)], env)
    _wait("Redis", lambda: _listens(ports.redis), cluster)
    _wait("moto's S3 server", lambda: _listens(ports.s3), cluster)
    import boto3

    boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{ports.s3}",
        region_name="us-east-1",
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
    ).create_bucket(Bucket=BUCKET)

    flask = [python, "-m", "flask", "--app", "app"]
    for command in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run([*flask, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    password = secrets.token_urlsafe(12)
    operator = ["operator", "create", "--email", OPERATOR, "--name", "Lab operator"]
    subprocess.run(
        [*flask, *operator, "--password-stdin"],
        env=env,
        cwd=ROOT,
        input=password.encode(),
        check=True,
        capture_output=True,
    )
    (cluster.folder / "operator-password").write_text(password + "\n")

    gunicorn = [python, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py")]
    for number, port in enumerate(ports.instances, start=1):
        cluster.spawn(f"instance-{number}", [*gunicorn, "-b", f"127.0.0.1:{port}"], env)
    cluster.spawn(
        "devlms",
        [
            python,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "--threads",
            "8",
            "-b",
            f"127.0.0.1:{ports.devlms}",
            "app.devlms:create_devlms_app()",
        ],
        env,
    )
    worker_env = {**env, "MICROCRED_DATABASE_POOL_SIZE": "8"}
    for number in (1, 2):
        cluster.spawn(f"worker-{number}", [*flask, "worker"], worker_env)
    haproxy_env = {
        **env,
        "MICROCRED_LISTEN": f"127.0.0.1:{ports.haproxy}",
        "MICROCRED_INSTANCE_1": f"127.0.0.1:{ports.instances[0]}",
        "MICROCRED_INSTANCE_2": f"127.0.0.1:{ports.instances[1]}",
        "MICROCRED_HAPROXY_STATS": f"127.0.0.1:{ports.stats}",
        "MICROCRED_HAPROXY_SOCKET": str(cluster.folder / "haproxy.sock"),
        "MICROCRED_HAPROXY_ERRORS": str(DEPLOY / "errors"),
    }
    cluster.spawn("haproxy", [haproxy, "-f", str(DEPLOY / "haproxy.cfg")], haproxy_env)

    stats = f"http://127.0.0.1:{ports.stats}"
    _wait(
        "HAProxy with both instances ready",
        lambda: set(backend_states(stats).values()) == {"UP"},
        cluster,
    )
    _wait("the development LMS", lambda: _answers(f"http://127.0.0.1:{ports.devlms}/"), cluster)
    print_urls(cluster, ports)


def print_urls(cluster: Cluster, ports: Ports) -> None:
    password_file = cluster.folder / "operator-password"
    password = password_file.read_text().strip() if password_file.exists() else "?"
    instances = " and ".join(f"127.0.0.1:{port}" for port in ports.instances)
    print(
        f"""
Microcred's scaled shape is up (HAProxy, 2 instances, 2 workers, PostgreSQL, Redis, S3):

  Open http://127.0.0.1:{ports.devlms}/ (the development LMS), act as a user, open the course
  and launch: the tool answers through HAProxy at http://127.0.0.1:{ports.haproxy}/.

  Console   http://127.0.0.1:{ports.haproxy}/admin/   {OPERATOR} / {password}
  HAProxy   http://127.0.0.1:{ports.stats}/   (instances: {instances})
  Ready     http://127.0.0.1:{ports.haproxy}/healthz/ready
  Files     {cluster.folder}/  (microcred.env, logs/)

Stop it with `make cluster-stop`.""".strip("\n")
    )


def _setting(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key.startswith("MICROCRED_"):
        raise argparse.ArgumentTypeError(f"{text!r}: give MICROCRED_NAME=value")
    return key, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop", "kill", "restart", "roll"])
    parser.add_argument("part", nargs="?", help="kill, restart: the part (e.g. instance-1)")
    parser.add_argument("--port", type=int, default=8400, help="first of eight loopback ports")
    parser.add_argument("--folder", type=Path, default=ROOT / ".cluster")
    parser.add_argument(
        "--env",
        type=_setting,
        action="append",
        default=[],
        metavar="MICROCRED_NAME=value",
        help="start: a setting for every Microcred process (e.g. a shorter worker lease)",
    )
    args = parser.parse_args()
    cluster = Cluster(args.folder)
    if args.action in {"kill", "restart"} and not args.part:
        parser.error(f"{args.action} needs the part: {', '.join(cluster.processes())}")
    if args.action == "start":
        start(cluster, Ports(args.port), dict(args.env))
        return
    if args.action == "kill":
        cluster.kill(args.part)
        print(f"cluster: killed {args.part}.")
        return
    if args.action == "restart":
        print(f"cluster: {args.part} runs again (PID {cluster.restart(args.part)}).")
        return
    if args.action == "roll":
        cluster.roll()
        return
    stopped = cluster.stop()
    print(f"cluster: stopped {', '.join(stopped)}." if stopped else "cluster: nothing running.")


if __name__ == "__main__":
    main()

"""Benchmark: the scaled shape (``make cluster``) through HAProxy, with two instances and one.

It starts the cluster of ``scripts/cluster.py`` on free loopback ports of its own (HAProxy, two
gunicorn instances of 2 processes of 4 threads, PostgreSQL, Redis, two ``flask worker``
processes, moto's S3 server, the development LMS) and, with both instances in HAProxy and then
with instance 2 taken out (``set server … state maint`` on HAProxy's admin socket), runs:

- **launches**: each a new browser and a new learner, the whole way through the development
  LMS (``bench/launch.py``'s): 2 requests to the tool through HAProxy;
- **autosaves**: launched educators, each in a workspace of their own, saving their growing
  answer quoting the version the last save returned (``bench/drafts.py``'s): 1 request each.

Then, once, **scores**: ``--scores`` decided scores made due at once, sent by the two workers to
the development LMS's gradebook (``bench/ags.py``'s); the instances play no part in it.

For each phase it prints requests (launches, saves, scores) per second, p50/p95, and the CPU
time per request of every process of the cluster from /proc (``bench/launch.py``'s helpers):
each instance (gunicorn's master and workers), PostgreSQL's backends for the tool and the
workers with the server's own processes, PostgreSQL's backends for the development LMS (which
connects as a role of its own), Redis, HAProxy, each worker, the development LMS, moto's S3,
this load generator, and the machine's *other* CPU as a share of all its cores (a busy machine
shows there). It ends by saying what figures from one machine of shared cores can and cannot
tell about several machines.

    .venv/bin/pip install -e '.[cluster]'
    .venv/bin/python bench/cluster.py [--launches 200] [--saves 600] [--scores 1000] \\
        [--concurrency 8]

The script prints and never asserts.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

PROCESSES = ("instance-1", "instance-2", "redis", "haproxy", "worker-1", "worker-2", "devlms", "s3")
COLUMNS = [
    ("instance-1", "inst 1"),
    ("instance-2", "inst 2"),
    ("pg", "PG"),
    ("redis", "Redis"),
    ("haproxy", "HAProxy"),
    ("worker-1", "wkr 1"),
    ("worker-2", "wkr 2"),
    ("devlms", "LMS"),
    ("lms_pg", "LMS PG"),
    ("s3", "S3"),
    ("load", "load"),
]


def launcher() -> ModuleType:
    """``scripts/cluster.py`` as a module."""
    spec = importlib.util.spec_from_file_location(
        "cluster_launcher", ROOT / "scripts" / "cluster.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["cluster_launcher"] = module
    spec.loader.exec_module(module)
    return module


def free_base(module: ModuleType) -> int:
    """Eight free loopback ports below the ephemeral range (as the cluster tests choose)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(50):
        base = random.randrange(10000, low - 8)
        if all(module._port_free(p) for p in module.Ports(base).all()):
            return base
    raise SystemExit("no eight free loopback ports")


@dataclass
class Phase:
    name: str
    rate: float
    p50: float
    p95: float
    cpu: dict[str, float]
    """CPU ms per request, by process (``COLUMNS``)."""
    other: float
    """The machine's other CPU, % of all its cores."""


class PostgresSampler:
    """PostgreSQL's CPU during a phase, by side (``pg``: the tool's backends, the workers' and
    the server's own processes; ``lms_pg``: the development LMS's backends), read every 0.2 s
    in a thread, each process's last reading kept: a backend that ends during the phase (a
    pool's extra connection) is counted on its own side, where the postmaster's total of its
    ended children would put it on the tool's."""

    def __init__(self, postmaster: int) -> None:
        self.postmaster = postmaster
        self.first: dict[int, tuple[str, float]] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def read(self) -> dict[int, tuple[str, float]]:
        from bench.launch import LMS_ROLE, TICK, _stat

        found: dict[int, tuple[str, float]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = _stat(stat)
                pid = int(stat.parent.name)
                if pid != self.postmaster and int(fields[1]) != self.postmaster:
                    continue
                title = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            lms = title.startswith(f"postgres: {LMS_ROLE} ".encode())
            found[pid] = ("lms_pg" if lms else "pg", (int(fields[11]) + int(fields[12])) / TICK)
        return found

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.last.update(self.read())

    def start(self) -> None:
        self.first = self.read()
        self.last = dict(self.first)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self.last.update(self.read())
        used = {"pg": 0.0, "lms_pg": 0.0}
        for pid, (side, seconds) in self.last.items():
            used[side] += seconds - self.first.get(pid, (side, 0.0))[1]
        return used


class Meter:
    """CPU seconds of every process of the cluster, this load generator and the machine."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster

    def snapshot(self) -> dict[str, float]:
        from bench.launch import cpu_seconds, machine_cpu_seconds, own_cpu_seconds

        pids = self.cluster.processes()
        return {
            **{name: cpu_seconds(pids[name]) for name in PROCESSES},
            "load": own_cpu_seconds(),
            "machine": machine_cpu_seconds(),
        }

    def measure(self, name: str, count: int, work: Callable[[], list[float]]) -> Phase:
        """Run ``work`` (``count`` requests; it returns their latencies) and take the CPU each
        process spent on it."""
        from bench.launch import pct

        postgres = PostgresSampler(self.cluster.processes()["postgres"])
        before = self.snapshot()
        postgres.start()
        started = time.perf_counter()
        latencies = sorted(work())
        elapsed = time.perf_counter() - started
        after = self.snapshot()
        used = {key: after[key] - before[key] for key in before}
        used.update(postgres.stop())
        machine = used.pop("machine")
        other = max(0.0, machine - sum(used.values()))
        return Phase(
            name=name,
            rate=count / elapsed,
            p50=statistics.median(latencies) * 1000 if latencies else float("nan"),
            p95=pct(latencies, 0.95) if latencies else float("nan"),
            cpu={key: seconds / count * 1000 for key, seconds in used.items()},
            other=other / (elapsed * (os.cpu_count() or 1)) * 100,
        )


def print_header() -> None:
    print(
        f"{'instances':<9} {'phase':<9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        + " ".join(f"{label:>7}" for _key, label in COLUMNS)
        + f" {'other':>6}"
    )


def print_phase(instances: str, phase: Phase) -> None:
    print(
        f"{instances:<9} {phase.name:<9} {phase.rate:>7.1f} {phase.p50:>7.1f} {phase.p95:>7.1f} "
        + " ".join(f"{phase.cpu.get(key, 0.0):>7.2f}" for key, _label in COLUMNS)
        + f" {phase.other:>5.0f}%"
    )


def lms_role(env: dict[str, str], cluster: Any) -> None:
    """Make the development LMS connect to PostgreSQL as a role of its own, so that its
    backends' CPU is told apart from the tool's (``bench/launch.py``'s ``LMS_ROLE``)."""
    import psycopg

    from bench.launch import LMS_ROLE

    port = cluster.ports.postgres
    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
    ) as connection:
        connection.execute(f"CREATE ROLE {LMS_ROLE} SUPERUSER LOGIN")
    url = env["MICROCRED_DATABASE_URL"].replace("postgres@", f"{LMS_ROLE}@", 1)
    cluster.restart("devlms", {"MICROCRED_DATABASE_URL": url})


def seed(
    env: dict[str, str], learners: int, educators: int
) -> tuple[list[int], int, list[int], int]:
    """Learners to launch, a welcome link, educators and a link to the credential they
    autosave for; return their LMS ids and the links' ids."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from app.devlms.models import DevCourse, DevLink, DevTool
    from bench.drafts import SLUG
    from bench.launch import enrol_learners, first_link

    engine = create_engine(env["MICROCRED_DATABASE_URL"])
    with Session(engine) as session:
        launching = enrol_learners(session, "launcher", learners)
        saving = enrol_learners(session, "saver", educators)
        welcome = first_link(session)
        course = session.scalars(select(DevCourse)).first()
        tool = session.scalars(select(DevTool)).one()
        assert course is not None
        link = DevLink(
            course_id=course.id,
            tool_id=tool.id,
            resource_link_id=uuid.uuid4().hex,
            title="Micro-credential: Questioning to Check for Understanding",
            custom={"microcred_credential": SLUG, "microcred_version": "latest"},
        )
        session.add(link)
        session.commit()
        link_id = link.id
    engine.dispose()
    return launching, welcome, saving, link_id


def launches(lms: str, users: list[int], link: int, count: int, concurrency: int) -> list[float]:
    from bench.launch import launch, run

    turn = iter(range(10**9))
    lock = threading.Lock()

    def one(_n: int) -> float:
        with lock:
            user = users[next(turn) % len(users)]
        return launch(lms, user, link)

    return run(count, concurrency, one)[1]


def autosaves(educators: list[Any], count: int, concurrency: int) -> list[float]:
    """``count`` saves by ``concurrency`` clients, each saving as an educator of its own."""
    from bench.launch import run

    local = threading.local()
    pool = iter(educators)
    lock = threading.Lock()

    def one(_n: int) -> float:
        if not hasattr(local, "educator"):
            with lock:
                local.educator = next(pool)
        took, status = local.educator.save()
        if status != 200:
            raise SystemExit(f"an autosave answered {status}")
        return float(took)

    return run(count, concurrency, one)[1]


def scores(env: dict[str, str], total: int) -> list[float]:
    """Make every score due; wait until the workers have delivered them all; return each
    one's lag from its decision to the LMS's taking it."""
    from sqlalchemy import create_engine

    from bench.ags import lags, make_due, progress

    engine = create_engine(env["MICROCRED_DATABASE_URL"])
    make_due(engine)
    deadline = time.monotonic() + 900
    while True:
        done, _pending, failed = progress(engine)
        if done + failed >= total or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # between readings of the progress
    found = lags(engine)
    engine.dispose()
    if failed:
        print(f"({failed} scores failed)")
    return found


def set_instances(cluster: Any, count: int) -> None:
    """Two instances in HAProxy, or one (instance 2 out: ``maint``); wait until HAProxy says
    so."""
    cluster.set_state("app2", "ready" if count == 2 else "maint")
    want = "UP" if count == 2 else "MAINT"
    deadline = time.monotonic() + 60
    while not cluster._server_is("app2", lambda row: row["status"] == want):
        if time.monotonic() > deadline:
            raise SystemExit(f"HAProxy did not show app2 {want}")
        time.sleep(0.1)  # between readings of HAProxy's state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=200, help="per phase")
    parser.add_argument("--saves", type=int, default=600, help="per phase")
    parser.add_argument("--scores", type=int, default=1000, help="a multiple of 50")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.ags import seed as seed_scores
    from bench.drafts import prepare
    from bench.launch import launch

    module = launcher()
    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-cluster-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own account when this runs as root
    base = free_base(module)
    script = [sys.executable, str(ROOT / "scripts" / "cluster.py"), "--folder", str(folder)]
    subprocess.run([*script, "start", "--port", str(base)], check=True, capture_output=True)
    cluster = module.Cluster(folder)
    try:
        env = dict(
            line.split("=", 1) for line in (folder / "microcred.env").read_text().splitlines()
        )
        env = {**os.environ, **env}
        lms, tool = env["MICROCRED_DEVLMS_URL"], env["MICROCRED_BASE_URL"]
        lms_role(env, cluster)
        seed_scores(env, columns=50, learners=args.scores // 50)
        launching, welcome, saving, credential_link = seed(env, 400, args.concurrency * 2)
        launch(lms, launching[0], welcome)  # each instance warm: keys made, platform keys cached
        launch(lms, launching[1], welcome)
        meter = Meter(cluster)
        print(
            f"Microcred's scaled shape through HAProxy: 2 instances (gunicorn, 2 processes of 4 "
            f"threads each), PostgreSQL 15, Redis, 2 workers (8 threads), moto's S3, the "
            f"development LMS; loopback, {os.cpu_count()} CPUs shared by all of them and this "
            f"load generator; {args.concurrency} clients; {args.launches} launches and "
            f"{args.saves} autosaves per phase, {args.scores} scores"
        )
        print(
            "CPU ms per request (a launch, a save, a score) of each process: inst = an "
            "instance's gunicorn (master and workers), PG = PostgreSQL for the tool and the "
            "workers (and the server's own processes), Redis, HAProxy, wkr = a flask worker, "
            "LMS = the development LMS, LMS PG = PostgreSQL's backends for the LMS, S3 = moto, "
            "load = this load generator; other = the rest of the machine, % of all cores"
        )
        print_header()
        for count in (2, 1):
            set_instances(cluster, count)
            # Educators of their own for each number of instances: their attempts are fresh.
            mine = saving[(count - 1) * args.concurrency :][: args.concurrency]
            educators = prepare(tool, lms, mine, credential_link)
            label = f"{count}"
            print_phase(
                label,
                meter.measure(
                    "launch",
                    args.launches,
                    lambda: launches(lms, launching, welcome, args.launches, args.concurrency),
                ),
            )
            print_phase(
                label,
                meter.measure(
                    "autosave",
                    args.saves,
                    lambda educators=educators: autosaves(educators, args.saves, args.concurrency),
                ),
            )
        set_instances(cluster, 2)
        print_phase("2", meter.measure("score", args.scores, lambda: scores(env, args.scores)))
        print(
            "A launch is 2 requests to the tool through HAProxy and 3 to the LMS; a save is 1; "
            "a score is the workers' one request to the LMS's gradebook (p50/p95 of a score: "
            "from its decision to the LMS's taking it, all made due at once)."
        )
        print(WHAT_TWO_CORES_SHOW)
    finally:
        subprocess.run([*script, "stop"], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


WHAT_TWO_CORES_SHOW = """
What two shared cores can show, and what they cannot:
- Every process here shares the same cores, so a second instance adds processes, not CPU.
  What it may change is how well the two cores are used (two more Python processes, each
  with its own interpreter lock), not how many requests there is CPU for. So one instance
  against two can show whether a request costs more when there are two (state to share, a
  cache cold on one and warm on the other) and what HAProxy's hop costs; it cannot show
  throughput growing with machines.
- The CPU per request of each part is what carries to more machines: a core serves about
  1000 ÷ (inst 1 + inst 2) requests/s of the instances, 1000 ÷ PG of PostgreSQL, and so on.
  Sizing several machines is dividing their cores by these figures; PostgreSQL's is the one
  that does not spread over machines.
- What it cannot show: latency between hosts (everything here is loopback; a network hop adds
  about 0.1-1 ms per call and an instance makes several to PostgreSQL and Redis per request),
  PostgreSQL with many instances' connections and its disk under real load, HAProxy's
  limits (it uses almost nothing here), and the LMS's own capacity (the development LMS is a
  stand-in, its CPU is not the tool's).
""".rstrip()


if __name__ == "__main__":
    main()

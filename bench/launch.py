"""Benchmark: full LTI launches against the development LMS, over loopback, in floors.

The tool runs under gunicorn (2 workers) on a throwaway PostgreSQL server, the development LMS
under its own gunicorn; each simulated client is a new browser (a fresh HTTP session) and a new
user. A launch is: the LMS's login initiation page → the tool's login (bridge page) → the LMS's
OIDC authorization (a signed id_token) → the tool's launch (every check), which answers with the
launch's first page. In the same run, at each number of clients, it measures two floors, each
one request that only verifies a posted id_token: the *bare floor*, a minimal Flask app outside
the tool under its own gunicorn (``bench/bare_floor.py``), and the *in-app floor*, an endpoint
on the tool's own server (``bench/floor.py``), which pays the tool's per-request overhead.

For each phase it prints requests (or launches) per second, p50/p95, and the CPU time per
request of each process from /proc: the app under test (the tool or the bare floor), PostgreSQL
(the postmaster and its backends), the development LMS and this load generator, and the
machine's *other* CPU (total from /proc/stat minus every process measured, as a share of all
cores), so a busy machine is visible. Then the ratios that travel between machines: a launch's
tool + PostgreSQL CPU ÷ the bare floor's CPU, and the in-app floor's ÷ the bare floor's (the
per-request overhead).

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/launch.py [--launches 300] [--concurrency 1,8]

On 2 cores the load generator, the tool, the LMS and PostgreSQL share the CPUs: at more
concurrent clients than cores latency is bounded by Little's law (latency ≈ concurrency ÷
throughput), so compare the CPU per launch and its ratio to the floor, not the raw latency.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 400
SECRET = "bench-secret-key-0123456789-0123456789-0123456789"


TICK = os.sysconf("SC_CLK_TCK")


def _stat(path: Path) -> list[str]:
    """The fields of a /proc stat line after the command name (field 3 onwards)."""
    return path.read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children: gunicorn's master and workers, PostgreSQL's
    postmaster and backends (with the children it has reaped, a backend that ended)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = _stat(stat)
        except OSError:
            continue
        if int(stat.parent.name) == pid:
            total += sum(int(f) for f in fields[11:15]) / TICK
        elif int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


LMS_ROLE = "devlms"
"""The development LMS connects to PostgreSQL as a role of its own, so that its backends' CPU
is told apart from the tool's (a backend's process title names its role)."""


def postgres_cpu_seconds(postmaster: int) -> dict[str, float]:
    """PostgreSQL's CPU time: ``pg``, the tool's backends with the server's own processes
    (postmaster, WAL writer, checkpointer, autovacuum: shared work, counted as the tool's);
    ``lms_pg``, the development LMS's backends."""
    total = {"pg": 0.0, "lms_pg": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = _stat(stat)
            pid = int(stat.parent.name)
            if pid == postmaster:
                total["pg"] += sum(int(f) for f in fields[11:15]) / TICK
            elif int(fields[1]) == postmaster:
                title = (stat.parent / "cmdline").read_bytes()
                side = "lms_pg" if title.startswith(f"postgres: {LMS_ROLE} ".encode()) else "pg"
                total[side] += (int(fields[11]) + int(fields[12])) / TICK
        except OSError:
            continue
    return total


def own_cpu_seconds() -> float:
    """This process's CPU time (the load generator's threads), without the servers it
    started."""
    fields = _stat(Path(f"/proc/{os.getpid()}/stat"))
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_cpu_seconds() -> float:
    """CPU time every core spent busy (not idle, not waiting for I/O), from /proc/stat."""
    line = Path("/proc/stat").read_text().splitlines()[0].split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in line[1:9])
    return (user + nice + system + irq + softirq + steal) / TICK


def wait_up(url: str) -> None:
    for _ in range(300):
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def serve(
    processes: dict[str, subprocess.Popen[bytes]],
    name: str,
    port: int,
    target: str,
    options: list[str],
    env: dict[str, str],
    log: Path,
) -> None:
    """Start ``target`` under gunicorn (with ``options``) on a loopback port, as ``name``."""
    processes[name] = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *options, "-b", f"127.0.0.1:{port}", target],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """End the servers this benchmark started."""
    for process in processes.values():
        process.terminate()
        process.wait(timeout=20)


def seed(env: dict[str, str]) -> tuple[list[int], int]:
    """Migrate, seed the demo, add learners; return learner ids and the link to launch."""
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for command in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run([*flask, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(env["MICROCRED_DATABASE_URL"])
    with Session(engine) as session:
        ids, link = enrol_learners(session, "bench"), first_link(session)
        session.commit()
    engine.dispose()
    assert link is not None
    return ids, link


def act_as(http: requests.Session, lms: str, user_id: int) -> None:
    """Sign the browser in to the LMS as ``user_id``.

    The LMS answers with a redirect to its home page (every user, every tool), which is not
    part of a launch: it is not followed, so the LMS's CPU per launch counts only the sign-in."""
    answer = http.post(
        f"{lms}/act-as", data={"user_id": user_id}, timeout=60, allow_redirects=False
    )
    if answer.status_code != 302:
        raise SystemExit(f"act-as failed: {answer.status_code}")


def enrol_learners(session: Any, prefix: str, count: int = LEARNERS) -> list[int]:
    """Enrol ``count`` new learners (subs ``<prefix>-<n>``) in the demo course; return their LMS
    ids (flushed, not committed)."""
    from sqlalchemy import select

    from app.devlms.models import DevCourse, DevEnrolment, DevUser

    course = session.scalars(select(DevCourse)).one()
    for n in range(count):
        user = DevUser(
            sub=f"{prefix}-{n}",
            given_name="Bench",
            family_name=f"Learner {n}",
            email=f"{prefix}{n}@example.edu",
        )
        session.add(user)
        session.flush()
        session.add(DevEnrolment(course_id=course.id, user_id=user.id, role="Learner"))
    session.flush()
    return list(session.scalars(select(DevUser.id).where(DevUser.sub.like(f"{prefix}-%"))))


def first_link(session: Any) -> int:
    """The development LMS's first course link (the demo's activity)."""
    from sqlalchemy import select

    from app.devlms.models import DevLink

    link = session.scalars(select(DevLink.id).order_by(DevLink.id)).first()
    assert link is not None
    return int(link)


def launch(lms: str, user_id: int, link_id: int) -> float:
    from tests.support.lms import bridge_data, forms, submit

    http = requests.Session()  # a new browser
    act_as(http, lms, user_id)
    started = time.perf_counter()
    initiation = forms(http.get(f"{lms}/launch/link/{link_id}", timeout=60).text)[0]
    login = submit(http, lms, initiation)
    auth = http.get(bridge_data(login.text)["next"], timeout=60)
    page = submit(http, auth.url, forms(auth.text)[0])
    took = time.perf_counter() - started
    if page.status_code != 200 or "Welcome," not in page.text:
        raise SystemExit(f"launch failed: {page.status_code} {page.text[:300]}")
    return took


def id_token(lms: str, user_id: int, link_id: int) -> str:
    from tests.support.lms import bridge_data, forms, submit

    http = requests.Session()
    act_as(http, lms, user_id)
    login = submit(http, lms, forms(http.get(f"{lms}/launch/link/{link_id}", timeout=60).text)[0])
    auth = http.get(bridge_data(login.text)["next"], timeout=60)
    return forms(auth.text)[0].fields["id_token"]


def run(count: int, concurrency: int, job: Callable[[int], float]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    jobs = iter(range(count))

    def worker() -> None:
        while True:
            with lock:
                n = next(jobs, None)
            if n is None:
                return
            took = job(n)
            with lock:
                latencies.append(took)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sorted(latencies)


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, round(p * (len(values) - 1)))] * 1000


def jwks_fetches(log: Path) -> int:
    return sum(1 for line in log.read_text().splitlines() if '"path": "/jwks"' in line)


@dataclass
class Phase:
    """One phase's figures: rate, latency, and CPU ms per request of each process measured."""

    rate: float
    p50: float
    p95: float
    cpu: dict[str, float]
    """CPU ms per request (or launch) by process: ``app`` (the server under test), ``pg``
    (PostgreSQL but the LMS's backends), ``lms``, ``lms_pg`` (the LMS's backends), ``load``
    (this load generator)."""
    other: float
    """The machine's other CPU during the phase, as a share of all its cores (%)."""

    @property
    def app_and_pg(self) -> float:
        return self.cpu["app"] + self.cpu["pg"]


def measure(
    count: int,
    concurrency: int,
    job: Callable[[int], float],
    app_pid: int,
    pids: dict[str, int],
) -> Phase:
    """Run ``job`` ``count`` times with ``concurrency`` clients; return the phase's figures,
    the server under test (``app_pid``) as ``app``."""

    def snapshot() -> dict[str, float]:
        return {
            "app": cpu_seconds(app_pid),
            "lms": cpu_seconds(pids["lms"]),
            **postgres_cpu_seconds(pids["pg"]),
            "load": own_cpu_seconds(),
            "machine": machine_cpu_seconds(),
        }

    before = snapshot()
    elapsed, latencies = run(count, concurrency, job)
    after = snapshot()
    used = {name: after[name] - before[name] for name in before}
    others = max(0.0, used.pop("machine") - sum(used.values()))
    return Phase(
        rate=count / elapsed,
        p50=statistics.median(latencies) * 1000,
        p95=pct(latencies, 0.95),
        cpu={name: seconds / count * 1000 for name, seconds in used.items()},
        other=others / (elapsed * (os.cpu_count() or 1)) * 100,
    )


def lms_database(pg: Any, env: dict[str, str]) -> str:
    """The tool's database URL as the LMS's own role (``LMS_ROLE``)."""
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres", autocommit=True
    ) as connection:
        connection.execute(f"CREATE ROLE {LMS_ROLE} SUPERUSER LOGIN")
    return env["MICROCRED_DATABASE_URL"].replace("postgres@", f"{LMS_ROLE}@", 1)


def registration_of(env: dict[str, str]) -> tuple[str, str]:
    """The demo registration's client id and platform key set URL (for the bare floor)."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from app.lti.models import Registration

    engine = create_engine(env["MICROCRED_DATABASE_URL"])
    with Session(engine) as session:
        registration = session.scalars(select(Registration)).one()
        found = registration.client_id, registration.key_set_url
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=300, help="per phase and concurrency")
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import free_port, start_postgres

    pg = start_postgres()
    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-"))
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        tool_port, lms_port, bare_port = free_port(), free_port(), free_port()
        tool, lms = f"http://127.0.0.1:{tool_port}", f"http://127.0.0.1:{lms_port}"
        bare = f"http://127.0.0.1:{bare_port}"
        env = {
            **os.environ,
            "MICROCRED_DATABASE_URL": pg.create_database("microcred_bench"),
            "MICROCRED_INSTANCE_PATH": str(folder),
            "MICROCRED_SECRET_KEY": SECRET,
            "MICROCRED_BASE_URL": tool,
            "MICROCRED_DEVLMS_URL": lms,
            "MICROCRED_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
        user_ids, link_id = seed(env)
        lms_env = {**env, "MICROCRED_DATABASE_URL": lms_database(pg, env)}
        client_id, key_set_url = registration_of(env)
        bare_env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "BARE_FLOOR_JWKS_URL": key_set_url,
            "BARE_FLOOR_AUDIENCE": client_id,
        }
        options = ["-w", str(args.workers), "--backlog", "256"]
        logs = {name: folder / f"{name}.log" for name in ("tool", "devlms", "bare")}
        for name, port, target, server_env in (
            ("tool", tool_port, "bench.floor:create_floor_app()", env),
            ("devlms", lms_port, "app.devlms:create_devlms_app()", lms_env),
            ("bare", bare_port, "bench.bare_floor:app", bare_env),
        ):
            serve(processes, name, port, target, options, server_env, logs[name])
        wait_up(f"{tool}/healthz")
        wait_up(f"{lms}/")
        wait_up(f"{bare}/")
        launch(lms, user_ids[0], link_id)  # warm: keys made, platform JWKS cached
        tokens = [id_token(lms, user_ids[n], link_id) for n in range(20)]

        print(
            f"Microcred launch benchmark: tool, LMS and bare floor under gunicorn "
            f"({args.workers} workers each), PostgreSQL 15, loopback, {os.cpu_count()} CPUs, "
            f"{args.launches} requests or launches per phase, a new browser and user per launch"
        )
        print(
            "CPU ms per request (floors) or per launch: app = the server under test (the bare "
            "floor's own app, or the tool), PG = PostgreSQL's work for it (and the server's "
            "own processes), LMS = the development LMS, LMS PG = PostgreSQL's backends for the "
            "LMS, load = this load generator; other = the machine's other CPU, % of all cores"
        )
        header = (
            f"{'clients':>7} {'phase':<12} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
            f"{'app CPU':>7} {'PG CPU':>6} {'app+PG':>6} {'LMS CPU':>7} {'LMS PG':>6} "
            f"{'load':>5} {'other':>6}"
        )
        next_user = iter(range(1, 10**9))
        pids = {"pg": pg.pid, "lms": processes["devlms"].pid}
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            print(header)
            phases: dict[str, Phase] = {}
            for name, url, server in (
                ("bare floor", f"{bare}/verify", "bare"),
                ("in-app floor", f"{tool}/bench/verify", "tool"),
            ):
                phases[name] = measure(
                    args.launches,
                    concurrency,
                    verifier(url, tokens),
                    processes[server].pid,
                    pids,
                )
            fetched = jwks_fetches(logs["devlms"])

            def full(n: int) -> float:
                return launch(lms, user_ids[next(next_user) % len(user_ids)], link_id)

            phases["launch"] = measure(
                args.launches, concurrency, full, processes["tool"].pid, pids
            )
            per_1000 = (jwks_fetches(logs["devlms"]) - fetched) * 1000 / args.launches
            for name, phase in phases.items():
                print(
                    f"{concurrency:>7} {name:<12} {phase.rate:>7.1f} {phase.p50:>7.1f} "
                    f"{phase.p95:>7.1f} {phase.cpu['app']:>7.2f} {phase.cpu['pg']:>6.2f} "
                    f"{phase.app_and_pg:>6.2f} {phase.cpu['lms']:>7.2f} "
                    f"{phase.cpu['lms_pg']:>6.2f} "
                    f"{phase.cpu['load']:>5.1f} {phase.other:>5.0f}%"
                )
            bare_cpu = phases["bare floor"].app_and_pg
            print(
                f"{concurrency:>7} launch (tool+PG) ÷ bare floor: "
                f"{phases['launch'].app_and_pg / bare_cpu:.1f} "
                f"(tool {phases['launch'].cpu['app'] / bare_cpu:.1f}, "
                f"PG {phases['launch'].cpu['pg'] / bare_cpu:.1f}); "
                f"in-app floor ÷ bare floor: {phases['in-app floor'].app_and_pg / bare_cpu:.1f}; "
                f"JWKS fetches per 1000 launches: {per_1000:.1f}"
            )
        print(
            "A launch is 2 tool requests (login, and the launch answering with its page) and 3 LMS "
            "requests (initiation, authorization, and the browser's act-as outside the "
            "timing); each floor is 1 request. Goal: a launch ≤ 3 bare floors."
        )
    finally:
        stop(processes)
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


def verifier(url: str, tokens: list[str]) -> Callable[[int], float]:
    """A floor's job: post one of ``tokens`` to ``url`` (a kept-alive connection per client)."""
    local = threading.local()

    def verify(n: int) -> float:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        started = time.perf_counter()
        answer = local.http.post(url, timeout=60, data={"id_token": tokens[n % len(tokens)]})
        answer.raise_for_status()
        return time.perf_counter() - started

    return verify


if __name__ == "__main__":
    main()

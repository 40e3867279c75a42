"""Benchmark: full LTI launches against the development LMS, over loopback.

The tool runs under gunicorn (2 workers) on a throwaway PostgreSQL server, the development LMS
under its own gunicorn; each simulated client is a new browser (a fresh HTTP session) and a new
user. A launch is: the LMS's login initiation page → the tool's login (bridge page) → the LMS's
OIDC authorization (a signed id_token) → the tool's launch (every check) → 303 → the tool's
first page. In the same run it measures the floor: a bare endpoint on the same tool server that
only verifies a posted id_token. It prints launches/s, p50/p95/p99, each server's CPU time per
launch (from /proc), the platform JWKS fetches per 1 000 launches, and full-launch rate ÷
floor rate.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/launch.py [--launches 300] [--concurrency 1,8,32]

On 2 cores the load generator, the tool, the LMS and PostgreSQL share the CPUs: at 32
concurrent clients latency is bounded by Little's law (latency ≈ concurrency ÷ throughput), so
compare the CPU per launch and the ratio to the floor, not the raw latency.
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
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 400
SECRET = "bench-secret-key-0123456789-0123456789-0123456789"


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (gunicorn's master and workers)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=300, help="per concurrency level")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import free_port, start_postgres

    pg = start_postgres()
    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-"))
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        tool_port, lms_port = free_port(), free_port()
        tool, lms = f"http://127.0.0.1:{tool_port}", f"http://127.0.0.1:{lms_port}"
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
        options = ["-w", str(args.workers), "--backlog", "256"]
        logs = {"tool": folder / "tool.log", "devlms": folder / "devlms.log"}
        for name, port, target in (
            ("tool", tool_port, "bench.floor:create_floor_app()"),
            ("devlms", lms_port, "app.devlms:create_devlms_app()"),
        ):
            serve(processes, name, port, target, options, env, logs[name])
        wait_up(f"{tool}/healthz")
        wait_up(f"{lms}/")
        launch(lms, user_ids[0], link_id)  # warm: keys made, platform JWKS cached
        tokens = [id_token(lms, user_ids[n], link_id) for n in range(20)]

        print(
            f"Microcred launch benchmark: tool and LMS under gunicorn ({args.workers} workers "
            f"each), PostgreSQL 15, loopback, {os.cpu_count()} CPUs, {args.launches} launches "
            "per row, a new browser and user per launch"
        )
        print(
            f"{'conc':>4} {'launch/s':>9} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
            f"{'tool CPU ms':>11} {'LMS CPU ms':>10} {'JWKS/1000':>9} "
            f"{'floor/s':>8} {'floor p95':>9} {'floor CPU':>9} {'full÷floor':>10}"
        )
        next_user = iter(range(1, 10**9))
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            floor_http = threading.local()

            def floor(n: int, local: threading.local = floor_http) -> float:
                if not hasattr(local, "s"):
                    local.s = requests.Session()
                started = time.perf_counter()
                answer = local.s.post(
                    f"{tool}/bench/verify", timeout=60, data={"id_token": tokens[n % len(tokens)]}
                )
                answer.raise_for_status()
                return time.perf_counter() - started

            floor_cpu = cpu_seconds(processes["tool"].pid)
            floor_time, floor_lat = run(args.launches, concurrency, floor)
            floor_cpu = (cpu_seconds(processes["tool"].pid) - floor_cpu) / args.launches * 1000
            fetched = jwks_fetches(logs["devlms"])
            cpu = {name: cpu_seconds(p.pid) for name, p in processes.items()}

            def full(n: int) -> float:
                return launch(lms, user_ids[next(next_user) % len(user_ids)], link_id)

            elapsed, lat = run(args.launches, concurrency, full)
            used = {
                name: (cpu_seconds(p.pid) - cpu[name]) / args.launches * 1000
                for name, p in processes.items()
            }
            per_1000 = (jwks_fetches(logs["devlms"]) - fetched) * 1000 / args.launches
            rate, floor_rate = args.launches / elapsed, args.launches / floor_time
            print(
                f"{concurrency:>4} {rate:>9.1f} {statistics.median(lat) * 1000:>7.1f} "
                f"{pct(lat, 0.95):>7.1f} {pct(lat, 0.99):>7.1f} {used['tool']:>11.1f} "
                f"{used['devlms']:>10.1f} {per_1000:>9.1f} {floor_rate:>8.1f} "
                f"{pct(floor_lat, 0.95):>9.1f} {floor_cpu:>9.1f} {rate / floor_rate:>10.2f}"
            )
        print(
            "A launch is 3 tool requests (login, launch, first page) and 3 LMS requests "
            "(initiation, authorization, plus the browser's act-as outside the timing); the "
            "floor is 1 tool request."
        )
        print(
            "Latency at concurrency above the cores is bounded by Little's law: "
            "latency ≈ concurrency ÷ throughput."
        )
    finally:
        stop(processes)
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

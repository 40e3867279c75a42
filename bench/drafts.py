"""Benchmark: educators autosaving drafts, against gunicorn and PostgreSQL over loopback.

Each simulated educator is a new browser and a new user: a full LTI launch from the development
LMS onto a course activity, "Start this micro-credential", then an autosave of their overview
answer every ``--interval`` seconds (the text grows a sentence each time, quoting the version
the previous save returned, as the workspace's script does) for ``--duration`` seconds. Saves
start spread over the first interval, as people do not type in step. It prints saves/s,
p50/p95/p99 latency, errors (any answer but 200), the tool's CPU time per save (gunicorn's
master and workers, from /proc/<pid>/stat before and after), and a Little's-law check.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/drafts.py [--educators 200] [--duration 120] [--interval 5]

The issue's goals: 0 errors, p95 ≤ 100 ms. On 2 cores the load generator (one thread per
educator), the tool, the LMS and PostgreSQL share the CPUs.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent

SLUG = "questioning-to-check-for-understanding"
PART = "overview"
SENTENCE = "Students answered the hinge question on mini whiteboards and I regrouped them. "


def seed(env: dict[str, str], educators: int) -> tuple[list[int], int]:
    """Migrate, seed the demo and the sample catalog, add educators and a course activity for
    the credential; return the educators' LMS ids and the activity's link id."""
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for command in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run([*flask, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from app.devlms.models import DevCourse, DevLink, DevTool
    from bench.launch import enrol_learners

    engine = create_engine(env["MICROCRED_DATABASE_URL"])
    with Session(engine) as session:
        course = session.scalars(select(DevCourse)).one()
        tool = session.scalars(select(DevTool)).one()
        ids = enrol_learners(session, "bench", educators)
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
    return ids, link_id


class Educator:
    """One browser: launched, with an attempt started, saving its draft."""

    def __init__(self, tool: str, lms: str, user_id: int, link_id: int) -> None:
        from tests.support.lms import bridge_data, forms, submit, with_landing_address

        self.http = requests.Session()
        self.http.post(f"{lms}/act-as", data={"user_id": user_id}, timeout=60)
        initiation = forms(self.http.get(f"{lms}/launch/link/{link_id}", timeout=60).text)[0]
        login = submit(self.http, lms, initiation)
        auth = self.http.get(bridge_data(login.text)["next"], timeout=60)
        # The launch answers with the page, which gives itself its address (with its token).
        page = with_landing_address(submit(self.http, auth.url, forms(auth.text)[0]))
        token = re.search(r"[?&]lt=([^&#\"]+)", page.url)
        if page.status_code != 200 or token is None:
            raise SystemExit(f"launch failed: {page.status_code} {page.text[:300]}")
        started = self.http.post(f"{tool}/work/{SLUG}/start", data={"lt": token.group(1)})
        attempt = re.search(r'data-attempt="(\d+)"', started.text)
        token = re.search(r"[?&]lt=([^&#\"]+)", started.url)
        if started.status_code != 200 or attempt is None or token is None:
            raise SystemExit(f"start failed: {started.status_code} {started.text[:300]}")
        self.url = f"{tool}/work/attempts/{attempt.group(1)}/answers/{PART}"
        self.token = token.group(1)
        self.version = 0
        self.text = ""

    def save(self) -> tuple[float, int]:
        self.text += SENTENCE
        started = time.perf_counter()
        try:
            answer = self.http.put(
                self.url,
                json={"text": self.text, "version": self.version},
                headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                timeout=60,
            )
        except requests.RequestException:
            return time.perf_counter() - started, 0
        took = time.perf_counter() - started
        if answer.status_code == 200:
            body = answer.json()
            self.version, self.token = body["version"], body["session"]
        return took, answer.status_code


def prepare(tool: str, lms: str, user_ids: list[int], link_id: int) -> list[Educator]:
    """Launch every educator (8 at a time) and start their attempt."""
    educators: list[Educator | None] = [None] * len(user_ids)
    queue = iter(range(len(user_ids)))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                n = next(queue, None)
            if n is None:
                return
            educators[n] = Educator(tool, lms, user_ids[n], link_id)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ready = [e for e in educators if e is not None]
    if len(ready) != len(user_ids):
        raise SystemExit("some educators could not be launched")
    return ready


def autosave(
    educators: list[Educator], duration: float, interval: float
) -> tuple[float, list[float], dict[int, int]]:
    """Each educator saves every ``interval`` seconds, on a fixed schedule, until the end."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    begin = time.perf_counter() + 1.0
    end = begin + duration

    def run(educator: Educator, offset: float) -> None:
        due = begin + offset
        while due < end:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            took, status = educator.save()
            with lock:
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1
            due += interval

    threads = [
        threading.Thread(target=run, args=(e, random.uniform(0, interval))) for e in educators
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - begin, sorted(latencies), statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--educators", type=int, default=200)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of autosaving")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between saves")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of the tool")
    parser.add_argument("--threads", type=int, default=4, help="threads per tool worker")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.launch import SECRET, cpu_seconds, pct, serve, stop, wait_up
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
            "MICROCRED_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        user_ids, link_id = seed(env, args.educators)
        tool_options = ["--backlog", "512", "-w", str(args.workers), "--threads", str(args.threads)]
        serve(
            processes, "tool", tool_port, "app:create_app()", tool_options, env, folder / "tool.log"
        )
        serve(
            processes,
            "devlms",
            lms_port,
            "app.devlms:create_devlms_app()",
            ["--backlog", "512", "-w", "2"],
            env,
            folder / "devlms.log",
        )
        wait_up(f"{tool}/healthz")
        wait_up(f"{lms}/")
        prepared = time.perf_counter()
        educators = prepare(tool, lms, user_ids, link_id)
        print(
            f"Microcred drafts benchmark: tool under gunicorn ({args.workers} workers x "
            f"{args.threads} threads), PostgreSQL, loopback, {os.cpu_count()} CPUs; "
            f"{len(educators)} educators launched and started in "
            f"{time.perf_counter() - prepared:.0f} s"
        )
        cpu = cpu_seconds(processes["tool"].pid)
        elapsed, lat, statuses = autosave(educators, args.duration, args.interval)
        saves = len(lat)
        cpu_ms = (cpu_seconds(processes["tool"].pid) - cpu) / max(saves, 1) * 1000
        errors = saves - statuses.get(200, 0)
        rate = saves / elapsed
        mean = statistics.fmean(lat) if lat else 0.0
        print(
            f"{args.educators} educators, a save every {args.interval:g} s each, "
            f"{args.duration:g} s: {saves} saves"
        )
        print(f"  saves/s        {rate:8.1f}")
        print(f"  p50 ms         {statistics.median(lat) * 1000:8.1f}")
        print(f"  p95 ms         {pct(lat, 0.95):8.1f}   (goal ≤ 100)")
        print(f"  p99 ms         {pct(lat, 0.99):8.1f}")
        print(
            f"  errors         {errors:8d}   (goal 0; by status: {dict(sorted(statuses.items()))})"
        )
        print(f"  tool CPU/save  {cpu_ms:8.2f} ms (gunicorn master + workers, /proc)")
        print(
            f"Little's law: saves in flight ≈ throughput * latency = {rate:.1f}/s * "
            f"{mean * 1000:.1f} ms = {rate * mean:.2f}; the offered load is "
            f"{args.educators} ÷ ({args.interval:g} s + {mean * 1000:.0f} ms) = "
            f"{args.educators / (args.interval + mean):.1f} saves/s, "
            f"so latency ≈ concurrency ÷ throughput = {rate * mean:.2f} ÷ {rate:.1f}/s."
        )
        print("Running bench/uploads.py …", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "uploads.py")], cwd=ROOT, check=False)
    finally:
        stop(processes)
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

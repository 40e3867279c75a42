"""Benchmark: scores delivered to the development LMS's gradebook by `flask worker` processes
(issue 10).

On a throwaway PostgreSQL server: the demo (the development LMS registered with the tool), then
``--columns`` gradebook columns in the demo course and ``--learners`` learners enrolled in it,
and on the tool's side the same columns (line items recorded as launches would) and one decided
score per column and learner — ``--columns`` times ``--learners`` scores (10 000 by default), all
waiting. The development LMS runs under gunicorn (``--lms-workers`` processes of
``--lms-threads`` threads) and adds ``--latency`` ms to every service request (its fault
injection). For 1, 2 and 4 worker processes in turn (``--processes``): the `flask worker`
processes are started and, once each says it is sending, every score is made due at once (a
new version, as a fresh decision would); when all are delivered the workers are stopped
(SIGTERM). Printed per run: scores/s (all scores ÷ time from their decision to the last
delivery), p50/p95 lag from the decision to the LMS's accepting it, access-token requests the
LMS received, CPU ms per score of the workers (start-up not counted, as for long-running
workers), of the LMS's gunicorn and of PostgreSQL, from /proc, and how busy the machine's cores
were.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/ags.py [--columns 100] [--learners 100] [--latency 50] \\
        [--processes 1,2,4] [--threads 16]

The script prints and never asserts. On 2 cores the workers, the LMS and PostgreSQL share the
CPUs: the throughput is bounded by the CPU each score costs in all three, printed per run.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def seed(env: dict[str, str], columns: int, learners: int) -> dict[str, Any]:
    """Migrate, seed the demo, add the columns, the learners and one score per pair."""
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for command in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run([*flask, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    from sqlalchemy import create_engine, insert, select
    from sqlalchemy.orm import Session

    import app.models  # noqa: F401  (every table, for the foreign keys between features)
    from app.devlms.models import DevCourse, DevEnrolment, DevLineItem, DevTool, DevUser
    from app.devlms.platform import line_item_url
    from app.grading.models import ScoreDelivery
    from app.lti.models import (
        Deployment,
        LineItem,
        LtiContext,
        LtiResourceLink,
        LtiUser,
        Registration,
    )
    from app.lti.platforms import TOOL_SCOPES

    engine = create_engine(env["MICROCRED_DATABASE_URL"])
    with Session(engine) as session:
        course = session.scalars(select(DevCourse)).first()
        tool = session.scalars(select(DevTool)).one()
        assert course is not None
        subs = [f"bench-{n}" for n in range(learners)]
        session.execute(
            insert(DevUser),
            [
                {
                    "sub": sub,
                    "given_name": "Bench",
                    "family_name": f"Learner {n}",
                    "email": f"bench{n}@example.edu",
                }
                for n, sub in enumerate(subs)
            ],
        )
        user_ids = session.scalars(select(DevUser.id).where(DevUser.sub.in_(subs))).all()
        session.execute(
            insert(DevEnrolment),
            [{"course_id": course.id, "user_id": u, "role": "Learner"} for u in user_ids],
        )
        items = [
            DevLineItem(
                course_id=course.id,
                tool_id=tool.id,
                label=f"Bench column {n}",
                score_maximum=10.0,
                resource_link_id=f"bench-link-{n}",
            )
            for n in range(columns)
        ]
        session.add_all(items)
        session.flush()
        urls = [line_item_url(env["MICROCRED_DEVLMS_URL"], course.id, i.id, tool) for i in items]
        registration = session.scalars(select(Registration)).one()
        deployment = session.scalars(
            select(Deployment).where(Deployment.registration_id == registration.id)
        ).first()
        if deployment is None:
            deployment = Deployment(
                registration_id=registration.id,
                deployment_id=tool.deployment_id,
                status=Deployment.ACTIVE,
            )
            session.add(deployment)
            session.flush()
        context = LtiContext(
            registration_id=registration.id,
            deployment_id=deployment.id,
            context_id=course.context_id,
            title=course.title,
        )
        session.add(context)
        session.flush()
        line_item_ids = []
        for n, url in enumerate(urls):
            link = LtiResourceLink(
                registration_id=registration.id,
                context_id=context.id,
                resource_link_id=f"bench-link-{n}",
                title=f"Bench column {n}",
            )
            session.add(link)
            session.flush()
            item = LineItem(
                registration_id=registration.id,
                resource_link_id=link.id,
                url=url,
                scopes=list(TOOL_SCOPES),
            )
            session.add(item)
            session.flush()
            line_item_ids.append(item.id)
        session.execute(
            insert(LtiUser),
            [{"registration_id": registration.id, "sub": sub, "name": sub} for sub in subs],
        )
        tool_users = session.scalars(
            select(LtiUser.id).where(
                LtiUser.registration_id == registration.id, LtiUser.sub.in_(subs)
            )
        ).all()
        body = {
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "scoreGiven": 10.0,
            "scoreMaximum": 10.0,
            "comment": "Earned: 5 of 5 criteria met.\n\nClear evidence of every student's answer.",
        }
        session.execute(
            insert(ScoreDelivery),
            [
                {
                    "registration_id": registration.id,
                    "line_item_id": item,
                    "user_id": user,
                    "body": body,
                    "status": ScoreDelivery.DELIVERED,
                    "version": 1,
                    "sent_version": 1,
                }
                for item in line_item_ids
                for user in tool_users
            ],
        )
        session.commit()
    engine.dispose()
    return {"scores": columns * learners}


def set_latency(url: str, latency_ms: int) -> None:
    from sqlalchemy import create_engine, delete
    from sqlalchemy.orm import Session

    from app.devlms.models import DevFaults

    engine = create_engine(url)
    with Session(engine) as session:
        session.execute(delete(DevFaults))
        session.add(DevFaults(latency_ms=latency_ms))
        session.commit()
    engine.dispose()


def make_due(engine: Any) -> None:
    """Every score gets a new version, due now: as if each had just been decided again."""
    from sqlalchemy import text, update

    from app.db import utcnow
    from app.grading.models import ScoreDelivery

    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            update(ScoreDelivery).values(
                version=ScoreDelivery.version + 1,
                status=ScoreDelivery.PENDING,
                tries=0,
                desired_at=now,
                available_at=now,
                lease_token=None,
                lease_until=None,
            )
        )
        connection.execute(text("ANALYZE grading_score_delivery"))


def progress(engine: Any) -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from app.grading.models import ScoreDelivery

    with engine.connect() as connection:
        rows = dict(
            connection.execute(
                select(ScoreDelivery.status, func.count()).group_by(ScoreDelivery.status)
            ).all()
        )
    return (
        rows.get(ScoreDelivery.DELIVERED, 0),
        rows.get(ScoreDelivery.PENDING, 0),
        rows.get(ScoreDelivery.FAILED, 0),
    )


def lags(engine: Any) -> list[float]:
    from sqlalchemy import select

    from app.grading.models import ScoreDelivery

    with engine.connect() as connection:
        rows = connection.execute(
            select(ScoreDelivery.desired_at, ScoreDelivery.delivered_at).where(
                ScoreDelivery.status == ScoreDelivery.DELIVERED
            )
        ).all()
    return sorted((d - s).total_seconds() for s, d in rows if d is not None)


def tokens_issued(engine: Any) -> int:
    from sqlalchemy import func, select

    from app.devlms.models import DevAccessToken

    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(DevAccessToken)) or 0)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--latency", type=int, default=50, help="ms the LMS adds per request")
    parser.add_argument("--processes", default="1,2,4", help="worker process counts to run")
    parser.add_argument("--threads", type=int, default=16, help="sends in flight per worker")
    parser.add_argument("--lms-workers", type=int, default=2)
    parser.add_argument("--lms-threads", type=int, default=64)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine, text

    from bench.catalog import postmaster_pid
    from bench.launch import SECRET, serve, stop, wait_up
    from tests.support.postgres import free_port, start_postgres

    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-ags-"))
    pg = start_postgres()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        tool_port, lms_port = free_port(), free_port()
        url = pg.create_database("microcred_bench")
        env = {
            **os.environ,
            "MICROCRED_DATABASE_URL": url,
            "MICROCRED_INSTANCE_PATH": str(folder),
            "MICROCRED_SECRET_KEY": SECRET,
            "MICROCRED_BASE_URL": f"http://127.0.0.1:{tool_port}",
            "MICROCRED_DEVLMS_URL": f"http://127.0.0.1:{lms_port}",
            "MICROCRED_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        seeded = seed(env, args.columns, args.learners)
        set_latency(url, args.latency)
        # The tool serves its JWKS: the LMS checks the workers' client assertions with it.
        serve(processes, "tool", tool_port, "app:create_app()", ["-w", "1"], env, folder / "t.log")
        serve(
            processes,
            "devlms",
            lms_port,
            "app.devlms:create_devlms_app()",
            [
                "-w",
                str(args.lms_workers),
                "-k",
                "gthread",
                "--threads",
                str(args.lms_threads),
                "--backlog",
                "512",
            ],
            # A connection for each thread: fewer, and bursts would open and close
            # connections all the time (a PostgreSQL process each).
            {**env, "MICROCRED_DATABASE_POOL_SIZE": str(args.lms_threads)},
            folder / "devlms.log",
        )
        wait_up(f"http://127.0.0.1:{tool_port}/healthz")
        wait_up(f"http://127.0.0.1:{lms_port}/")
        engine = create_engine(url)
        with engine.connect() as connection:
            database = "PostgreSQL " + str(connection.scalar(text("SHOW server_version")))
        db_pid = postmaster_pid(pg.folder)
        print(
            f"Microcred gradebook benchmark: {seeded['scores']} scores ({args.columns} columns x "
            f"{args.learners} learners) to the development LMS (gunicorn {args.lms_workers} x "
            f"{args.lms_threads} threads, +{args.latency} ms per request), {database}, "
            f"loopback, {os.cpu_count()} CPUs, {args.threads} sends in flight per worker"
        )
        print(
            f"{'workers':>7} {'scores/s':>9} {'seconds':>8} {'lag p50 s':>9} {'lag p95 s':>9} "
            f"{'tokens':>6} {'failed':>6} {'worker CPU ms':>13} {'LMS CPU ms':>10} "
            f"{'DB CPU ms':>9} {'other ms':>8} {'busy':>5} {'stolen':>6}   (CPU per score; cores)"
        )
        for count in [int(n) for n in args.processes.split(",")]:
            workers = start_workers(count, args.threads, env, folder)
            try:
                row = measure(engine, workers, processes["devlms"].pid, db_pid, seeded["scores"])
            finally:
                for process in workers:
                    process.send_signal(signal.SIGTERM)
                for process in workers:
                    process.wait(timeout=60)
            print(
                f"{count:>7} {row['rate']:>9.0f} {row['seconds']:>8.1f} {row['lag50']:>9.2f} "
                f"{row['lag95']:>9.2f} {row['tokens']:>6} {row['failed']:>6} "
                f"{row['worker']:>13.2f} {row['lms']:>10.2f} {row['db']:>9.2f} "
                f"{row['other']:>8.2f} {row['busy']:>5.0%} {row['steal']:>6.0%}"
            )
        print()
        print(
            "scores/s: all scores of the run / seconds from their decision to the last delivery, "
            "the workers already running (as in production: their start-up is not counted). "
            "Lag: from the score's decision to the LMS's accepting it. Tokens: access-token "
            "requests the LMS received "
            "(the workers share one token through the state store). CPU: the workers' "
            "processes; the LMS's gunicorn master and workers; PostgreSQL's postmaster and "
            "backends (the LMS's own writes included); other: the rest of the machine's CPU "
            "during the run (this script, the kernel, anything else). Busy: the machine's CPU "
            "time during the run / (seconds x CPUs); stolen: the share of the CPUs the "
            "hypervisor gave to other machines (a VM's cores are shared)."
        )
        print(
            "By Little's law, a worker with T sends in flight against an LMS answering in L "
            "seconds delivers at most T / L scores/s: 16 / 0.05 s = 320 per worker, before CPU."
        )
    finally:
        stop(processes)
        pg.stop()


def start_workers(
    count: int, threads: int, env: dict[str, str], folder: Path
) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` `flask worker` processes and wait until each says it is sending."""
    logs = [folder / f"worker-{count}-{n}.log" for n in range(count)]
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "app",
                "worker",
                "--threads",
                str(threads),
            ],
            env={**env, "MICROCRED_EMBEDDED_WORKER": "0", "PYTHONUNBUFFERED": "1"},
            cwd=ROOT,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    deadline = time.monotonic() + 120
    while not all("sending scores" in log.read_text() for log in logs):
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise SystemExit(f"a worker did not start: see {folder}")
        time.sleep(0.1)
    return workers


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent working, from /proc/stat: user, nice, system,
    irq and softirq (not idle, I/O wait, or steal: time the hypervisor gave to other VMs)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def steal_seconds() -> float:
    """CPU seconds the hypervisor took from this VM (``steal`` in /proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return int(fields[7]) / os.sysconf("SC_CLK_TCK")


def measure(
    engine: Any, workers: list[subprocess.Popen[bytes]], lms_pid: int, db_pid: int, total: int
) -> dict[str, Any]:
    """Make every score due and wait until each is delivered or failed; return the figures."""
    from bench.launch import cpu_seconds

    tokens_before = tokens_issued(engine)
    # PostgreSQL's backends may end during a run (a pool recycling a connection): keep each
    # one's last reading, so that its CPU is not lost.
    db_before = process_cpu(db_pid)
    db_seen = dict(db_before)
    before = {
        "worker": sum(cpu_seconds(w.pid) for w in workers),
        "lms": cpu_seconds(lms_pid),
        "machine": machine_cpu_seconds(),
        "steal": steal_seconds(),
    }
    started = time.monotonic()
    make_due(engine)
    while True:
        time.sleep(0.2)
        for pid, seconds in process_cpu(db_pid).items():
            db_seen[pid] = max(seconds, db_seen.get(pid, 0.0))
        done, _, failed = progress(engine)
        if done + failed >= total or time.monotonic() - started > 1800:
            break
    after = {
        "worker": sum(cpu_seconds(w.pid) for w in workers),
        "lms": cpu_seconds(lms_pid),
        "machine": machine_cpu_seconds(),
        "steal": steal_seconds(),
    }
    for pid, seconds in process_cpu(db_pid).items():
        db_seen[pid] = max(seconds, db_seen.get(pid, 0.0))
    before["db"], after["db"] = sum(db_before.values()), sum(db_seen.values())
    seconds = span(engine)
    lag = lags(engine)
    n = max(1, done)
    wall = time.monotonic() - started
    return {
        "rate": done / seconds,
        "seconds": seconds,
        "lag50": pct(lag, 50),
        "lag95": pct(lag, 95),
        "tokens": tokens_issued(engine) - tokens_before,
        "failed": failed,
        "worker": (after["worker"] - before["worker"]) * 1000 / n,
        "lms": (after["lms"] - before["lms"]) * 1000 / n,
        "db": (after["db"] - before["db"]) * 1000 / n,
        "busy": (after["machine"] - before["machine"]) / (wall * (os.cpu_count() or 1)),
        "steal": (after["steal"] - before["steal"]) / (wall * (os.cpu_count() or 1)),
        "other": (
            (after["machine"] - before["machine"])
            - sum(after[k] - before[k] for k in ("worker", "lms", "db"))
        )
        * 1000
        / n,
    }


def span(engine: Any) -> float:
    """Seconds from the scores' decision to the last delivery (the database's clock)."""
    from sqlalchemy import func, select

    from app.grading.models import ScoreDelivery

    with engine.connect() as connection:
        first, last = connection.execute(
            select(func.min(ScoreDelivery.desired_at), func.max(ScoreDelivery.delivered_at))
        ).one()
    return max(1e-6, (last - first).total_seconds())


def process_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of a process and each of its children, by pid (from /proc)."""
    found: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


if __name__ == "__main__":
    main()

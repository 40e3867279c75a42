"""Benchmark: scores delivered to the development LMS's gradebook by `flask worker` processes
(issue 10).

On a throwaway PostgreSQL server: the demo (the development LMS registered with the tool), then
``--columns`` gradebook columns in the demo course and ``--learners`` learners enrolled in it,
and on the tool's side the same columns (line items recorded as launches would) and one decided
score per column and learner — ``--columns`` times ``--learners`` scores (10 000 by default), all
waiting. The development LMS runs under gunicorn (``--lms-workers`` processes of
``--lms-threads`` threads) and adds ``--latency`` ms to every service request (its fault
injection). For 1, 2 and 4 worker processes in turn (``--processes``), every score is made due
again at once (a new version, as a fresh decision would) and the workers run until nothing is
left (`flask worker --until-idle`). Printed per run: scores/s (all scores ÷ time from the start
to the last delivery), p50/p95 lag from the decision (the version's time) to the LMS's accepting
it, access-token requests the LMS received, and CPU ms per score of the workers, of the LMS's
gunicorn and of PostgreSQL, from /proc.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/ags.py [--columns 100] [--learners 100] [--latency 50] \\
        [--processes 1,2,4] [--threads 16]

The script prints and never asserts. On 2 cores the workers, the LMS and PostgreSQL share the
CPUs: the throughput is bounded by the CPU each score costs in all three, printed per run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
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
    from bench.launch import SECRET, cpu_seconds, serve, stop, wait_up
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
            env,
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
            f"{'DB CPU ms':>9}   (CPU per score)"
        )
        for count in [int(n) for n in args.processes.split(",")]:
            make_due(engine)
            tokens_before = tokens_issued(engine)
            lms_cpu = cpu_seconds(processes["devlms"].pid)
            # PostgreSQL's backends end with the workers' connections: keep each one's last
            # reading, so that their CPU is not lost when they exit.
            db_seen = process_cpu(db_pid)
            process_cpu_before = dict(db_seen)
            started = time.perf_counter()
            workers = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "flask",
                        "--app",
                        "app",
                        "worker",
                        "--until-idle",
                        "--threads",
                        str(args.threads),
                    ],
                    env={**env, "MICROCRED_EMBEDDED_WORKER": "0"},
                    cwd=ROOT,
                    stdout=(folder / f"worker-{count}-{n}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
                for n in range(count)
            ]
            usage: dict[int, float] = {}
            reapers = [
                threading.Thread(target=_reap, args=(w.pid, usage), daemon=True) for w in workers
            ]
            for reaper in reapers:
                reaper.start()
            last_delivery = started
            delivered = 0
            while any(r.is_alive() for r in reapers):
                time.sleep(0.05)
                for pid, seconds in process_cpu(db_pid).items():
                    db_seen[pid] = max(seconds, db_seen.get(pid, 0.0))
                done, _, _ = progress(engine)
                if done != delivered:
                    delivered, last_delivery = done, time.perf_counter()
            worker_cpu = sum(usage.values())
            done, _, failed = progress(engine)
            if done != delivered:
                last_delivery = time.perf_counter()
            elapsed = last_delivery - started
            lms_cpu = cpu_seconds(processes["devlms"].pid) - lms_cpu
            before_db = process_cpu_before
            for pid, seconds in process_cpu(db_pid).items():
                db_seen[pid] = max(seconds, db_seen.get(pid, 0.0))
            db_cpu = sum(db_seen.values()) - sum(before_db.values())
            lag = lags(engine)
            n = max(1, done)
            print(
                f"{count:>7} {done / elapsed:>9.0f} {elapsed:>8.1f} {pct(lag, 50):>9.2f} "
                f"{pct(lag, 95):>9.2f} {tokens_issued(engine) - tokens_before:>6} {failed:>6} "
                f"{worker_cpu * 1000 / n:>13.2f} {lms_cpu * 1000 / n:>10.2f} "
                f"{db_cpu * 1000 / n:>9.2f}"
            )
        print()
        print(
            "scores/s: all scores of the run / seconds from starting the workers to the last "
            "delivery (workers start in ~1 s: Python and the app load). Lag: from the score's "
            "decision to the LMS's accepting it. Tokens: access-token requests the LMS received "
            "(the workers share one token through the state store). CPU: the workers' "
            "processes; the LMS's gunicorn master and workers; PostgreSQL's postmaster and "
            "backends (the LMS's own writes included)."
        )
        print(
            "By Little's law, a worker with T sends in flight against an LMS answering in L "
            "seconds delivers at most T / L scores/s: 16 / 0.05 s = 320 per worker, before CPU."
        )
    finally:
        stop(processes)
        pg.stop()


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


def _reap(pid: int, usage: dict[int, float]) -> None:
    """Wait for a worker process and keep its CPU seconds (user + system)."""
    _, _, rusage = os.wait4(pid, 0)
    usage[pid] = rusage.ru_utime + rusage.ru_stime


if __name__ == "__main__":
    main()

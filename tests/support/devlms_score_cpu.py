"""Measure the development LMS's CPU per AGS score POST, in-process.

The development LMS is built by ``create_devlms_app`` on a fresh database (SQLite in a
temporary folder, a throwaway PostgreSQL server with ``--postgres``, or ``--database URL``), the
demo seeded, one access token stored; then ``-n`` score POSTs (each one a second newer than the
last, spread over the demo's three learners) go through Flask's test client, after warm-up
ones, and the process's CPU time (``time.process_time``) and the statements sent are divided
by ``n``. On SQLite the database's own work is in this process and counted; on PostgreSQL the
server's is not.

    .venv/bin/python -m tests.support.devlms_score_cpu [-n 2000] [--postgres | --database URL] \\
        [--profile]

``--profile`` prints the 25 most expensive functions (cProfile, cumulative) instead.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
SECRET = "score-cpu-secret-key-that-is-long-enough-0123456789abcdef"


def build(database_url: str, instance: Path) -> tuple[Any, str, list[str], str]:
    """Return the devlms app, a bearer token, the learners' subs and the scores URL."""
    from app import migrate
    from app.db import get_db
    from app.devlms import create_devlms_app
    from app.devlms.models import DevAccessToken, DevEnrolment, DevLineItem, DevTool, DevUser
    from app.devlms.platform import ALL_SCOPES
    from app.devlms.seed import seed_demo

    migrate.upgrade(database_url)
    app = create_devlms_app(
        {
            "MICROCRED_ENV": "development",
            "MICROCRED_SECRET_KEY": SECRET,
            "MICROCRED_DATABASE_URL": database_url,
            "MICROCRED_INSTANCE_PATH": str(instance),
            "MICROCRED_BASE_URL": "http://127.0.0.1:5000",
            "MICROCRED_DEVLMS_URL": "http://127.0.0.1:5001",
            "MICROCRED_LOG_LEVEL": "WARNING",
        }
    )
    token = secrets.token_urlsafe(32)
    with get_db(app).begin() as session:
        seed_demo(session, app.config["MICROCRED_SETTINGS"])
        tool = session.scalars(select(DevTool)).one()
        item = session.scalars(select(DevLineItem)).one()
        session.add(
            DevAccessToken(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                tool_id=tool.id,
                scopes=list(ALL_SCOPES),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
        learners = list(
            session.scalars(
                select(DevUser.sub)
                .join(DevEnrolment, DevEnrolment.user_id == DevUser.id)
                .where(DevEnrolment.role == "Learner", DevEnrolment.course_id == item.course_id)
            )
        )
        url = (
            f"/api/lti/courses/{item.course_id}/lineitems/{item.id}/lineitem/scores"
            f"?type_id={tool.id}"
        )
    return app, token, learners, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="score POSTs measured")
    parser.add_argument("--database", help="a database URL (default: a new SQLite file)")
    parser.add_argument(
        "--postgres", action="store_true", help="on a throwaway PostgreSQL server instead"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    parser.add_argument("--sort", default="cumulative", help="the summary's order (tottime, ...)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="devlms-score-cpu-"))
    from tests.support.postgres import harness_database

    with harness_database(args.postgres, args.database, folder, "devlms_score_cpu") as url:
        measure(args, url, folder)


def measure(args: argparse.Namespace, url: str, folder: Path) -> None:
    """Post the scores and print the CPU, wall time and statements per POST."""
    app, token, learners, scores_url = build(url, folder / "instance")
    from app.db import get_db

    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", count)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": SCORE_TYPE}
    start = datetime.now(UTC) - timedelta(days=1)
    sent = 0

    def post(times: int) -> None:
        nonlocal sent
        for _ in range(times):
            sent += 1
            stamp = (start + timedelta(seconds=sent)).isoformat(timespec="milliseconds")
            body = {
                "userId": learners[sent % len(learners)],
                "timestamp": stamp.replace("+00:00", "Z"),
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "scoreGiven": sent % 100,
                "scoreMaximum": 100,
                "comment": "Measured.",
            }
            response = client.post(scores_url, json=body, headers=headers)
            assert response.status_code in {200, 204}, response.get_data(as_text=True)

    post(200)  # warm-up: imports, caches, the connection pool
    statements = 0
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        post(args.n)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(25)
        return
    cpu, wall = time.process_time(), time.perf_counter()
    post(args.n)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    print(
        f"{backend}: {args.n} score POSTs, {cpu / args.n * 1000:.2f} CPU ms each "
        f"({wall / args.n * 1000:.2f} ms wall), {statements / args.n:.1f} statements each"
    )
    get_db(app).dispose()


if __name__ == "__main__":
    main()

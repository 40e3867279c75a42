"""Benchmark: the review queue and the review page with 100 000 submissions (issue 9).

The tool runs under gunicorn (2 workers) on a throwaway PostgreSQL server, over loopback. The
data comes from ``bench/review_data.py``: the sample catalog (10 credentials of 2
organisations), then ``--small`` courses and later up to ``--courses`` courses of
``--per-course`` submitted attempts each (one educator each, submitted over the last 60 days;
one in ten claimed, half of those claims expired; one in twenty decided), PostgreSQL's
statistics refreshed after each load. With the defaults: 10 000, then 100 000 submissions
across 100, then 1 000 courses.

Two people launch through the development LMS (which runs under gunicorn only for the
launches): the instructor of course 0 (about 100 submissions in their course), and an
organisation-wide assessor (an ``AssessorGrant`` for the first organisation, 6 of the 10
credentials: tens of thousands of submissions), who launches as the instructor of a course of
their own with no submissions. At each size the instructor presses "Review the next
submission" (a claim), and these requests run one after another, ``--requests`` each after a
few warm-up requests: the instructor's queue; the assessor's queue with no filter, filtered by
credential (the 6 credentials in turn), filtered by "waiting at least 14 days", and its page
50; and the review page of the claimed submission. For each: requests/s, p50/p95/p99, and CPU
milliseconds per request of the tool's gunicorn (master and workers) and of PostgreSQL (the
postmaster and its backends), from /proc. A request answering 500 is counted and shown, not
fatal (see ``wake``); any other answer but 200 stops the run.

Statement counts are taken in-process: the same tool, built by ``create_app`` on the same
database, serves one request of each kind (after warm-up ones) through Flask's test client,
with a SQLAlchemy ``before_cursor_execute`` listener counting every statement sent (the launch
session's lookups included), three times: the fewest is shown, as about one launch-session
write in 50 also purges expired launch state (one more statement, app/lti/state.py). The counts
at the two sizes must be equal: a row says ``constant`` or ``GROWS``. Each SELECT of that
request is then run again under ``EXPLAIN (ANALYZE)`` with its parameters: the table shows the
sum of their execution times and the slowest one, and the plan of the slowest statement at the
large size is printed. At the end, the unhandled errors in the served tool's log.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/review.py [--courses 1000] [--small 100] [--per-course 100] \\
        [--requests 200] [--workers 2]

The script prints and never asserts. On 2 cores the load generator, the tool and PostgreSQL
share the CPUs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
ORGANISATION = "lakemont-itl"
"""The organisation the assessor is granted (the sample catalog's first, 6 credentials)."""
ASSESSOR = "bench-assessor"
ASSESSOR_COURSE = "bench-assessors-room"
KINDS = (
    "instructor queue",
    "assessor queue",
    "assessor cred.",
    "assessor waited",
    "assessor page 50",
    "review page",
)


@dataclass
class Browser:
    """A launched person: their HTTP session and the latest session token (``lt``)."""

    http: requests.Session
    token: str


def launch(lms: str, user_id: int, link_id: int) -> Browser:
    """Launch ``link_id`` as LMS user ``user_id``; return the browser and its session token."""
    from tests.support.lms import bridge_data, forms, submit

    http = requests.Session()
    http.post(f"{lms}/act-as", data={"user_id": user_id}, timeout=60).raise_for_status()
    login = submit(http, lms, forms(http.get(f"{lms}/launch/link/{link_id}", timeout=60).text)[0])
    auth = http.get(bridge_data(login.text)["next"], timeout=60)
    page = submit(http, auth.url, forms(auth.text)[0])
    token = re.search(r"[?&]lt=([^&#\"]+)", page.url)
    if page.status_code != 200 or token is None:
        raise SystemExit(f"launch failed: {page.status_code} {page.url} {page.text[:300]}")
    return Browser(http, token.group(1))


def assessor_course(app: Any) -> None:
    """Give the assessor a course of their own in the development LMS (no submissions)."""
    from sqlalchemy import select

    from app.db import get_db
    from app.devlms.models import DevCourse, DevEnrolment, DevLink, DevTool, DevUser

    with get_db(app).begin() as session:
        tool = session.scalars(select(DevTool).order_by(DevTool.id)).first()
        assert tool is not None
        course = DevCourse(title="Assessors' room", label="ASSESS", context_id=ASSESSOR_COURSE)
        user = DevUser(
            sub=ASSESSOR, given_name="Ada", family_name="Assessor", email="ada@bench.example.edu"
        )
        session.add_all([course, user])
        session.flush()
        session.add(DevEnrolment(course_id=course.id, user_id=user.id, role="Instructor"))
        session.add(
            DevLink(
                course_id=course.id,
                tool_id=tool.id,
                resource_link_id="bench-assessors-link",
                title="Micro-credential: assessors' copy",
                custom={
                    "microcred_credential": "questioning-to-check-for-understanding",
                    "microcred_version": "latest",
                },
            )
        )


def lms_ids(app: Any) -> dict[str, tuple[int, int]]:
    """The LMS user and link ids to launch as the instructor of course 0 and as the assessor."""
    from sqlalchemy import select

    from app.db import get_db
    from app.devlms.models import DevLink, DevUser
    from bench.review_data import INSTRUCTOR, LINK

    found = {}
    with get_db(app).begin() as session:
        for who, sub, link in (
            ("instructor", INSTRUCTOR.format(0), LINK.format(0)),
            ("assessor", ASSESSOR, "bench-assessors-link"),
        ):
            user_id = session.scalars(select(DevUser.id).where(DevUser.sub == sub)).one()
            link_id = session.scalars(
                select(DevLink.id).where(DevLink.resource_link_id == link)
            ).one()
            found[who] = (user_id, link_id)
    return found


def grant(app: Any) -> list[str]:
    """Make the (launched) assessor an assessor of ``ORGANISATION``; return its credentials."""
    from sqlalchemy import select

    from app.catalog.models import Credential, Organisation
    from app.db import get_db
    from app.grading.models import AssessorGrant
    from app.lti.models import LtiUser

    with get_db(app).begin() as session:
        user = session.scalars(select(LtiUser).where(LtiUser.sub == ASSESSOR)).one()
        organisation = session.scalars(
            select(Organisation).where(Organisation.slug == ORGANISATION)
        ).one()
        session.add(
            AssessorGrant(
                registration_id=user.registration_id,
                organisation_id=organisation.id,
                user_id=user.id,
                granted_by="cli",
            )
        )
        return list(
            session.scalars(
                select(Credential.slug)
                .where(Credential.organisation_id == organisation.id)
                .order_by(Credential.slug)
            )
        )


def claim_next(tool: str, browser: Browser) -> int:
    """Press "Review the next submission"; return the claimed attempt's id."""
    page = browser.http.post(f"{tool}/review/next", data={"lt": browser.token}, timeout=60)
    found = re.search(r"/review/attempts/(\d+)\?", page.url)
    if page.status_code != 200 or found is None:
        raise SystemExit(f"claim failed: {page.status_code} {page.url} {page.text[:300]}")
    return int(found.group(1))


def request_of(
    kind: str, n: int, people: dict[str, Browser], slugs: list[str], attempt: int
) -> tuple[str, dict[str, Any], Browser]:
    """The ``n``-th request of a kind: path, query parameters and who sends it."""
    if kind == "instructor queue":
        return "/review", {}, people["instructor"]
    if kind == "assessor queue":
        return "/review", {}, people["assessor"]
    if kind == "assessor cred.":
        return "/review", {"credential": slugs[n % len(slugs)]}, people["assessor"]
    if kind == "assessor waited":
        return "/review", {"waited": 14}, people["assessor"]
    if kind == "assessor page 50":
        return "/review", {"page": 50}, people["assessor"]
    if kind == "review page":
        return f"/review/attempts/{attempt}", {}, people["instructor"]
    raise ValueError(kind)


def check(kind: str, answer: Any, body: str) -> None:
    if answer.status_code != 200:
        raise SystemExit(f"{kind}: {answer.status_code} {body[:300]}")
    if kind.startswith(("instructor", "assessor")) and " waiting" not in body:
        raise SystemExit(f"{kind}: not a queue page: {body[:300]}")


def wake(send: Callable[[], int]) -> int:
    """Send warm-up requests until 5 in a row answer 200; return how many answered 500.

    After 10 s idle a pooled connection is pinged before use, and the ping (app/db.py) leaves
    it inside a transaction; the launch session store then cannot switch it to autocommit and
    the request fails with a 500, once per idle pooled connection. The data loads and the
    EXPLAIN runs leave the servers idle that long, so the warm-up counts these failures (and
    the table prints them) instead of stopping."""
    failed, ok = 0, 0
    for _ in range(100):
        status = send()
        if status == 200:
            ok += 1
            if ok == 5:
                return failed
            continue
        ok = 0
        if status != 500:
            raise SystemExit(f"warm-up: {status}")
        failed += 1
    raise SystemExit(f"warm-up: {failed} failures")


def measure(
    tool: str,
    kind: str,
    count: int,
    people: dict[str, Browser],
    slugs: list[str],
    attempt: int,
    cpu: Any,
) -> tuple[Any, int]:
    """Send ``count`` requests of ``kind`` one after another; return a table row and how many
    answered 500 (any other answer but 200 stops the benchmark)."""
    from bench.catalog import Row
    from bench.launch import run

    failed: list[int] = []

    def job(n: int) -> float:
        path, params, browser = request_of(kind, n, people, slugs, attempt)
        started = time.perf_counter()
        answer = browser.http.get(tool + path, params={**params, "lt": browser.token}, timeout=60)
        took = time.perf_counter() - started
        if answer.status_code == 500:
            failed.append(n)
        else:
            check(kind, answer, answer.text)
        return took

    tool_before, db_before = cpu()
    seconds, latencies = run(count, 1, job)
    tool_after, db_after = cpu()
    row = Row(kind, seconds, latencies, tool_after - tool_before, db_after - db_before)
    return row, len(failed)


@dataclass
class Statements:
    count: int
    explained_ms: float
    """The sum of the request's SELECTs' execution times under EXPLAIN (ANALYZE)."""
    slowest_ms: float
    slowest_sql: str
    slowest_plan: str
    waiting: str
    """What the page says: "N waiting" (and "page X of Y"), or "-"."""


def _explain(connection: Any, statement: str, parameters: Any) -> tuple[float, str]:
    """Run one statement under EXPLAIN (ANALYZE); return its execution time and plan."""
    cursor = connection.cursor()
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
    (document,) = cursor.fetchone()
    plan = document if isinstance(document, list) else json.loads(document)
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
    text = "\n".join(row[0] for row in cursor.fetchall())
    cursor.close()
    return float(plan[0]["Execution Time"]), text


def statements(
    app: Any, people: dict[str, Browser], slugs: list[str], attempt: int
) -> dict[str, Statements]:
    """Statements one request of each kind sends (after a warm-up request of that kind), and
    their execution times under EXPLAIN (ANALYZE)."""
    from sqlalchemy import event

    from app.db import get_db

    engine = get_db(app).engine
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    found: dict[str, Statements] = {}
    client = app.test_client()
    event.listen(engine, "before_cursor_execute", record)
    try:
        for kind in KINDS:
            path, params, browser = request_of(kind, 0, people, slugs, attempt)
            query = {**params, "lt": browser.token}
            wake(lambda path=path, query=query: client.get(path, query_string=query).status_code)
            tries = []
            for _ in range(3):  # the fewest: see the module's docstring
                sent.clear()
                answer = client.get(path, query_string=query)
                body = answer.get_data(as_text=True)
                check(kind, answer, body)
                tries.append(list(sent))
            captured = min(tries, key=len)
            waiting = re.search(r"(\d+) waiting", body)
            pages = re.search(r"Page (\d+) of (\d+)", body)
            label = waiting.group(0) if waiting else "-"
            if pages:
                label += f", page {pages.group(1)} of {pages.group(2)}"
            found[kind] = Statements(len(captured), 0.0, 0.0, "", "", label)
            explained = found[kind]
            event.remove(engine, "before_cursor_execute", record)
            raw = engine.raw_connection()
            try:
                for statement, parameters in captured:
                    if not statement.lstrip().upper().startswith("SELECT"):
                        continue
                    took, plan = _explain(raw, statement, parameters)
                    explained.explained_ms += took
                    if took > explained.slowest_ms:
                        explained.slowest_ms, explained.slowest_sql = took, statement
                        explained.slowest_plan = plan
                raw.rollback()
            finally:
                raw.close()
                event.listen(engine, "before_cursor_execute", record)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return found


def server_errors(log: Path) -> dict[str, int]:
    """The tool's unhandled errors (the last line of each traceback), with how often."""
    found: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        if '"unhandled error"' not in line:
            continue
        try:
            error = json.loads(line).get("exc", "").strip().splitlines()[-1]
        except (ValueError, IndexError):
            error = line[:200]
        found[error] = found.get(error, 0) + 1
    return found


def describe(sql: str) -> str:
    """A short name for a statement: what it selects from, and whether it counts."""
    tables = re.findall(r"FROM (\w+)", sql)
    head = "count" if "count(*)" in sql else "rows"
    return f"{head} from {tables[0] if tables else '?'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--courses", type=int, default=1000, help="courses at the large size")
    parser.add_argument("--small", type=int, default=100, help="courses at the small size")
    parser.add_argument("--per-course", type=int, default=100, help="submissions per course")
    parser.add_argument("--requests", type=int, default=200, help="per kind and size")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not 0 < args.small < args.courses:
        parser.error("need 0 < --small < --courses")
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text

    from app import create_app
    from app.db import get_db
    from bench import review_data
    from bench.catalog import postmaster_pid, total
    from bench.launch import SECRET, cpu_seconds, serve, stop, wait_up
    from tests.support.postgres import free_port, start_postgres

    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-"))
    pg = start_postgres()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    app = None
    try:
        tool_port, lms_port = free_port(), free_port()
        tool, lms = f"http://127.0.0.1:{tool_port}", f"http://127.0.0.1:{lms_port}"
        config = {
            "MICROCRED_DATABASE_URL": pg.create_database("microcred_bench"),
            "MICROCRED_INSTANCE_PATH": str(folder),
            "MICROCRED_SECRET_KEY": SECRET,
            "MICROCRED_BASE_URL": tool,
            "MICROCRED_DEVLMS_URL": lms,
        }
        # The served tool logs each request, as in production; the in-process copy stays quiet.
        env = {**os.environ, **config, "MICROCRED_LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT)}
        app = create_app({**config, "MICROCRED_LOG_LEVEL": "WARNING"})
        review_data.seed(app)
        assessor_course(app)
        engine = get_db(app).engine
        loads: dict[int, float] = {}
        started = time.perf_counter()
        review_data.generate(engine, 0, args.small, per_course=args.per_course)
        loads[args.small] = time.perf_counter() - started
        with engine.connect() as connection:
            database = "PostgreSQL " + str(connection.scalar(text("SHOW server_version")))
        options = ["-w", str(args.workers), "--backlog", "256"]
        for name, port, target in (
            ("tool", tool_port, "app:create_app()"),
            ("devlms", lms_port, "app.devlms:create_devlms_app()"),
        ):
            serve(processes, name, port, target, options, env, folder / f"{name}.log")
        wait_up(f"{tool}/healthz")
        wait_up(f"{lms}/")
        ids = lms_ids(app)
        people = {who: launch(lms, *ids[who]) for who in ("instructor", "assessor")}
        slugs = grant(app)
        devlms = processes.pop("devlms")  # only the launches needed it
        devlms.terminate()
        devlms.wait(timeout=20)
        db_pid = postmaster_pid(pg.folder)

        def cpu() -> tuple[float, float]:
            return cpu_seconds(processes["tool"].pid), cpu_seconds(db_pid)

        print(
            f"Microcred review benchmark: the tool under gunicorn ({args.workers} workers), "
            f"{database}, loopback, {os.cpu_count()} CPUs, {args.requests} requests per kind "
            "and size, one client"
        )
        sizes = (args.small, args.courses)
        counts: dict[int, dict[str, Statements]] = {}
        for size in sizes:
            if size != args.small:
                started = time.perf_counter()
                review_data.generate(engine, args.small, size, per_course=args.per_course)
                loads[size] = time.perf_counter() - started
            instructor = people["instructor"]
            idle_errors = wake(
                lambda b=instructor: (
                    b.http.get(f"{tool}/review", params={"lt": b.token}, timeout=60).status_code
                )
            )
            attempt = claim_next(tool, instructor)
            counts[size] = statements(app, people, slugs, attempt)
            rows, errors = [], {}
            for kind in KINDS:
                path, params, browser = request_of(kind, 0, people, slugs, attempt)
                query = {**params, "lt": browser.token}
                idle_errors += wake(  # and warm each worker's caches
                    lambda b=browser, url=tool + path, q=query: (
                        b.http.get(url, params=q, timeout=60).status_code
                    )
                )
                row, errors[kind] = measure(tool, kind, args.requests, people, slugs, attempt, cpu)
                rows.append(row)
            print()
            print(
                f"{size * args.per_course} submissions in {size} courses "
                f"(generated in {loads[size]:.0f} s)"
            )
            print(
                f"{'kind':<16} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
                f"{'tool CPU ms':>11} {'DB CPU ms':>9}  page says"
            )
            for row in rows:
                failed = f"; {errors[row.kind]} answered 500" if errors[row.kind] else ""
                print(f"{row.line()}  {counts[size][row.kind].waiting}{failed}")
            print(total(rows).line())
            print(f"500s in the warm-ups after idle periods (see wake()): {idle_errors}")
        small, large = sizes
        print()
        print(
            "SQL statements per request (in-process, Flask test client, same database) and "
            "their SELECTs' time under EXPLAIN ANALYZE (sum; slowest)"
        )
        print(
            f"{'kind':<16} {f'@{small * args.per_course}':>8} {f'@{large * args.per_course}':>8}"
            f"{'':10} {'sum ms':>8} {'slowest ms':>10} {'sum ms':>8} {'slowest ms':>10}  "
            "slowest at the large size"
        )
        for kind in KINDS:
            a, b = counts[small][kind], counts[large][kind]
            verdict = "constant" if a.count == b.count else "GROWS"
            print(
                f"{kind:<16} {a.count:>8} {b.count:>8}  {verdict:<8} {a.explained_ms:>8.1f} "
                f"{a.slowest_ms:>10.1f} {b.explained_ms:>8.1f} {b.slowest_ms:>10.1f}  "
                f"{describe(b.slowest_sql)}"
            )
        worst = max(KINDS, key=lambda kind: counts[large][kind].slowest_ms)
        print()
        print(f"Plan of the slowest statement at the large size ({worst}):")
        print(counts[large][worst].slowest_sql)
        print(counts[large][worst].slowest_plan)
        print()
        print(
            "The tool's CPU is its gunicorn master and workers; the DB's is the PostgreSQL "
            "postmaster and its backends."
        )
        errors = server_errors(folder / "tool.log")
        print(f"Unhandled errors in the tool's log: {sum(errors.values())}")
        for error, times in errors.items():
            print(f"  {times} x {error}")
    except SystemExit:
        log = folder / "tool.log"
        if log.exists():  # what the server said about the failed request
            print("\n".join(log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
        raise
    finally:
        if app is not None:
            get_db(app).engine.dispose()
        stop(processes)
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

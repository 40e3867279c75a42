"""Benchmark: the educator catalog's search with thousands of published credentials (issue 6).

The tool runs under gunicorn (2 workers) on a throwaway PostgreSQL server (or a SQLite file),
over loopback. The catalog is generated: credentials whose titles, descriptions, tags and hours
come from word lists, each version's content a copy of one of the sample catalog's versions
with those fields changed (so a version is as large as a real one, about 8 kB); one
credential in ten has a second, published version and one in ten a second version still in
draft; 10 stacks of 10 credentials (each with a milestone credential), 4 issuers. It is loaded
through ``import_catalog`` (every version checked against ``catalog.schema.json``), first
``--small`` credentials, then the rest up to ``--credentials``; PostgreSQL's statistics are
refreshed (``ANALYZE``) after each load.

The session is a real one: one launch through the development LMS (login initiation, OIDC
authorisation, the tool's launch; the LMS runs under gunicorn only for that launch), and the
session token (``lt=``) of the "Browse micro-credentials" link on the page it lands on is used
by every request.

For each catalog size, every request kind — the catalog with no filter, one word, two words,
a stack filter, a topic (tag) filter, a time filter, page 2, a credential's page, a stack's
page — runs ``--requests ÷ 9`` times in a block, after a few warm-up requests (words, stacks,
topics and credentials vary from one request to the next; every search finds something at both
sizes), and the table shows per kind and for all of them together (``all``): requests/s,
p50/p95/p99 latency, and CPU milliseconds per request of the tool's gunicorn (master and
workers) and of the database server (the PostgreSQL postmaster and its backends; with SQLite
the database work is inside the tool's CPU). With about 33 requests per kind a kind's p99 is
its slowest request.

Statement counts are taken in-process: the same tool, built by ``create_app`` on the same
database, serves one representative request of each kind through Flask's test client, with a
SQLAlchemy ``before_cursor_execute`` listener counting every statement sent (the launch
session's lookups included). The counts at the two sizes must be equal: a row says
``constant`` or ``GROWS``.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/catalog.py [--credentials 5000] [--requests 300] \\
        [--concurrency 1,8] [--database postgresql|sqlite] [--small 500]

On 2 cores the load generator, the tool and the database share the CPUs: at 8 concurrent
clients latency is bounded by Little's law (latency ≈ concurrency ÷ throughput), so compare
requests/s and the CPU per request, not the raw latency.
"""

from __future__ import annotations

import argparse
import copy
import json
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
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PRACTICES = [
    "Questioning", "Feedback", "Discourse", "Modelling", "Retrieval Practice", "Scaffolding",
    "Peer Assessment", "Goal Setting", "Inquiry", "Worked Examples", "Spaced Practice",
    "Self-Assessment", "Small-Group Instruction", "Project-Based Learning",
    "Vocabulary Instruction", "Think-Alouds", "Exit Tickets", "Cooperative Learning",
    "Classroom Routines", "Data Conversations", "Differentiation", "Formative Checks",
    "Argumentation", "Reading Conferences", "Metacognition", "Restorative Circles",
    "Station Rotation", "Concept Mapping", "Lab Notebooks", "Socratic Seminars",
]  # fmt: skip
SUBJECTS = [
    "Mathematics", "Science", "Reading", "Writing", "History", "Civics", "Computer Science",
    "Art", "Music", "Physical Education", "World Languages", "Early Literacy", "Algebra",
    "Geometry", "Biology", "Chemistry", "Physics", "Geography", "Media Literacy", "Health",
]  # fmt: skip
LEARNERS = [
    "Kindergarten", "Grades 1-2", "Grades 3-5", "Grades 6-8", "Grades 9-12", "Adult Learners",
    "Multilingual Learners", "Special Education",
]  # fmt: skip
VERBS = ["Plan and use", "Design", "Lead", "Adapt", "Sustain", "Introduce", "Refine", "Coach"]
PURPOSES = [
    "that reveal what students understand",
    "that move learning forward",
    "so that every student takes part",
    "that build on what students already know",
    "that make thinking visible",
    "that students can run on their own",
]
THEMES = [
    "formative assessment", "equity", "UDL", "literacy", "numeracy", "SEL", "technology",
    "collaboration", "inclusion", "student agency",
]  # fmt: skip
HOURS = [4, 6, 8, 10, 12, 15, 20, 25]
STACKS = 10
STACK_SIZE = 10
ORGANISATIONS = 4
KINDS = [
    "no filter", "one word", "two words", "stack", "tag", "hours", "page 2",
    "credential page", "stack page",
]  # fmt: skip


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class Shape:
    """What credential ``n`` is made of (the same at every catalog size)."""

    n: int
    practice: str
    subject: str
    learners: str
    tags: list[str]

    @property
    def slug(self) -> str:
        return f"{_slug(self.practice)}-{_slug(self.subject)}-{self.n}"

    @property
    def title(self) -> str:
        return f"{self.practice} in {self.subject} for {self.learners}"


def shape(n: int) -> Shape:
    rng = random.Random(n)
    practice, subject, learners = (
        rng.choice(PRACTICES),
        rng.choice(SUBJECTS),
        rng.choice(LEARNERS),
    )
    tags = [subject.lower(), practice.lower(), learners]
    tags += rng.sample(THEMES, rng.randint(0, 2))
    return Shape(n, practice, subject, learners, tags)


def _version(template: dict[str, Any], s: Shape, number: int, status: str) -> dict[str, Any]:
    rng = random.Random(-s.n - number)
    version = {
        k: copy.deepcopy(v)
        for k, v in template.items()
        if k not in ("number", "status", "published_at", "retired_at", "image")
    }
    title = s.title if number == 1 else f"{s.title}, second edition"
    version.update(
        number=number,
        status=status,
        title=title,
        short_description=(
            f"{rng.choice(VERBS)} {s.practice.lower()} routines {rng.choice(PURPOSES)} in "
            f"{s.subject} lessons for {s.learners.lower()}."
        ),
        competency=f"The educator uses {s.practice.lower()} in {s.subject}. "
        + version["competency"],
        tags=s.tags,
        estimated_hours=rng.choice(HOURS),
    )
    if status != "draft":
        version["published_at"] = f"2026-0{1 + number}-01T00:00:00Z"
    return version


def catalog_document(start: int, stop: int, *, stacks: bool) -> dict[str, Any]:
    """Credentials ``start`` to ``stop - 1`` in the catalog format (and the stacks, if asked)."""
    sample = json.loads((ROOT / "app/catalog/sample/catalog.json").read_text("utf-8"))
    templates = [c["versions"][-1] for c in sample["credentials"]]
    organisations = [
        {
            "slug": f"institute-{k}",
            "name": f"Teaching Institute {k}",
            "url": f"https://institute-{k}.example.edu",
            "email": f"badges@institute-{k}.example.edu",
            "description": "Micro-credentials for classroom practice.",
        }
        for k in range(ORGANISATIONS)
    ]
    credentials = []
    for n in range(start, stop):
        s, template = shape(n), templates[n % len(templates)]
        versions = [_version(template, s, 1, "published")]
        if n % 10 == 3:
            versions.append(_version(template, s, 2, "published"))
        elif n % 10 == 7:
            versions.append(_version(template, s, 2, "draft"))
        credentials.append(
            {"slug": s.slug, "organisation": f"institute-{n % ORGANISATIONS}", "versions": versions}
        )
    stack_list = []
    if stacks:
        for k in range(STACKS):
            members = [shape(n) for n in range(k * STACK_SIZE, (k + 1) * STACK_SIZE)]
            stack_list.append(
                {
                    "slug": f"pathway-{k}",
                    "organisation": f"institute-{k % ORGANISATIONS}",
                    "title": f"{members[0].subject} pathway {k}",
                    "description": f"Ten credentials, from {members[0].practice.lower()} on.",
                    "credentials": [m.slug for m in members],
                    "milestone": shape(STACKS * STACK_SIZE + k).slug,
                }
            )
    return {
        "format": "microcred-catalog/1",
        "organisations": organisations,
        "credentials": credentials,
        "stacks": stack_list,
    }


def paths(kind: str, n: int, size: int, small: int) -> dict[str, Any]:
    """The ``n``-th request of a kind: a path and query parameters.

    Words, stacks and topics come from the first ``small`` credentials, so every request
    finds something at both sizes."""
    s = shape((n * 37) % small)
    if kind == "no filter":
        return {"path": "/catalog", "params": {}}
    if kind == "one word":
        return {"path": "/catalog", "params": {"q": s.practice.split()[0].lower()}}
    if kind == "two words":
        return {"path": "/catalog", "params": {"q": f"{s.practice.split()[0]} {s.subject}"}}
    if kind == "stack":
        return {"path": "/catalog", "params": {"stack": f"pathway-{n % STACKS}"}}
    if kind == "tag":
        return {"path": "/catalog", "params": {"tag": s.tags[n % len(s.tags)]}}
    if kind == "hours":
        return {"path": "/catalog", "params": {"hours": HOURS[1 + n % 5]}}
    if kind == "page 2":
        return {"path": "/catalog", "params": {"page": 2}}
    if kind == "credential page":
        return {"path": f"/catalog/credentials/{shape((n * 97) % size).slug}", "params": {}}
    if kind == "stack page":
        return {"path": f"/catalog/stacks/pathway-{n % STACKS}", "params": {}}
    raise ValueError(kind)


def load(app: Any, start: int, stop: int) -> float:
    """Import credentials ``start`` to ``stop - 1``; return the seconds it took."""
    from sqlalchemy import text

    from app.catalog.exchange import import_catalog
    from app.db import get_db

    document = catalog_document(start, stop, stacks=start == 0)
    started = time.perf_counter()
    db = get_db(app)
    with db.begin() as session:
        import_catalog(session, document)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return time.perf_counter() - started


def seed(app: Any) -> tuple[int, int]:
    """Migrate, register the development LMS and its demo course (no sample catalog); return
    the instructor's and the welcome link's ids in the LMS."""
    from sqlalchemy import select

    from app import migrate
    from app.db import get_db
    from app.devlms.models import DevEnrolment, DevLink
    from app.devlms.seed import seed_demo

    settings = app.config["MICROCRED_SETTINGS"]
    migrate.upgrade(settings.database_url)
    with get_db(app).begin() as session:
        seed_demo(session, settings)
        user = session.scalars(
            select(DevEnrolment.user_id).where(DevEnrolment.role == "Instructor")
        ).first()
        link = session.scalars(select(DevLink.id).where(DevLink.title == "Microcred: welcome"))
        return int(user or 0), int(link.one())


def launch_token(lms: str, user_id: int, link_id: int) -> str:
    """Launch once through the development LMS; return the catalog link's session token."""
    from tests.support.lms import bridge_data, forms, submit

    http = requests.Session()
    http.post(f"{lms}/act-as", data={"user_id": user_id}, timeout=60).raise_for_status()
    login = submit(http, lms, forms(http.get(f"{lms}/launch/link/{link_id}", timeout=60).text)[0])
    auth = http.get(bridge_data(login.text)["next"], timeout=60)
    page = submit(http, auth.url, forms(auth.text)[0])
    found = re.search(r'href="/catalog\?lt=([^"]+)"', page.text)
    if page.status_code != 200 or not found:
        raise SystemExit(f"launch failed: {page.status_code} {page.text[:300]}")
    return unescape(found.group(1))


def statement_counts(app: Any, token: str, size: int, small: int) -> dict[str, int]:
    """Statements one request of each kind sends (after one warm-up request of that kind)."""
    from sqlalchemy import event

    from app.db import get_db

    engine = get_db(app).engine
    sent = [0]

    def count(*_args: Any) -> None:
        sent[0] += 1

    counts: dict[str, int] = {}
    client = app.test_client()
    event.listen(engine, "before_cursor_execute", count)
    try:
        for kind in KINDS:
            wanted = paths(kind, 0, size, small)
            query = {**wanted["params"], "lt": token}
            for _ in range(2):
                sent[0] = 0
                answer = client.get(wanted["path"], query_string=query)
                if answer.status_code != 200:
                    raise SystemExit(f"{kind}: {answer.status_code} {answer.text[:300]}")
            counts[kind] = sent[0]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counts


@dataclass
class Row:
    kind: str
    seconds: float
    latencies: list[float]
    tool_cpu: float
    db_cpu: float | None

    def line(self) -> str:
        from bench.launch import pct

        count = len(self.latencies)
        db = "-" if self.db_cpu is None else f"{self.db_cpu / count * 1000:.1f}"
        return (
            f"{self.kind:<16} {count / self.seconds:>8.1f} "
            f"{statistics.median(self.latencies) * 1000:>7.1f} {pct(self.latencies, 0.95):>7.1f} "
            f"{pct(self.latencies, 0.99):>7.1f} {self.tool_cpu / count * 1000:>11.1f} {db:>9}"
        )


def measure(
    base: str,
    token: str,
    kind: str,
    count: int,
    concurrency: int,
    size: int,
    small: int,
    cpu: Callable[[], tuple[float, float | None]],
) -> Row:
    from bench.launch import run

    local = threading.local()

    def job(n: int) -> float:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        request = paths(kind, n, size, small)
        started = time.perf_counter()
        answer = local.http.get(
            base + request["path"], params={**request["params"], "lt": token}, timeout=60
        )
        took = time.perf_counter() - started
        if answer.status_code != 200:
            raise SystemExit(f"{kind}: {answer.status_code} {answer.text[:300]}")
        return took

    tool_before, db_before = cpu()
    seconds, latencies = run(count, concurrency, job)
    tool_after, db_after = cpu()
    db = None if db_before is None or db_after is None else db_after - db_before
    return Row(kind, seconds, latencies, tool_after - tool_before, db)


def total(rows: list[Row]) -> Row:
    db = [r.db_cpu for r in rows]
    return Row(
        "all",
        sum(r.seconds for r in rows),
        sorted(x for r in rows for x in r.latencies),
        sum(r.tool_cpu for r in rows),
        None if None in db else sum(d or 0.0 for d in db),
    )


def postmaster_pid(folder: Path) -> int:
    return int((folder / "data" / "postmaster.pid").read_text().split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--credentials", type=int, default=5000, help="the large catalog")
    parser.add_argument("--small", type=int, default=500, help="the small catalog")
    parser.add_argument("--requests", type=int, default=300, help="per size and concurrency")
    parser.add_argument("--concurrency", default="1")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if not STACKS * STACK_SIZE + STACKS <= args.small < args.credentials:
        parser.error(f"need {STACKS * STACK_SIZE + STACKS} <= --small < --credentials")
    from sqlalchemy import text

    from app import create_app
    from app.db import get_db
    from bench.launch import SECRET, cpu_seconds, serve, stop, wait_up
    from tests.support.postgres import free_port, start_postgres

    folder = Path(tempfile.mkdtemp(prefix="microcred-bench-"))
    pg = start_postgres() if args.database == "postgresql" else None
    processes: dict[str, subprocess.Popen[bytes]] = {}
    app = None
    try:
        tool_port, lms_port = free_port(), free_port()
        tool, lms = f"http://127.0.0.1:{tool_port}", f"http://127.0.0.1:{lms_port}"
        config = {
            "MICROCRED_DATABASE_URL": pg.create_database("microcred_bench")
            if pg
            else f"sqlite:///{folder}/bench.sqlite",
            "MICROCRED_INSTANCE_PATH": str(folder),
            "MICROCRED_SECRET_KEY": SECRET,
            "MICROCRED_BASE_URL": tool,
            "MICROCRED_DEVLMS_URL": lms,
        }
        # The served tool logs each request, as in production; the in-process copy stays quiet.
        env = {**os.environ, **config, "MICROCRED_LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT)}
        app = create_app({**config, "MICROCRED_LOG_LEVEL": "WARNING"})
        user_id, link_id = seed(app)
        with get_db(app).engine.connect() as connection:
            database = (
                "PostgreSQL " + str(connection.scalar(text("SHOW server_version")))
                if pg
                else "SQLite " + str(connection.scalar(text("SELECT sqlite_version()")))
            )
        options = ["-w", str(args.workers), "--backlog", "256"]
        for name, port, target in (
            ("tool", tool_port, "app:create_app()"),
            ("devlms", lms_port, "app.devlms:create_devlms_app()"),
        ):
            serve(processes, name, port, target, options, env, folder / f"{name}.log")
        wait_up(f"{tool}/healthz")
        wait_up(f"{lms}/")
        token = launch_token(lms, user_id, link_id)
        devlms = processes.pop("devlms")  # only the launch needed it
        devlms.terminate()
        devlms.wait(timeout=20)
        db_pid = postmaster_pid(pg.folder) if pg else None

        def cpu() -> tuple[float, float | None]:
            return cpu_seconds(processes["tool"].pid), (
                cpu_seconds(db_pid) if db_pid is not None else None
            )

        per_kind = max(1, args.requests // len(KINDS))
        print(
            f"Microcred catalog benchmark: the tool under gunicorn ({args.workers} workers), "
            f"{database}, loopback, {os.cpu_count()} CPUs, {per_kind} requests per kind and "
            "row, one launch session"
        )
        counts: dict[int, dict[str, int]] = {}
        loaded = 0
        for size in (args.small, args.credentials):
            took = load(app, loaded, size)
            loaded = size
            counts[size] = statement_counts(app, token, size, args.small)
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                for kind in KINDS:  # warm each worker's caches and connections
                    measure(tool, token, kind, 2 * args.workers, 1, size, args.small, cpu)
                rows = [
                    measure(tool, token, kind, per_kind, concurrency, size, args.small, cpu)
                    for kind in KINDS
                ]
                print()
                print(
                    f"{size} published credentials (loaded in {took:.0f} s), "
                    f"concurrency {concurrency}"
                )
                print(
                    f"{'kind':<16} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
                    f"{'tool CPU ms':>11} {'DB CPU ms':>9}"
                )
                for row in [*rows, total(rows)]:
                    print(row.line())
        small, large = args.small, args.credentials
        print()
        print("SQL statements per request (in-process, Flask test client, same database)")
        print(f"{'kind':<16} {f'@{small}':>8} {f'@{large}':>8}")
        for kind in KINDS:
            verdict = "constant" if counts[small][kind] == counts[large][kind] else "GROWS"
            print(f"{kind:<16} {counts[small][kind]:>8} {counts[large][kind]:>8}  {verdict}")
        print()
        print(
            "The tool's CPU is its gunicorn master and workers; the DB's is the PostgreSQL "
            "postmaster and its backends (with SQLite the database work is in the tool's CPU)."
        )
        print(
            "Latency at concurrency above the cores is bounded by Little's law: "
            "latency ≈ concurrency ÷ throughput."
        )
    finally:
        if app is not None:
            get_db(app).engine.dispose()
        stop(processes)
        if pg:
            pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

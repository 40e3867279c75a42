"""Measure the CPU a full LTI launch costs the tool and the development LMS, request by request.

Both apps are built as ``bench/launch.py`` serves them (one database, the demo seeded, extra
learners), on a fresh database: SQLite in a temporary folder, a throwaway PostgreSQL server
with ``--postgres``, or ``--database URL``. They also listen on loopback, so that the tool
fetches the platform's JWKS over HTTP as it would in production (once, at warm-up); the
launches themselves go through each app's Flask test client, a new browser (fresh clients) and
a new learner each time, in one thread, so the process's CPU time (``time.process_time``)
around each request is that request's. A launch is: the LMS's initiation page → the tool's
login (bridge page) → the LMS's authorization (signs the id_token) → the tool's launch (every
check), which answers with the activity's page (a 303 to another landing: then the tool's first
page is a request of its own). The browser's ``act-as`` on the LMS comes before it and is
reported too: the benchmark leaves it out of the launch's latency, not out of the LMS's CPU.

    .venv/bin/python -m tests.support.launch_cpu [-n 300] [--postgres | --database URL] \\
        [--profile [tool|lms|all|tool:launch|...]] [--dump FILE]

It prints, per request, CPU ms and SQL statements per launch, then each app's total, and the
tool's CPU for the benchmark's *floor* (``bench/floor.py``: only verify a posted id_token), as
many times as there were launches, with a launch's cost in floors. On SQLite
the database's own work is in this process and counted; on PostgreSQL the server's is not.
``--profile`` prints the 30 most expensive functions (cProfile, CPU time) of the requests of one
app, of both, or of one kind of request (``tool:launch``) instead; ``--dump`` also writes the
raw profile for ``snakeviz`` or ``pstats``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event

from tests.support.lms import bridge_data, forms

SECRET = "launch-cpu-secret-key-that-is-long-enough-0123456789abcdef"
TOOL_STEPS = ("login", "launch", "first page")
FLOOR = "floor"
# The browser signs in to the LMS (``act-as``) outside the benchmark's timing but inside the
# LMS's CPU time that the benchmark reads from /proc.
LMS_STEPS = ("act-as", "initiation", "authorization")


class Meter:
    """CPU time and statements per named request, with an optional profiler around some."""

    def __init__(self, profile: str | None) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.statements: dict[str, int] = defaultdict(int)
        self.texts: dict[str, list[str]] = defaultdict(list)
        """The statements themselves, so that a count that changed says what changed."""
        self.profile_side = profile
        # CPU time, not wall time: waiting for PostgreSQL is not the tool's cost.
        self.profiler = cProfile.Profile(time.process_time) if profile else None
        self.recording = False
        self._current: str | None = None
        self._thread: int | None = None

    def counter(self, side: str) -> Callable[..., None]:
        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            # Only the measured request's own: the servers' threads also serve whoever else
            # calls them meanwhile (a tool's token request, a browser's poll), and the suite
            # runs tests in parallel processes that may call a port this test now listens on.
            if self.recording and self._current is not None and self._in_request():
                self.statements[f"{side}:{self._current}"] += 1
                self.texts[f"{side}:{self._current}"].append(" ".join(statement.split())[:200])

        return count

    def _in_request(self) -> bool:
        return threading.get_ident() == self._thread

    @contextmanager
    def request(self, side: str, step: str) -> Iterator[None]:
        self._current = step
        self._thread = threading.get_ident()
        profiling = (
            self.recording
            and self.profiler is not None
            and self.profile_side in {side, f"{side}:{step}", "all"}
        )
        if profiling:
            assert self.profiler is not None
            self.profiler.enable()
        started = time.process_time()
        try:
            yield
        finally:
            took = time.process_time() - started
            if profiling:
                assert self.profiler is not None
                self.profiler.disable()
            self._current = None
            if self.recording:
                self.cpu[f"{side}:{step}"] += took


def build(database_url: str, instance: Path) -> tuple[Any, Any, list[int], int, Any]:
    """Serve both apps on loopback; return them, learner ids, the link to launch, servers."""
    from app import migrate
    from app.db import get_db
    from app.devlms.seed import seed_demo
    from tests.support.live import live_servers

    migrate.upgrade(database_url)
    overrides = {
        "MICROCRED_ENV": "development",
        "MICROCRED_SECRET_KEY": SECRET,
        "MICROCRED_DATABASE_URL": database_url,
        "MICROCRED_INSTANCE_PATH": str(instance),
        # As in the benchmark: every request logs a line.
        "MICROCRED_LOG_LEVEL": "INFO",
    }
    servers = live_servers(overrides)
    live = servers.__enter__()
    # Added before the tool's first request, as Flask requires.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.floor import add_floor
    from bench.launch import enrol_learners, first_link

    add_floor(live.tool)
    settings = live.tool.config["MICROCRED_SETTINGS"]
    with get_db(live.tool).begin() as session:
        seed_demo(session, settings)
        from app.catalog.cli import seed_sample_catalog

        seed_sample_catalog(session)
        ids, link = enrol_learners(session, "cpu"), first_link(session)
    assert link is not None
    return live, servers, ids, link, overrides


def launch(live: Any, meter: Meter, user_id: int, link_id: int, *, welcome: bool = True) -> None:
    """One full launch by a new browser; each request's CPU goes to ``meter``. ``welcome``:
    the link's page is the demo's welcome page (its first link's), which is checked."""
    tool_host = urlsplit(live.tool_url).netloc
    lms_host = urlsplit(live.devlms_url).netloc
    tool = live.tool.test_client()
    lms = live.devlms.test_client()
    tool_base, lms_base = f"http://{tool_host}", f"http://{lms_host}"
    with meter.request("lms", "act-as"):
        signed_in = lms.post("/act-as", data={"user_id": user_id}, base_url=lms_base)
    assert signed_in.status_code == 302
    with meter.request("lms", "initiation"):
        page = lms.get(f"/launch/link/{link_id}", base_url=lms_base)
    initiation = forms(page.get_data(as_text=True))[0]
    assert initiation.action.startswith(live.tool_url), initiation.action
    with meter.request("tool", "login"):
        login = tool.post(
            urlsplit(initiation.action).path, data=initiation.fields, base_url=tool_base
        )
    next_url = urlsplit(bridge_data(login.get_data(as_text=True))["next"])
    with meter.request("lms", "authorization"):
        auth = lms.get(next_url.path, query_string=next_url.query, base_url=lms_base)
    post = forms(auth.get_data(as_text=True))[0]
    with meter.request("tool", "launch"):
        page = tool.post(urlsplit(post.action).path, data=post.fields, base_url=tool_base)
    if page.status_code == 303:  # a landing other than the activity's page
        target = urlsplit(page.headers["Location"])
        with meter.request("tool", "first page"):
            page = tool.get(target.path, query_string=target.query, base_url=tool_base)
    text = page.get_data(as_text=True)
    if page.status_code != 200 or (welcome and "Welcome," not in text):
        raise SystemExit(f"launch failed: {page.status_code} {' '.join(text.split())[:500]}")


def id_token(live: Any, user_id: int, link_id: int) -> str:
    """An id_token the LMS signs for a launch of ``link_id`` by ``user_id`` (for the floor)."""
    tool_base = f"http://{urlsplit(live.tool_url).netloc}"
    lms_base = f"http://{urlsplit(live.devlms_url).netloc}"
    tool, lms = live.tool.test_client(), live.devlms.test_client()
    lms.post("/act-as", data={"user_id": user_id}, base_url=lms_base)
    initiation = forms(lms.get(f"/launch/link/{link_id}", base_url=lms_base).get_data(True))[0]
    login = tool.post(urlsplit(initiation.action).path, data=initiation.fields, base_url=tool_base)
    next_url = urlsplit(bridge_data(login.get_data(as_text=True))["next"])
    auth = lms.get(next_url.path, query_string=next_url.query, base_url=lms_base)
    return forms(auth.get_data(as_text=True))[0].fields["id_token"]


def floor(live: Any, meter: Meter, token: str) -> None:
    """One request to the benchmark's floor: only verify a posted id_token."""
    client = live.tool.test_client()
    with meter.request("tool", FLOOR):
        answer = client.post(
            "/bench/verify",
            data={"id_token": token},
            base_url=f"http://{urlsplit(live.tool_url).netloc}",
        )
    assert answer.status_code == 200, answer.get_data(as_text=True)


def measure(args: argparse.Namespace, url: str, folder: Path) -> None:
    """Launch ``n`` times after a warm-up and print CPU ms and statements per request."""
    from app.db import get_db

    live, servers, learners, link_id, _ = build(url, folder / "instance")
    meter = Meter(args.profile)
    event.listen(get_db(live.tool).engine, "before_cursor_execute", meter.counter("tool"))
    event.listen(get_db(live.devlms).engine, "before_cursor_execute", meter.counter("lms"))
    out = sys.stdout
    try:
        # Log lines are formatted as in production, then dropped.
        with open(os.devnull, "w") as devnull:
            sys.stdout = devnull
            for n in range(args.warmup):  # imports, template compilation, JWKS, pools
                launch(live, meter, learners[n % len(learners)], link_id)
            tokens = [id_token(live, learners[n], link_id) for n in range(20)]
            meter.recording = True
            for n in range(args.n):
                launch(live, meter, learners[(args.warmup + n) % len(learners)], link_id)
            if meter.profiler is None:
                for n in range(args.n):
                    floor(live, meter, tokens[n % len(tokens)])
            meter.recording = False
    finally:
        sys.stdout = out
        servers.__exit__(None, None, None)
    if meter.profiler is not None:
        stream = io.StringIO()
        stats = pstats.Stats(meter.profiler, stream=stream)
        stats.sort_stats(args.sort).print_stats(30)
        print(stream.getvalue())
        if args.dump:
            stats.dump_stats(args.dump)
            print(f"profile written to {args.dump}")
        return
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    print(f"{backend}: {args.n} full launches, CPU ms and SQL statements per launch")
    print(f"{'app':<5} {'request':<14} {'CPU ms':>7} {'statements':>10}")
    for side, steps in (("tool", TOOL_STEPS), ("lms", LMS_STEPS)):
        total_cpu, total_statements = 0.0, 0
        for step in steps:
            key = f"{side}:{step}"
            cpu = meter.cpu[key] / args.n * 1000
            statements = meter.statements[key] / args.n
            total_cpu += cpu
            total_statements += meter.statements[key]
            print(f"{side:<5} {step:<14} {cpu:>7.2f} {statements:>10.1f}")
        print(f"{side:<5} {'total':<14} {total_cpu:>7.2f} {total_statements / args.n:>10.1f}")
        if side == "tool":
            floor_cpu = meter.cpu[f"tool:{FLOOR}"] / args.n * 1000
            print(
                f"{'tool':<5} {'floor':<14} {floor_cpu:>7.2f} "
                f"{meter.statements[f'tool:{FLOOR}'] / args.n:>10.1f}"
                f"   (a launch costs {total_cpu / floor_cpu:.1f} floors)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="launches measured")
    parser.add_argument("--warmup", type=int, default=20, help="launches before measuring")
    parser.add_argument("--database", help="a database URL (default: a new SQLite file)")
    parser.add_argument(
        "--postgres", action="store_true", help="on a throwaway PostgreSQL server instead"
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="tool",
        choices=(
            "tool",
            "lms",
            "all",
            *(f"tool:{step}" for step in TOOL_STEPS),
            *(f"lms:{step}" for step in LMS_STEPS),
        ),
        help="print a cProfile summary of one app's requests, or of one request "
        "('tool:launch'); default: the tool's",
    )
    parser.add_argument("--sort", default="cumulative", help="the summary's order (tottime, ...)")
    parser.add_argument("--dump", help="with --profile: also write the raw profile here")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="launch-cpu-"))
    from tests.support.postgres import harness_database

    with harness_database(args.postgres, args.database, folder, "launch_cpu") as url:
        measure(args, url, folder)


if __name__ == "__main__":
    main()

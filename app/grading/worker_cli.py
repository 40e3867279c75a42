"""``flask worker``: the score worker as a process (the scaled shape), and how ``flask serve``
starts it as a thread (the embedded default); ``flask grades reconcile``."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.badges import processing
from app.db import get_db
from app.grading import reconcile, worker
from app.lti import runtime
from config import Settings


def build(app: Flask, *, threads: int | None = None, name: str | None = None) -> worker.Worker:
    """Make a worker with the app's database, AGS client and settings (in an app context)."""
    settings: Settings = app.config["MICROCRED_SETTINGS"]
    with app.app_context():
        client = runtime().ags()
    return worker.Worker(
        get_db(app),
        client,
        worker.Settings(
            threads=threads or settings.worker_threads,
            lease_seconds=settings.worker_lease_seconds,
            retry_base_seconds=settings.worker_retry_seconds,
            max_tries=settings.worker_max_tries,
        ),
        name=name,
    )


def start_embedded(app: Flask) -> worker.Worker | None:
    """Start the worker thread of ``flask serve`` when the settings ask for it."""
    settings: Settings = app.config["MICROCRED_SETTINGS"]
    if not settings.embedded_worker:
        return None
    found = build(app, name="embedded-worker")
    found.run_in_thread()
    return found


@click.command("worker")
@with_appcontext
@click.option("--threads", type=click.IntRange(1, 256), help="Sends in flight (default: setting).")
@click.option(
    "--until-idle",
    is_flag=True,
    help="Exit once nothing is waiting to be sent (for scripts and one-off catch-ups).",
)
def worker_command(threads: int | None, until_idle: bool) -> None:
    """Send scores to the LMSs' gradebooks and issue earned badges until stopped (SIGTERM or
    Ctrl+C finish the work in flight first)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = build(app, threads=threads)
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            found.stop()

        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, _stop)
    # The claiming loop waits on the database and the sending threads on the LMS; with the
    # default 5 ms switch interval each of the loop's round trips may wait that long for the
    # GIL behind the senders, and the loop, not the LMS, would set the pace.
    sys.setswitchinterval(0.0005)
    click.echo(f"{found.name}: sending scores with {found.settings.threads} threads.")
    badges = processing.build(app, name=f"{found.name}-badges")
    if not until_idle:
        badges.run_in_thread()
    try:
        counters = found.run(until_idle=until_idle)
        if until_idle:
            issued = badges.run(until_idle=True)
            click.echo(f"{badges.name}: issued {issued.issued} badges.")
    finally:
        badges.stop()
        if badges.thread is not None:
            badges.thread.join(timeout=30)
        for number, handler in previous.items():
            signal.signal(number, handler)
    ungraded = (
        f" {counters.no_column} belonged to activities the LMS keeps no grades for (see their "
        "Gradebook sync page)."
        if counters.no_column
        else ""
    )
    click.echo(
        f"{found.name}: stopped. Delivered {counters.delivered}, to retry {counters.retried}, "
        f"failed {counters.failed}.{ungraded}"
    )


grades_group = AppGroup("grades", help="The LMS gradebooks: compare them with the decisions.")


@grades_group.command("reconcile")
@click.option("--platform", "platform_id", type=int, help="Only this registration (its id).")
def reconcile_command(platform_id: int | None) -> None:
    """Read each gradebook's results and send again every decision the LMS does not show."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with get_db(app).begin() as session:
        report = reconcile.reconcile(session, runtime().ags(), registration_id=platform_id)
    standing = report.teachers_grades
    click.echo(
        f"Checked {report.checked} decided scores in {report.columns} gradebook columns: "
        f"{report.agreeing} agree, {report.resent} queued to be sent again, {len(standing)} "
        "kept as a teacher's grade in the LMS."
    )
    for problem in report.unreadable:
        click.echo(f"Could not read: {problem}", err=True)
    if report.resent:
        click.echo("A running worker sends them; or run `flask worker --until-idle`.")
    if standing:
        click.echo(
            "A teacher's grade stands in the LMS for these: the LMS keeps a grade a teacher "
            "set over Microcred's score, so Microcred no longer sends them."
        )
        for cell in standing:
            click.echo(
                f"  {cell.learner} in “{cell.link}”: the LMS shows {cell.lms_grade}; "
                f"Microcred's decision is {cell.ours}."
            )
        for platform, advice in dict.fromkeys((c.platform, c.advice) for c in standing):
            click.echo(f"To have Microcred's score there instead ({platform}): {advice}")

"""The score sender as the worker's job (``flask worker``, the scaled shape, or a thread of
``flask serve``, the embedded default: ``app.outbox.jobs``); ``flask grades reconcile``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.db import get_db
from app.grading import reconcile, worker
from app.lti import runtime
from app.outbox.jobs import Job, Run
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


def _for(app: Flask, run: Run) -> worker.Worker:
    # Named as they always were: the worker's own name, or "embedded-worker" in flask serve.
    return build(app, threads=run.threads, name=f"{run.name}-worker" if run.embedded else run.name)


def _stopped(found: worker.Worker, _until_idle: bool) -> str:
    counters = found.counters
    ungraded = (
        f" {counters.no_column} belonged to activities the LMS keeps no grades for (see their "
        "Gradebook sync page)."
        if counters.no_column
        else ""
    )
    return (
        f"{found.name}: stopped. Delivered {counters.delivered}, to retry {counters.retried}, "
        f"failed {counters.failed}.{ungraded}"
    )


SENDING_SCORES: Job[worker.Worker] = Job(
    build=_for,
    serving="Score worker:     running in this process (sends grades to the LMS).",
    starting=lambda found: f"{found.name}: sending scores with {found.settings.threads} threads.",
    finished=_stopped,
)
"""The worker's job of sending scores (``grading.init_app`` adds it, first of the jobs)."""


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

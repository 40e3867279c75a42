"""``flask worker``: run every job the features gave the worker (``app.outbox.jobs``) until
stopped, or until none has anything due.

The first job added (the score sender: grading is wired before badges) runs in the command's
own thread and is the one SIGTERM and Ctrl+C stop; the others run beside it in threads, or,
with ``--until-idle``, one after another once it is idle. The command's help names what the
features' jobs do today; a feature that adds a job says so there too.
"""

from __future__ import annotations

import secrets
import signal
import sys
import threading
from types import FrameType
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from app.outbox.jobs import Run, jobs_of


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
    run = Run(name=f"worker-{secrets.token_hex(3)}", threads=threads)
    jobs = jobs_of(app)
    if not jobs:
        raise click.ClickException("No feature gave the worker a job: there is nothing to run.")
    first_job, *other_jobs = jobs
    first = first_job.build(app, run)
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            first.stop()

        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, _stop)
    # The claiming loop waits on the database and the sending threads on the LMS; with the
    # default 5 ms switch interval each of the loop's round trips may wait that long for the
    # GIL behind the senders, and the loop, not the LMS, would set the pace.
    sys.setswitchinterval(0.0005)
    _say(first_job.starting(first))
    others = [(job, job.build(app, run)) for job in other_jobs]
    if not until_idle:
        for _, loop in others:
            loop.run_in_thread()
    try:
        first.run(until_idle=until_idle)
        if until_idle:
            for job, loop in others:
                loop.run(until_idle=True)
                _say(job.finished(loop, True))
    finally:
        for _, loop in others:
            loop.stop()
            if loop.thread is not None:
                loop.thread.join(timeout=30)
        for number, handler in previous.items():
            signal.signal(number, handler)
    if not until_idle:
        for job, loop in others:
            _say(job.finished(loop, False))
    _say(first_job.finished(first, until_idle))


def _say(line: str | None) -> None:
    if line is not None:
        click.echo(line)

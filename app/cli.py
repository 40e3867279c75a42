"""``flask worker`` and ``flask serve``: the score worker with the badge issuing, and serving the
tool (and the development LMS). The other commands are their packages' (each ``init_app``)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from config import Settings


def _settings() -> Settings:
    s: Settings = current_app.config["MICROCRED_SETTINGS"]
    return s


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
    from app.badges import processing
    from app.grading.worker_cli import build

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


def init_app(app: Flask) -> None:
    app.cli.add_command(worker_command)

    @app.cli.command("serve")
    @click.option(
        "--devlms/--no-devlms",
        default=None,
        help="Also serve the development LMS (default: when it is enabled).",
    )
    def serve(devlms: bool | None) -> None:
        """Serve the tool (and the development LMS) until interrupted."""
        from app.badges.processing import start_embedded as start_badges
        from app.badges.services import site_of
        from app.devlms import create_devlms_app
        from app.grading.worker_cli import start_embedded
        from app.serve import host_port, start_server

        settings = _settings()
        with_devlms = settings.devlms_enabled if devlms is None else devlms
        host, port = host_port(settings.base_url)
        servers = [start_server(current_app._get_current_object(), host, port)]  # type: ignore[attr-defined]
        click.echo(f"Microcred tool:   {settings.base_url}/")
        if with_devlms:
            lms_host, lms_port = host_port(settings.devlms_url)
            servers.append(start_server(create_devlms_app(), lms_host, lms_port))
            click.echo(f"Development LMS:  {settings.devlms_url}/")
            click.echo("")
            click.echo(
                f"Open {settings.devlms_url}/ , pick a user, open the course and launch the tool."
            )
        embedded = start_embedded(current_app._get_current_object())  # type: ignore[attr-defined]
        badges = start_badges(current_app._get_current_object())  # type: ignore[attr-defined]
        if embedded is not None:
            click.echo("Score worker:     running in this process (sends grades to the LMS).")
        if badges is not None:
            click.echo("Badge issuing:    running in this process (issues earned badges).")
        if not site_of(current_app).checkable_by_wallets:  # say so before anyone relies on it
            click.echo(
                "Badges:           served over http, so wallets cannot check the badges it "
                "issues (their pages here can); docs/using.md, 'Badges from the demo', says why."
            )
        click.echo("Press Ctrl+C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            if embedded is not None:
                embedded.stop()
            if badges is not None:
                badges.stop()
            for server in servers:
                server.shutdown()

"""Review and grading: assessors judge submitted evidence against the rubric; decisions, and
the durable events they leave for the gradebook and badge issuance."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the review pages, the console's pages about assessors, turnaround and gradebook
    sync (under ``/admin``), the ``flask grading`` and ``flask grades`` commands, and the
    worker's job of sending scores."""
    from app.admin import URL_PREFIX
    from app.grading import admin_views, cli, views, worker_cli
    from app.outbox.jobs import add_job

    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp, url_prefix=URL_PREFIX)
    app.cli.add_command(cli.group)
    app.cli.add_command(worker_cli.grades_group)
    add_job(app, worker_cli.SENDING_SCORES)

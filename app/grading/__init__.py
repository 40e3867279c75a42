"""Review and grading: assessors judge submitted evidence against the rubric; decisions, and
the durable events they leave for the gradebook and badge issuance."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the review pages, the console's pages about assessors, turnaround and gradebook
    sync (under ``/admin``), and the ``flask grading`` and ``flask grades`` commands."""
    from app.admin import URL_PREFIX
    from app.grading import admin_views, cli, views, worker_cli

    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp, url_prefix=URL_PREFIX)
    app.cli.add_command(cli.group)
    app.cli.add_command(worker_cli.grades_group)

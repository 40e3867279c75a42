"""The console's outcome reports (``/admin/reports``): what educators earned, submitted, were
told "not yet" and have in progress, the continuing-education credit they earned, the rubric
criteria most often judged "not yet", and how long submitting and deciding took; each a page
with a chart and a table, and the table as CSV. For operators and organisation admins."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the reports' pages under the console's address."""
    from app.admin import URL_PREFIX
    from app.reports import views

    app.register_blueprint(views.bp, url_prefix=URL_PREFIX)

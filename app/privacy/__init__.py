"""Privacy: a person's records on request (issue 23 part 2; docs/privacy.md, "Records requests").

An export is one zip of everything the tool holds about a person, readable without the tool:
``index.html`` (a page with no scripts), ``data.json``, their evidence files and their badges
(signed credentials and baked images). It reads the features below it through their public
functions, so it sits above them in the layering (``tests/test_dependencies.py``).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the educator's records page (and the export's page template), the console's
    Records requests page (under ``/admin``), the ``flask privacy`` commands and the worker's
    job of building large exports."""
    from app.admin import URL_PREFIX
    from app.outbox.jobs import add_job
    from app.privacy import admin_views, building, views
    from app.privacy.cli import group

    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp, url_prefix=URL_PREFIX)
    app.cli.add_command(group)
    add_job(app, building.BUILDING_EXPORTS)

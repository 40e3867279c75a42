"""Privacy: a person's records on request (issue 23 part 2; docs/privacy.md, "Records requests").

An export is one zip of everything the tool holds about a person, readable without the tool:
``index.html`` (a page with no scripts), ``data.json``, their evidence files and their badges
(signed credentials and baked images). It reads the features below it through their public
functions, so it sits above them in the layering (``tests/test_dependencies.py``).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the privacy pages (and the export's page template) and the ``flask privacy``
    commands."""
    from app.privacy import views
    from app.privacy.cli import group

    app.register_blueprint(views.bp)
    app.cli.add_command(group)

"""The catalog: issuer organisations, micro-credentials and their versions, stacks, and their
authoring in the console."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the catalog's pages for educators, its authoring pages in the console (under
    ``/admin/catalog``) and the ``flask catalog`` commands."""
    from app.admin import URL_PREFIX
    from app.catalog import authoring_views, cli, stack_views, views

    app.register_blueprint(views.bp)
    app.register_blueprint(authoring_views.bp, url_prefix=URL_PREFIX + "/catalog")
    app.register_blueprint(stack_views.bp, url_prefix=URL_PREFIX + "/catalog/stacks")
    app.cli.add_command(cli.group)

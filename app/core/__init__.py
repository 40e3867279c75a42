"""Pages and endpoints that belong to no feature: the home page and the health check."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the home page, the health check and the shared static files (``/static``)."""
    from app.core import views

    app.register_blueprint(views.bp)

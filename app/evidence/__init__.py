"""Evidence: an educator's attempts at a micro-credential — text answers, links and files
gathered over days, autosaved without loss, and submitted for review."""

from __future__ import annotations

from flask import Flask

from config import Settings


def init_app(app: Flask, settings: Settings) -> None:
    """Give the app its evidence store, the workspace's and the files' routes and the ``flask
    evidence`` commands."""
    from app.evidence import cli, file_views, storage, views

    storage.init_app(app, settings)
    app.register_blueprint(file_views.bp)
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.group)

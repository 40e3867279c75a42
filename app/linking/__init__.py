"""Deep Linking and course activities: which credential a course's link stands for."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the Deep Linking picker and the binding of an activity to a credential."""
    from app.linking import views

    app.register_blueprint(views.bp)

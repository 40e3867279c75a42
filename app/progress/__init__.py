"""Where people stand on a course activity's micro-credential: the activity's page, who has
opened it, the class's progress, and the whole course's overview. It reads evidence, grading
and linking through their public functions and is imported back by none of them
(``tests/test_dependencies.py``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register an activity's page, the class's progress and the course overview."""
    from app.progress import views

    app.register_blueprint(views.bp)

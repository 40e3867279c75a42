"""The home page and ``/healthz``."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import text
from werkzeug.wrappers import Response

from app.db import db_session
from app.errors import AppError

bp = Blueprint(
    "core", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
)


@bp.get("/")
def index() -> str:
    settings = current_app.extensions["lti"].settings
    return render_template("core/index.html", settings=settings)


@bp.get("/healthz")
def healthz() -> Response:
    """Answer 200 when the app can reach its database, 503 otherwise."""
    try:
        db_session().execute(text("SELECT 1"))
    except Exception as exc:
        raise AppError(
            "The database is not reachable.",
            status=503,
            code="database_unavailable",
            title="Not ready",
        ) from exc
    return jsonify({"status": "ok"})

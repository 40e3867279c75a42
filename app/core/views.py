"""The home page, ``/healthz`` (liveness and readiness: ``app.health``) and the profile."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import health, inputs, lti
from app.core import moments
from app.db import db_session
from app.errors import RETRY_AFTER_SECONDS, AppError
from app.lti import services as lti_services

bp = Blueprint(
    "core", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
)
bp.add_app_template_filter(moments.moment, "moment")
bp.add_app_template_filter(moments.utc_iso, "utc_iso")


@bp.get("/")
def index() -> str:
    settings = current_app.extensions["lti"].settings
    return render_template("core/index.html", settings=settings)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The logo, where browsers look for a site's icon when a page names none (the tool's
    pages name it; an LMS's or a file's page may not)."""
    return Response(
        _logo(), mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


@functools.cache
def _logo() -> bytes:
    return resources.files("app.core").joinpath("static/microcred-logo.svg").read_bytes()


@bp.get("/healthz/live")
def liveness() -> Response:
    """Answer 200 while the process serves requests, touching nothing else (``app.health``)."""
    return _health_response(jsonify({"status": "alive"}))


@bp.get("/healthz/ready")
@bp.get("/healthz")
def readiness() -> Response:
    """Answer 200 when every part the instance needs answers, 503 naming those that do not."""
    ready, checks = health.readiness(current_app)
    response = jsonify({"status": "ready" if ready else "not ready", "checks": checks})
    if not ready:
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return _health_response(response)


def _health_response(response: Response) -> Response:
    # A policy of their own: the tool's lists the platforms' origins, read from the database,
    # which liveness must not touch and readiness may not reach.
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/profile", methods=["GET", "POST"])
def profile() -> Response | tuple[str, int] | str:
    """The person's own settings: for now, the name on their badges."""
    launch = lti.require_launch()
    session = db_session()
    if launch.is_anonymous:
        raise AppError(
            "Your LMS did not tell Microcred who you are, so there is no profile to keep.",
            status=403,
            code="anonymous_launch",
            title="No profile for anonymous visitors",
            hint="Ask your LMS administrator to share your name with Microcred.",
        )
    user = lti_services.find_user(session, launch)
    lti.session_token_for(launch)
    if request.method == "POST":
        typed = inputs.form().text("badge_name", max_length=inputs.LONG_TEXT)
        try:
            name = lti_services.clean_badge_name(typed)
        except lti_services.InvalidBadgeName as exc:
            page = render_template(
                "core/profile.html", launch=launch, user=user, value=typed, error=str(exc)
            )
            return page, 400
        lti_services.set_badge_name(session, launch, name)
        token_values: dict[str, Any] = {lti.session.SESSION_PARAM: g.session_token, "saved": 1}
        return redirect(url_for("core.profile", **token_values), code=303)
    value = (user.badge_name if user else None) or ""
    return render_template(
        "core/profile.html",
        launch=launch,
        user=user,
        value=value,
        saved=request.args.get("saved") == "1",
    )

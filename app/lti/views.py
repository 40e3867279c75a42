"""LTI endpoints: OIDC login initiation, the launch, and the tool's JWKS."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, url_for
from werkzeug.wrappers import Response

from app.db import db_session
from app.lti import keys, runtime, services, validation
from app.lti import login as oidc_login

bp = Blueprint("lti", __name__, template_folder="templates")


def tool_url(endpoint: str) -> str:
    """Return one of our absolute URLs, built from the configured public origin."""
    return runtime().settings.base_url + url_for(endpoint)


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> Response:
    rt = runtime()
    return oidc_login.login(
        db_session(),
        rt.tool_conf(),
        rt.storage(),
        rt.store,
        tool_url("lti.launch"),
        rt.settings.base_url,
    )


@bp.post("/lti/launch", endpoint="launch")
def launch_view() -> str:
    rt = runtime()
    session = db_session()
    validated = validation.validate_launch(
        session,
        rt.tool_conf(),
        rt.storage(),
        rt.store,
        rt.platform_keys(),
        rt.settings.base_url,
    )
    services.record_launch(session, validated)
    return render_template("lti/launched.html", launch=validated)


@bp.get("/.well-known/jwks.json")
@bp.get("/lti/jwks", endpoint="jwks")
def jwks() -> Response:
    response = jsonify(keys.jwks(db_session(), runtime().cipher))
    # Platforms cache this; short enough that a rotation's next key is seen well in time.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response

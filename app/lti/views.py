"""LTI endpoints: OIDC login initiation, the launch, the post-launch home page and session
API, and the tool's JWKS."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from app.db import db_session
from app.lti import (
    bridge,
    keys,
    require_launch,
    runtime,
    services,
    session,
    session_token_for,
    validation,
)
from app.lti import login as oidc_login
from app.lti.launch import Launch

log = logging.getLogger(__name__)

bp = Blueprint(
    "lti",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/lti/static",
)


def tool_url(endpoint: str) -> str:
    """Return one of our absolute URLs, built from the configured public origin."""
    return runtime().settings.base_url + url_for(endpoint)


@bp.after_request
def _no_store(response: Response) -> Response:
    # Launch pages carry one-time values and session tokens: never cache them (the JWKS sets
    # its own caching).
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.app_context_processor
def _session_helpers() -> dict[str, Any]:
    def with_session(endpoint: str, **values: Any) -> str:
        """A link to one of our pages that carries the launch session."""
        token = g.get("session_token")
        return url_for(endpoint, **values, **({session.SESSION_PARAM: token} if token else {}))

    return {
        "with_session": with_session,
        "session_field": session.SESSION_PARAM,
        "session_seconds": session.SESSION_SECONDS,
    }


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> Response:
    rt = runtime()
    return oidc_login.login(
        rt.tool_conf(),
        rt.storage(),
        rt.store,
        tool_url("lti.launch"),
        rt.settings.base_url,
    )


@bp.post("/lti/launch", endpoint="launch")
def launch_view() -> Response | str:
    """Validate the launch; finish it if the state cookie proved the browser, else ask the
    browser for its proof through the launch bridge."""
    rt = runtime()
    validated = validation.validate_launch(
        db_session(),
        rt.tool_conf(),
        rt.storage(),
        rt.store,
        rt.platform_keys(),
        rt.settings.base_url,
    )
    if validated.bound_by_cookie:
        return _finish(validated.launch, validated.claims, "cookie", validated.known)
    pending = bridge.hold(rt.store, validated, request.form.get("state", ""))
    return render_template("lti/launch_bridge.html", pending=pending)


@bp.post("/lti/launch/confirm")
def launch_confirm() -> Response | tuple[str, int]:
    """The launch bridge posts the browser's proof here."""
    rt = runtime()
    try:
        launch, claims, method = bridge.confirm(
            rt.store,
            db_session(),
            request.form.get("pending", ""),
            request.form.get("proof", ""),
            request.form.get("method", ""),
        )
    except bridge.BrowserNotProven as exc:
        return render_template(
            "lti/new_window.html",
            error=exc,
            fresh=exc.fresh_launch,
            tool_host=urlsplit(rt.settings.base_url).hostname,
            request_id=g.get("request_id"),
        ), exc.status
    return _finish(launch, claims, method)


LANDING = "progress.activity"
"""Where a course activity's launch lands (``app/progress``): its credential, its picker, or
"not set up yet"."""


def _finish(
    launch: Launch, claims: Mapping[str, Any], proven_by: str, known: Any = None
) -> Response:
    """Record the launch, keep what its pages read, and answer with its first page.

    A course activity's page is answered here, in the launch's own response, rather than after
    a 303 to it (one request fewer, and its session read from the launch in hand instead of
    from the store); the page gives itself its address (``lti/landing.js``), so that a reload
    asks for the page, not the launch again. Any other landing (a submission review, another
    ``target_link_uri``) is a 303 with the session token. ``known``: what the launch's
    validation found stored for it."""
    session.keep(runtime().durable_store, launch.launch_id, claims)
    services.record_launch(db_session(), launch, known)
    log.info(
        "launch",
        extra={
            "proven_by": proven_by,
            "message_type": launch.message_type,
            "registration_id": launch.registration_id,
        },
    )
    token = session_token_for(launch)
    target = launch.target_link_uri or ""
    path = urlsplit(target).path
    if not target or path in {url_for("lti.launch"), "/"}:
        values: dict[str, Any] = {session.SESSION_PARAM: token}
        if launch.is_submission_review:
            # The submission of the person it names, from the LMS's gradebook (app/grading).
            return redirect(url_for("grading.submission_for_user", **values), code=303)
        return _landing_page(launch, url_for(LANDING, **values))
    separator = "&" if "?" in target else "?"
    return redirect(f"{target}{separator}{urlencode({session.SESSION_PARAM: token})}", code=303)


def _landing_page(launch: Launch, address: str) -> Response:
    """The landing's page as its own view answers it, for ``launch``: the view finds the
    launch where a request's session token would put it (``require_launch``), and the page's
    address is ``address``. Its security headers are the landing's, not the handshake's."""
    g.launch = launch
    g.landing_endpoint = LANDING
    g.landing_address = address
    return make_response(current_app.view_functions[LANDING]())


@bp.get("/home")
def home() -> str:
    """Who launched: the landing page of a launch."""
    launch = require_launch()
    session_token_for(launch)
    return render_template("lti/launched.html", launch=launch)


@bp.get("/api/session")
def session_info() -> Response:
    """Tell a script who its session belongs to (``Authorization: Bearer <token>``)."""
    launch = require_launch()
    return jsonify(
        {
            "user": None
            if launch.user is None
            else {"name": launch.user.display_name, "email": launch.user.email},
            "anonymous": launch.is_anonymous,
            "roles": launch.role_labels,
            "course": launch.context.title if launch.context else None,
            "resource_link": launch.resource_link.title if launch.resource_link else None,
            "expires_in": session.SESSION_SECONDS,
        }
    )


@bp.post("/api/session/refresh")
def session_refresh() -> Response:
    """Give a page that stays open a fresh token (the old one stays valid until it expires)."""
    launch = require_launch()
    return jsonify({"token": session_token_for(launch), "expires_in": session.SESSION_SECONDS})


@bp.get("/.well-known/jwks.json")
@bp.get("/lti/jwks", endpoint="jwks")
def jwks() -> Response:
    """The tool's public keys: the next key of a rotation, the signing key, previous keys."""
    response = jsonify(keys.jwks(db_session(), runtime().cipher))
    # Platforms cache this; short enough that a rotation's next key is seen well within the
    # overlap (the CLI says: overlap must exceed the longest platform cache).
    response.headers["Cache-Control"] = f"public, max-age={keys.JWKS_MAX_AGE}"
    return response

"""OIDC third-party initiated login (LTI Core §5.1.1; 1EdTech Security Framework §5.1.1).

pylti1p3 builds the redirect to the platform's authorization endpoint (every parameter Moodle
requires, ``lti_message_hint`` echoed unaltered) and sets its short-lived state cookie. We add a
server-side record of the login, keyed by the state it issued: the nonce, the registration and
the login's ``target_link_uri``. The launch takes that record exactly once (LTI-CHECKLIST A9,
A10, A14, B).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from pylti1p3.contrib.flask import FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import OIDCException
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.lti.errors import LaunchError, explain
from app.lti.state import StateStore
from app.lti.tool_config import DatabaseToolConf, find_registration

STATE_TTL_SECONDS = 600
STATE_PREFIX = "login-state:"


def is_own_url(url: str, base_url: str) -> bool:
    return url == base_url or url.startswith(base_url + "/")


def login(
    session: Session,
    tool_conf: DatabaseToolConf,
    storage: Any,
    store: StateStore,
    launch_url: str,
    base_url: str,
) -> Response:
    """Answer a login initiation with the redirect to the platform's auth endpoint."""
    request = FlaskRequest()
    issuer = request.get_param("iss")
    if not issuer:
        raise LaunchError(
            "The login request does not say which LMS it comes from (no 'iss').",
            hint="Launch the tool from your course page rather than opening this address.",
            code="missing_issuer",
        )
    if not request.get_param("login_hint"):
        raise LaunchError(
            "The login request has no 'login_hint'.",
            hint="Launch the tool from your course page.",
            code="missing_login_hint",
        )
    client_id = request.get_param("client_id")
    registration = find_registration(session, issuer, client_id)
    if registration is None:
        raise LaunchError(
            f"No LMS with issuer {issuer!r}"
            + (f" and client id {client_id!r}" if client_id else "")
            + " is registered with Microcred.",
            hint="Ask your tool administrator to register this LMS (or to check its client id).",
            code="unknown_registration",
        )
    target = request.get_param("target_link_uri")
    if target and not is_own_url(target, base_url):
        raise LaunchError(
            f"The target link {target!r} is not an address of this tool.",
            hint="An LMS administrator should check the tool's target link URI.",
            code="foreign_target_link_uri",
        )
    try:
        redirect = FlaskOIDCLogin(request, tool_conf, launch_data_storage=storage)
        redirect_object = redirect.get_redirect_object(launch_url)
    except OIDCException as exc:
        raise explain(exc) from exc
    params = parse_qs(urlsplit(redirect_object.get_redirect_url()).query)
    store.put(
        STATE_PREFIX + params["state"][0],
        {
            "nonce": params["nonce"][0],
            "registration_id": registration.id,
            "target_link_uri": target,
        },
        STATE_TTL_SECONDS,
    )
    response: Response = redirect_object.do_redirect()
    return response

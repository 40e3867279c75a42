"""OIDC third-party initiated login (LTI Core §5.1.1; 1EdTech Security Framework §5.1.1).

pylti1p3 builds the redirect to the platform's authorization endpoint (every parameter Moodle
requires, ``lti_message_hint`` echoed unaltered) and its short-lived state cookie
(``SameSite=None; Secure; Partitioned`` over HTTPS). We keep a server-side record of the login
keyed by its state — the nonce, the registration, the login's ``target_link_uri``, the digest of
a one-time browser proof, and the LMS's ``lti_message_hint`` (Moodle's names the activity that a
new window opens again) — and answer with the launch bridge page, which stores the proof in the
browser (its own session storage, and the LMS's platform storage when offered) before going on
to the LMS (LTI-CHECKLIST A9, A10, A14, B, C).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import make_response, render_template
from pylti1p3.contrib.flask import FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import OIDCException
from werkzeug.wrappers import Response

from app.lti.errors import LaunchError, explain
from app.lti.frame_origins import origin
from app.lti.state import StateStore
from app.lti.storage import StateBoundSessionService
from app.lti.tool_config import DatabaseToolConf

STATE_TTL_SECONDS = 600
STATE_PREFIX = "login-state:"


def is_own_url(url: str, base_url: str) -> bool:
    return url == base_url or url.startswith(base_url + "/")


def proof_digest(proof: str) -> str:
    return hashlib.sha256(proof.encode()).hexdigest()


class _OIDCLogin(FlaskOIDCLogin):
    def apply_cookies(self, response: Response) -> None:
        """Set pylti1p3's state cookie on a response we render ourselves."""
        self._cookie_service.update_response(response)


def login(
    tool_conf: DatabaseToolConf,
    storage: Any,
    store: StateStore,
    launch_url: str,
    base_url: str,
) -> Response:
    """Answer a login initiation with the bridge page that goes on to the platform's auth."""
    request = FlaskRequest(request_is_secure=base_url.startswith("https://"))
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
    registration = tool_conf.registration_row(issuer, client_id)
    if registration is None:
        raise LaunchError(
            f"No LMS with issuer {issuer!r}"
            + (f" and client id {client_id!r}" if client_id else "")
            + " is registered with Microcred.",
            hint="Ask your tool administrator to register this LMS (or to check its client id).",
            code="unknown_registration",
        )
    if not registration.is_active:
        raise LaunchError(
            f"Microcred is switched off for {registration.name}.",
            hint="Ask your tool administrator: an operator switched this LMS off in Microcred.",
            code="platform_inactive",
            status=403,
        )
    target = request.get_param("target_link_uri")
    if target and not is_own_url(target, base_url):
        raise LaunchError(
            f"The target link {target!r} is not an address of this tool.",
            hint="An LMS administrator should check the tool's target link URI.",
            code="foreign_target_link_uri",
        )
    # The nonce is kept in the login record below, not as a value of its own.
    oidc = _OIDCLogin(
        request,
        tool_conf,
        launch_data_storage=storage,
        session_service=StateBoundSessionService(request, lambda: None),
    )
    try:
        redirect_object = oidc.get_redirect_object(launch_url)
    except OIDCException as exc:
        raise explain(exc) from exc
    auth_url = redirect_object.get_redirect_url()
    params = parse_qs(urlsplit(auth_url).query)
    state = params["state"][0]
    proof = secrets.token_urlsafe(24)
    storage_target = request.get_param("lti_storage_target") or None
    storage_origin = origin(registration.auth_login_url) if storage_target else None
    store.put(
        STATE_PREFIX + state,
        {
            "nonce": params["nonce"][0],
            "registration_id": registration.id,
            "target_link_uri": target,
            "proof": proof_digest(proof),
            "storage_target": storage_target,
            "storage_origin": storage_origin,
            "message_hint": request.get_param("lti_message_hint") or None,
        },
        STATE_TTL_SECONDS,
    )
    response = make_response(
        render_template(
            "lti/login_bridge.html",
            next_url=auth_url,
            state=state,
            proof=proof,
            storage_target=storage_target,
            storage_origin=storage_origin,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    oidc.apply_cookies(response)
    return response

"""Deep Linking 2.0, tool side: what the LMS asked for, and the signed answer.

An ``LtiDeepLinkingRequest`` carries ``deep_linking_settings`` (where to post the answer, what
it accepts, its opaque ``data``). The answer is an ``LtiDeepLinkingResponse`` JWT signed with
the tool's current key: ``iss`` = the client id, ``aud`` = the platform's issuer, the request's
``deployment_id``, ``data`` echoed unchanged, and the chosen ``content_items`` — auto-posted by
the browser to ``deep_link_return_url`` as the form field ``JWT``
(https://www.imsglobal.org/spec/lti-dl/v2p0#deep-linking-response-message, LTI-CHECKLIST F).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from app.db import utcnow
from app.lti.keys import SigningKey
from app.lti.launch import CLAIM, Launch

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
RESPONSE_SECONDS = 300
"""How long the LMS may take to receive the answer after the instructor's click."""
RESOURCE_LINK = "ltiResourceLink"


@dataclass(frozen=True)
class DeepLinkingRequest:
    """What the LMS asked for in a Deep Linking launch."""

    return_url: str
    accept_types: tuple[str, ...]
    accept_multiple: bool
    auto_create: bool
    accept_presentation_document_targets: tuple[str, ...]
    data: str | None
    title: str | None
    text: str | None


def request_of(launch: Launch) -> DeepLinkingRequest | None:
    """Return the Deep Linking request of a launch (``None`` for any other message)."""
    settings: Mapping[str, Any] | None = launch.deep_linking_settings
    if launch.message_type != "LtiDeepLinkingRequest" or not settings:
        return None
    return DeepLinkingRequest(
        return_url=str(settings["deep_link_return_url"]),
        accept_types=tuple(settings.get("accept_types") or ()),
        # The spec's default for an absent accept_multiple is true; auto_create's is false.
        accept_multiple=settings.get("accept_multiple", True) is not False,
        auto_create=settings.get("auto_create") is True,
        accept_presentation_document_targets=tuple(
            settings.get("accept_presentation_document_targets") or ()
        ),
        data=settings.get("data") if isinstance(settings.get("data"), str) else None,
        title=settings.get("title") if isinstance(settings.get("title"), str) else None,
        text=settings.get("text") if isinstance(settings.get("text"), str) else None,
    )


def response_jwt(
    key: SigningKey,
    launch: Launch,
    request: DeepLinkingRequest,
    items: Sequence[Mapping[str, Any]],
    *,
    message: str | None = None,
    error_message: str | None = None,
    log: str | None = None,
) -> str:
    """Sign the ``LtiDeepLinkingResponse`` answering ``request`` with ``items``."""
    now = utcnow()
    claims: dict[str, Any] = {
        "iss": launch.client_id,
        "aud": launch.issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=RESPONSE_SECONDS)).timestamp()),
        "nonce": secrets.token_urlsafe(24),
        CLAIM + "deployment_id": launch.deployment_id,
        CLAIM + "message_type": "LtiDeepLinkingResponse",
        CLAIM + "version": "1.3.0",
        DL + "content_items": [dict(item) for item in items],
    }
    if request.data is not None:
        claims[DL + "data"] = request.data
    if message:
        claims[DL + "msg"] = message
    if error_message:
        claims[DL + "errormsg"] = error_message
    if log:
        claims[DL + "log"] = log
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})

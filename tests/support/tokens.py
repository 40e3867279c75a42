"""Build what the tool signs (client assertions, Deep Linking responses) with its real key."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevTool
from app.devlms.platform import ALL_SCOPES, CLIENT_ASSERTION_TYPE
from app.lti import keys
from tests.support.live import LiveServers


def demo_tool(live: LiveServers) -> DevTool:
    with get_db(live.devlms).begin() as session:
        tool = session.scalars(select(DevTool)).one()
        session.expunge(tool)
        return tool


def tool_sign(
    live: LiveServers, claims: dict[str, Any], *, kid: str | None = None, key_pem: str | None = None
) -> str:
    """Sign ``claims`` with the tool's active key (or the given one), as the tool would."""
    with live.tool.app_context(), get_db(live.tool).begin() as session:
        key = keys.signing_key(session, live.tool.extensions["lti"].cipher)
    return jwt.encode(
        claims, key_pem or key.private_pem, algorithm="RS256", headers={"kid": kid or key.kid}
    )


def assertion_claims(live: LiveServers, **changes: Any) -> dict[str, Any]:
    tool = demo_tool(live)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": tool.client_id,
        "sub": tool.client_id,
        "aud": f"{live.devlms_url}/token",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def request_token(
    live: LiveServers, assertion: str, scopes: list[str] | None = None, url: str | None = None
) -> requests.Response:
    """POST a client-credentials grant to ``url`` (the development LMS's ``/token``)."""
    return requests.post(
        url or f"{live.devlms_url}/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": " ".join(scopes or ALL_SCOPES),
        },
        timeout=30,
    )


def access_token(live: LiveServers, scopes: list[str] | None = None) -> str:
    response = request_token(live, tool_sign(live, assertion_claims(live)), scopes)
    response.raise_for_status()
    return str(response.json()["access_token"])


DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


def deep_linking_response(
    live: LiveServers,
    request_claims: dict[str, Any],
    items: list[dict[str, Any]],
    **changes: Any,
) -> str:
    """Sign, as the tool, an LtiDeepLinkingResponse to the request whose id_token claims are
    ``request_claims`` (its deployment, its ``data`` echoed) carrying ``items``; ``changes``
    replace or (``None``) drop claims, such as ``{DL + "msg": "..."}``."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": request_claims["aud"],
        "aud": request_claims["iss"],
        "iat": now,
        "exp": now + 300,
        "nonce": uuid.uuid4().hex,
        LTI + "message_type": "LtiDeepLinkingResponse",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": request_claims[LTI + "deployment_id"],
        DL + "data": request_claims[DL + "deep_linking_settings"].get("data"),
        DL + "content_items": items,
    }
    claims.update(changes)
    return tool_sign(live, {k: v for k, v in claims.items() if v is not None})


def post_deep_linking_response(
    request_claims: dict[str, Any], token: str, http: requests.Session | None = None
) -> requests.Response:
    """POST a signed response to the request's ``deep_link_return_url``, as the tool's
    auto-submitting form does (with ``http``'s cookies, when given)."""
    url = request_claims[DL + "deep_linking_settings"]["deep_link_return_url"]
    return (http or requests.Session()).post(url, data={"JWT": token}, timeout=30)

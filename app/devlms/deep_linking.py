"""Deep Linking 2.0, platform side: the return endpoint.

Verifies the tool's ``LtiDeepLinkingResponse`` JWT (signature against the tool's JWKS, ``iss`` =
client_id, ``aud`` = this platform, deployment, message type, version, nonce, the echoed
``data``) and creates the course links and gradebook columns its items ask for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.devlms.models import DevCourse, DevLineItem, DevLink, DevTool
from app.devlms.platform import PlatformError, verify_tool_jwt

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DATA_MAX_AGE = 3600


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="devlms-deep-linking")


def make_data(secret: str, course_id: int, tool_id: int, user_id: int) -> str:
    """Return the opaque ``data`` value sent in a Deep Linking request."""
    return _serializer(secret).dumps({"course": course_id, "tool": tool_id, "user": user_id})


@dataclass
class DeepLinkingResult:
    course: DevCourse
    links: list[DevLink] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    message: str | None = None
    error_message: str | None = None


def receive(
    session: Session, token: str, base_url: str, secret: str, http: requests.Session
) -> DeepLinkingResult:
    """Verify a Deep Linking response and create what it asks for."""
    if not token:
        raise PlatformError(400, "invalid_request", "The Deep Linking response has no JWT.")
    try:
        client_id = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.InvalidTokenError as exc:
        raise PlatformError(400, "invalid_request", f"The JWT cannot be decoded: {exc}") from exc
    tool = session.scalars(select(DevTool).where(DevTool.client_id == str(client_id))).first()
    if tool is None:
        raise PlatformError(400, "invalid_request", f"iss {client_id!r} is not a registered tool.")
    claims = verify_tool_jwt(tool, token, http, audience=base_url, error="invalid_request")
    if claims.get(CLAIM + "message_type") != "LtiDeepLinkingResponse":
        raise PlatformError(400, "invalid_request", "message_type must be LtiDeepLinkingResponse.")
    if claims.get(CLAIM + "version") != "1.3.0":
        raise PlatformError(400, "invalid_request", "version must be 1.3.0.")
    if claims.get(CLAIM + "deployment_id") != tool.deployment_id:
        raise PlatformError(
            400, "invalid_request", "deployment_id does not match this tool's deployment."
        )
    if not claims.get("nonce"):
        raise PlatformError(400, "invalid_request", "The response has no nonce.")
    try:
        data = _serializer(secret).loads(claims.get(DL + "data") or "", max_age=DATA_MAX_AGE)
    except BadSignature as exc:
        raise PlatformError(
            400,
            "invalid_request",
            "The 'data' claim is not the one this platform sent (or it expired).",
        ) from exc
    if data.get("tool") != tool.id:
        raise PlatformError(400, "invalid_request", "The 'data' claim belongs to another tool.")
    course = session.get(DevCourse, data["course"])
    if course is None:
        raise PlatformError(404, "not_found", "The course of this Deep Linking request is gone.")
    result = DeepLinkingResult(
        course=course, message=claims.get(DL + "msg"), error_message=claims.get(DL + "errormsg")
    )
    items = claims.get(DL + "content_items") or []
    if not isinstance(items, list):
        raise PlatformError(400, "invalid_request", "content_items must be a list.")
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "ltiResourceLink":
            result.ignored.append(str(item.get("type") if isinstance(item, dict) else item))
            continue
        result.links.append(_create_link(session, course, tool, item))
    session.commit()
    return result


def _create_link(
    session: Session, course: DevCourse, tool: DevTool, item: dict[str, Any]
) -> DevLink:
    custom = item.get("custom") or {}
    if not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values()):
        raise PlatformError(400, "invalid_request", "custom must map names to strings.")
    link = DevLink(
        course_id=course.id,
        tool_id=tool.id,
        resource_link_id=uuid.uuid4().hex,
        title=str(item.get("title") or tool.name)[:255],
        text=item.get("text"),
        url=item.get("url"),
        custom=custom,
    )
    line_item = item.get("lineItem")
    if line_item is not None:
        if not isinstance(line_item, dict):
            raise PlatformError(400, "invalid_request", "lineItem must be an object.")
        maximum = line_item.get("scoreMaximum")
        if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
            raise PlatformError(
                400, "invalid_request", "lineItem.scoreMaximum must be a number greater than 0."
            )
        column = DevLineItem(
            course_id=course.id,
            tool_id=tool.id,
            label=str(line_item.get("label") or link.title)[:255],
            score_maximum=float(maximum),
            resource_id=line_item.get("resourceId"),
            tag=line_item.get("tag"),
            resource_link_id=link.resource_link_id,
        )
        session.add(column)
        session.flush()
        link.line_item_id = column.id
    session.add(link)
    session.flush()
    return link

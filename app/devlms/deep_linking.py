"""Deep Linking 2.0, platform side: the return endpoint.

Verifies the tool's ``LtiDeepLinkingResponse`` JWT (signature against the tool's JWKS, ``iss`` =
client_id, ``aud`` = this platform, deployment, message type, version, nonce, the echoed
``data``), holds it to the settings of the screen the request came from (``accept_multiple``),
and creates the course links and gradebook columns its items ask for, recording the placement
(a Canvas assignment, or an activity / module item).
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
from app.devlms.placements import (
    CANVAS_FLAVOURS,
    DeepLinkingPlacement,
    default_placement,
    placement_by_code,
)
from app.devlms.platform import PlatformError, verify_tool_jwt

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DATA_MAX_AGE = 3600
# The points a new Canvas assignment gets when the tool sends no lineItem: Canvas takes them
# from the instructor's form; this LMS has no form, so it uses the tool's usual default.
DEFAULT_ASSIGNMENT_POINTS = 100.0


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="devlms-deep-linking")


def make_data(secret: str, course_id: int, tool_id: int, user_id: int, placement: str) -> str:
    """Return the opaque ``data`` value sent in a Deep Linking request from ``placement``.

    Moodle's kind of request: this LMS signs the course and placement into the ``data`` claim
    the tool must echo. Canvas sends no ``data``: its return URL names the course and the
    placement (``platform.deep_linking_claims``)."""
    return _serializer(secret).dumps(
        {"course": course_id, "tool": tool_id, "user": user_id, "placement": placement}
    )


@dataclass
class DeepLinkingResult:
    course: DevCourse
    placement: DeepLinkingPlacement
    links: list[DevLink] = field(default_factory=list)
    columns: dict[int, DevLineItem] = field(default_factory=dict)
    """The gradebook columns created, by the id of the link they grade."""
    ignored: list[str] = field(default_factory=list)
    message: str | None = None
    error_message: str | None = None


def receive(
    session: Session,
    token: str,
    base_url: str,
    secret: str,
    http: requests.Session,
    *,
    canvas_course: int | None = None,
    canvas_placement: str | None = None,
) -> DeepLinkingResult:
    """Verify a Deep Linking response and create what it asks for: at the return URL of
    Moodle's kind, from the course and placement signed into the ``data`` the tool echoes; at
    Canvas's (``canvas_course``), from the return URL itself."""
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
    if canvas_course is not None:
        if tool.flavour not in CANVAS_FLAVOURS:
            raise PlatformError(
                400, "invalid_request", "This is Canvas's return URL; the tool is not Canvas's."
            )
        course_id, code = canvas_course, canvas_placement or ""
    else:
        data = _data(secret, claims.get(DL + "data"), tool)
        course_id, code = data["course"], data.get("placement") or ""
    course = session.get(DevCourse, course_id)
    if course is None:
        raise PlatformError(404, "not_found", "The course of this Deep Linking request is gone.")
    placement = placement_by_code(code) or default_placement(tool)
    result = DeepLinkingResult(
        course=course,
        placement=placement,
        message=_text(claims.get(DL + "msg")),
        error_message=_text(claims.get(DL + "errormsg")),
    )
    items = claims.get(DL + "content_items") or []
    if not isinstance(items, list):
        raise PlatformError(400, "invalid_request", "content_items must be a list.", course=course)
    if not placement.accept_multiple and len(items) > 1:
        # Deep Linking 2.0 §4.4.1: accept_multiple false allows one item. Canvas's assignment
        # form takes a single item and adds nothing when given more (select_content_dialog's
        # deepLinkingResponseHandler); this LMS says so instead of failing silently.
        raise PlatformError(
            400,
            "invalid_request",
            f"{placement.action} accepts one item (accept_multiple is false), but the tool "
            f"returned {len(items)}. Nothing was added: choose one item in the tool and try "
            "again.",
            course=course,
        )
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "ltiResourceLink":
            result.ignored.append(str(item.get("type") if isinstance(item, dict) else item))
            continue
        link, column = _create_link(session, course, tool, item, placement)
        result.links.append(link)
        if column is not None:
            result.columns[link.id] = column
    session.commit()
    return result


def _data(secret: str, value: Any, tool: DevTool) -> dict[str, Any]:
    """The course and placement this platform signed into the request's ``data``."""
    try:
        data = _serializer(secret).loads(
            value if isinstance(value, str) else "", max_age=DATA_MAX_AGE
        )
    except BadSignature as exc:
        raise PlatformError(
            400,
            "invalid_request",
            "The 'data' claim is not the one this platform sent (or it expired).",
        ) from exc
    if not isinstance(data, dict) or data.get("tool") != tool.id:
        raise PlatformError(400, "invalid_request", "The 'data' claim belongs to another tool.")
    return data


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _create_link(
    session: Session,
    course: DevCourse,
    tool: DevTool,
    item: dict[str, Any],
    placement: DeepLinkingPlacement,
) -> tuple[DevLink, DevLineItem | None]:
    custom = item.get("custom") or {}
    if not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values()):
        raise PlatformError(
            400, "invalid_request", "custom must map names to strings.", course=course
        )
    link = DevLink(
        course_id=course.id,
        tool_id=tool.id,
        resource_link_id=uuid.uuid4().hex,
        title=str(item.get("title") or tool.name)[:255],
        text=item.get("text"),
        url=item.get("url"),
        custom=custom,
        placement=placement.link_placement,
    )
    line_item = item.get("lineItem")
    if line_item is None and placement.always_graded:
        # Canvas makes every assignment a gradebook column (its default line item).
        line_item = {"scoreMaximum": DEFAULT_ASSIGNMENT_POINTS}
    column = None
    if line_item is not None:
        if not isinstance(line_item, dict):
            raise PlatformError(
                400, "invalid_request", "lineItem must be an object.", course=course
            )
        maximum = line_item.get("scoreMaximum")
        if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
            raise PlatformError(
                400,
                "invalid_request",
                "lineItem.scoreMaximum must be a number greater than 0.",
                course=course,
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
    return link, column

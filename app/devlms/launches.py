"""Prepared launches and their single-use message hints, as Moodle and Canvas make them.

At login initiation the LMS prepares the launch (what to launch, for whom, to which target) and
names it in ``lti_message_hint``; its authorization endpoint reads it back once and deletes it,
so a hint cannot start a second launch. A tool that replays the login parameters (to "open in a
new window", say) is refused; it must ask the LMS for a fresh launch.

- Moodle (moodle/moodle ``mod/lti/locallib.php`` ``lti_build_login_request``, ``mod/lti/auth.php``):
  the hint is JSON, ``{"cmid":5,"launchid":"ltilaunch5_1234"}`` for an activity (the cmid is the
  activity's course module, whose launch page is ``/mod/lti/launch.php?id=<cmid>``) and
  ``{"launchid":"ltilaunch_LtiDeepLinkingRequest1234"}`` for content selection. The entry behind
  ``launchid`` lives in the person's session and is unset as ``auth.php`` reads it. Without it
  ``auth.php`` finds no tool configuration and throws ``invalidrequest``: Moodle's error page
  "Invalid request" (HTTP 404, as Moodle's ``core_renderer::fatal_error`` sends), and nothing is
  posted to the tool.
- Canvas (instructure/canvas-lms ``app/controllers/lti/ims/authentication_controller.rb``): the
  hint is a token Canvas signed, naming the verifier of a launch it cached at initiation;
  ``authorize`` does ``fetch_and_delete_launch``. A launch already taken is answered by posting
  ``error=launch_no_longer_valid`` and ``error_description`` back to the tool's redirect URI; a
  hint that does not decode is refused with "Invalid lti_message_hint". The launch is cached
  for five minutes (``lib/lti/redis_message_client.rb``): one taken later is no longer valid.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.devlms.models import DevLaunch, DevTool, DevUser
from app.devlms.placements import CANVAS_FLAVOURS
from app.devlms.platform import PlatformError

CANVAS_LAUNCH_TTL = timedelta(minutes=5)
"""How long Canvas keeps a prepared launch (``Lti::RedisMessageClient::TTL``)."""
MOODLE_SESSION_TTL = timedelta(hours=8)
"""How long Moodle keeps a prepared launch: the person's session, which ends after Moodle's
default ``sessiontimeout`` of eight hours. No launch is kept longer; older ones are cleared."""
MOODLE_INVALID_REQUEST = "Invalid request"
CANVAS_CONSUMED = "The launch has either expired or already been consumed"


@dataclass(frozen=True)
class Prepared:
    """A launch taken from its hint: what to launch and to which target."""

    request: dict[str, Any]
    target_link_uri: str


class LaunchNoLongerValid(Exception):
    """Canvas: the hint's launch was already taken. Canvas does not show an error page of its
    own: it posts the OIDC error to the tool's redirect URI, with the request's ``state``."""

    error = "launch_no_longer_valid"
    description = CANVAS_CONSUMED


def _canvas_hints(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="devlms-canvas-message-hint")


def _moodle_launch_id(request: dict[str, Any]) -> str:
    # Moodle: 'ltilaunch' . $cmid . '_' . rand(), or "ltilaunch_$messagetype" . rand().
    number = secrets.randbelow(2**62)
    if request.get("link"):
        return f"ltilaunch{request['link']}_{number}"
    return f"ltilaunch_LtiDeepLinkingRequest{number}"


def prepare(
    session: Session,
    tool: DevTool,
    user: DevUser,
    request: dict[str, Any],
    target_link_uri: str,
    secret: str,
) -> str:
    """Keep the launch ``request`` for ``user`` and return the ``lti_message_hint`` naming it."""
    canvas = tool.flavour in CANVAS_FLAVOURS
    launch_id = secrets.token_hex(24) if canvas else _moodle_launch_id(request)
    session.execute(delete(DevLaunch).where(DevLaunch.created_at < utcnow() - MOODLE_SESSION_TTL))
    session.add(
        DevLaunch(
            launch_id=launch_id,
            tool_id=tool.id,
            user_id=user.id,
            request=request,
            target_link_uri=target_link_uri,
        )
    )
    session.commit()
    if canvas:
        return _canvas_hints(secret).dumps({"verifier": launch_id})
    hint: dict[str, Any] = {"launchid": launch_id}
    if request.get("link"):
        hint = {"cmid": request["link"], **hint}
    return json.dumps(hint, separators=(",", ":"))


def take(session: Session, tool: DevTool, user: DevUser, hint: str | None, secret: str) -> Prepared:
    """Return the launch ``hint`` names and delete it, so that the hint is spent.

    Raises ``PlatformError`` for Moodle's "Invalid request" page and Canvas's refusal of a hint
    it cannot read, and ``LaunchNoLongerValid`` for a Canvas launch already taken."""
    canvas = tool.flavour in CANVAS_FLAVOURS
    launch_id = _canvas_launch_id(hint, secret) if canvas else _moodle_launch_id_of(hint)
    query = delete(DevLaunch).where(DevLaunch.launch_id == launch_id, DevLaunch.tool_id == tool.id)
    if not canvas:
        query = query.where(DevLaunch.user_id == user.id)  # Moodle: the person's own session
    taken = session.execute(
        query.returning(DevLaunch.request, DevLaunch.target_link_uri, DevLaunch.created_at)
    ).first()
    session.commit()
    lifetime = CANVAS_LAUNCH_TTL if canvas else MOODLE_SESSION_TTL
    if taken is not None and taken.created_at < utcnow() - lifetime:
        taken = None
    if taken is None:
        if canvas:
            raise LaunchNoLongerValid(CANVAS_CONSUMED)
        raise _moodle_invalid_request()
    return Prepared(request=dict(taken.request), target_link_uri=taken.target_link_uri)


def course_page_site(session: Session, hint: str | None, secret: str) -> str | None:
    """The origin of the course page a Canvas launch was started on, read without taking the
    launch (``None`` for a Moodle hint, an unknown one, or a launch already taken)."""
    try:
        decoded = _canvas_hints(secret).loads(hint or "")
    except BadSignature:
        return None
    verifier = decoded.get("verifier") if isinstance(decoded, dict) else None
    if not isinstance(verifier, str):
        return None
    request = session.scalars(
        select(DevLaunch.request).where(DevLaunch.launch_id == verifier)
    ).first()
    site = request.get("site") if isinstance(request, dict) else None
    return site if isinstance(site, str) and site.startswith(("http://", "https://")) else None


def _moodle_invalid_request() -> PlatformError:
    return PlatformError(404, "invalidrequest", MOODLE_INVALID_REQUEST)


def _moodle_launch_id_of(hint: str | None) -> str:
    try:
        decoded = json.loads(hint or "")
    except ValueError:
        decoded = None
    launch_id = decoded.get("launchid") if isinstance(decoded, dict) else None
    if not isinstance(launch_id, str) or not launch_id:
        raise _moodle_invalid_request()
    return launch_id


def _canvas_launch_id(hint: str | None, secret: str) -> str:
    try:
        decoded = _canvas_hints(secret).loads(hint or "")
    except BadSignature as exc:
        raise PlatformError(400, "invalid_request", "Invalid lti_message_hint") from exc
    verifier = decoded.get("verifier") if isinstance(decoded, dict) else None
    if not isinstance(verifier, str):
        raise PlatformError(400, "invalid_request", "Invalid lti_message_hint")
    return verifier

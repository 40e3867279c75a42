"""The post-launch session: a signed, short-lived token instead of a cookie (LTI-CHECKLIST C).

Inside an LMS iframe the browser may drop the tool's cookies, so after a launch the tool's own
pages carry a launch session token: in links (``?lt=``), in forms (a hidden ``lt`` field) and,
for scripted calls, in ``Authorization: Bearer``. It is bound to the platform, deployment, user,
context, roles and resource link of the launch, and every use is checked against the launch
data stored at launch time, in the durable store (the database: a Redis restart ends no
session; ``app.lti.state``). Tokens slide: each page issues a fresh one, and one unused for
``SESSION_SECONDS`` has expired.

What a launch keeps for its pages (``keep``) is what they read of its claims (``kept_claims``),
not its id_token, and only while a token issued for it can still be used: ``KEPT_SECONDS``
from the launch, renewed when a page finds less than ``SESSION_SECONDS`` left (at most one
write per ``SESSION_SECONDS`` of use), never past ``LONGEST_SESSION_SECONDS`` after the launch,
when the person launches again from the course.

CSRF without cookies: a state-changing request must carry the token in its body or in a header,
never in the URL. A cross-site page cannot read the token, so it cannot forge such a request;
and the browser never attaches it by itself, as it would a cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from app.errors import Unauthorized
from app.lti.launch import Launch, NoLaunch, kept_claims, to_launch
from app.lti.models import Registration
from app.lti.state import StateStore

SESSION_SECONDS = 2 * 3600
KEPT_SECONDS = 2 * SESSION_SECONDS
LONGEST_SESSION_SECONDS = 24 * 3600
SESSION_PARAM = "lt"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

RELAUNCH_HINT = "Open the activity again from your course page; nothing you saved is lost."


class SessionEnded(Unauthorized):
    code = "session_ended"
    title = "Your Microcred session has ended"


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="microcred-launch-session")


def _roles_digest(roles: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(sorted(roles)).encode()).hexdigest()[:16]


def _user_digest(secret: str, sub: str) -> str:
    # The token is signed, not encrypted, and travels in URLs (proxies' access logs, Referer):
    # it names the person by a keyed digest of their ``sub``, never the ``sub`` itself (a
    # Moodle ``sub`` is the user's number, so an unkeyed digest would be read back at once).
    return hmac.new(secret.encode(), b"lt-user\n" + sub.encode(), hashlib.sha256).hexdigest()[:32]


def _binding(secret: str, launch: Launch) -> dict[str, Any]:
    return {
        "r": launch.registration_id,
        "d": launch.deployment_id,
        "u": _user_digest(secret, launch.user.sub) if launch.user else None,
        "c": launch.context.id if launch.context else None,
        "k": launch.resource_link.id if launch.resource_link else None,
        "ro": _roles_digest(launch.roles),
    }


def issue(secret: str, launch: Launch) -> str:
    """Return a fresh session token for ``launch``."""
    return _serializer(secret).dumps({"l": launch.launch_id, **_binding(secret, launch)})


def keep(store: StateStore, launch_id: str, claims: Mapping[str, Any]) -> None:
    """Keep what the pages of a finished launch read of its validated ``claims``."""
    now = time.time()
    store.put(
        launch_id,
        {"claims": kept_claims(claims), "launched_at": now, "kept_until": now + KEPT_SECONDS},
        KEPT_SECONDS,
    )


@dataclass(frozen=True)
class SessionReader:
    """Turn a request's token back into its ``Launch``."""

    secret: str
    store: StateStore
    db: Session

    def token_from_request(self) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header[7:].strip() or None
        if request.method not in SAFE_METHODS:
            # Body only: a token in a URL could leak, and must not authorise a change.
            return request.form.get(SESSION_PARAM) or None
        return request.args.get(SESSION_PARAM) or None

    def load(self, token: str | None) -> Launch | NoLaunch:
        if not token:
            return NoLaunch()
        try:
            claims = _serializer(self.secret).loads(token, max_age=SESSION_SECONDS)
        except SignatureExpired as exc:
            raise SessionEnded(
                "Your session timed out after two hours without activity.", hint=RELAUNCH_HINT
            ) from exc
        except BadSignature as exc:
            raise SessionEnded(
                "This page's session token is not valid.", hint=RELAUNCH_HINT
            ) from exc
        data = self.store.get(claims.get("l", ""))
        if data is None:
            raise SessionEnded(
                "This launch has ended: a launch's session lasts two hours without activity, "
                "and a day at most.",
                hint=RELAUNCH_HINT,
            )
        registration = self.db.get(Registration, claims.get("r"))
        if registration is None:
            raise SessionEnded(
                "The LMS this launch came from is no longer registered with Microcred.",
                hint=RELAUNCH_HINT,
            )
        launch = to_launch(claims["l"], self._claims(claims["l"], data), registration)
        bound = {k: claims.get(k) for k in ("r", "d", "u", "c", "k", "ro")}
        if _binding(self.secret, launch) != bound:
            raise SessionEnded("This page's session does not match its launch.", hint=RELAUNCH_HINT)
        return launch

    def _claims(self, launch_id: str, kept: dict[str, Any]) -> dict[str, Any]:
        """The kept claims of a launch whose session is in use, kept longer if need be so that
        the token this page issues can be used for its ``SESSION_SECONDS``."""
        if "kept_until" not in kept:  # kept before issue 26 (for a day): the whole payload
            return kept
        now = time.time()
        if kept["kept_until"] - now < SESSION_SECONDS:
            until = min(now + KEPT_SECONDS, kept["launched_at"] + LONGEST_SESSION_SECONDS)
            if until > kept["kept_until"]:
                self.store.put(launch_id, dict(kept, kept_until=until), until - now)
        claims: dict[str, Any] = kept["claims"]
        return claims


def current_launch(reader: SessionReader) -> Launch | NoLaunch:
    """Return the request's launch (memoised per request), or ``NoLaunch``."""
    if "launch" not in g:
        g.launch = reader.load(reader.token_from_request())
    launch: Launch | NoLaunch = g.launch
    return launch


def require_launch(reader: SessionReader) -> Launch:
    """Return the request's launch, or refuse with a page that says to launch again."""
    launch = current_launch(reader)
    if not isinstance(launch, Launch):
        raise SessionEnded("This page needs a launch from your course.", hint=RELAUNCH_HINT)
    return launch

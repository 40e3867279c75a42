"""Operator sign-in sessions and the console's CSRF protection.

The console is first-party (operators open it directly, never inside an LMS frame), so it uses
a cookie: ``microcred_admin``, scoped to ``/admin``, HttpOnly, ``SameSite=Lax``, ``Secure`` when
the tool is served over HTTPS. The cookie holds only a random session id; what it stands for is
kept server-side in the state store (the database, or Redis in the scaled shape), so that
signing out, an idle timeout, a password change or a deactivated operator end the session on
every instance at once. A new id is issued at sign-in (no session fixation).

CSRF: every POST must carry ``csrf_token`` in its body, checked in one place (the blueprint's
``before_request``). Signed in, it is a random token kept with the session; before sign-in it is
an HMAC of the cookie's id, so the sign-in form is protected without storing anything for
visitors who are not signed in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass

from flask import g, request
from werkzeug.wrappers import Response

from app.db import utcnow
from app.errors import Forbidden
from app.lti.state import StateStore

COOKIE_NAME = "microcred_admin"
COOKIE_PATH = "/admin"
CSRF_FIELD = "csrf_token"

IDLE_SECONDS = 8 * 3600
"""A session unused this long has ended."""
MAX_SECONDS = 24 * 3600
"""A session ends this long after sign-in, however busy."""
REFRESH_AFTER_SECONDS = 60
"""Push the idle deadline back at most once a minute: one store write per minute, not per page."""

KEY_PREFIX = "admin-session:"


class CsrfRefused(Forbidden):
    code = "csrf_failed"
    title = "This form could not be accepted"


@dataclass(frozen=True)
class OperatorSession:
    """What a signed-in session id stands for."""

    operator_id: int
    csrf: str
    fingerprint: str
    """A digest of the operator's password hash when they signed in: a new password ends the
    session."""
    signed_in_at: float
    refreshed_at: float


def _now() -> float:
    return utcnow().timestamp()


def _key(session_id: str) -> str:
    # Only a digest reaches the store: a copy of the store does not give working cookies.
    return KEY_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Operator sessions in the state store, each expiring after ``IDLE_SECONDS`` unused."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def start(self, operator_id: int, fingerprint: str) -> tuple[str, OperatorSession]:
        """Open a session; return its new id (for the cookie) and what it holds."""
        session_id = secrets.token_urlsafe(32)
        now = _now()
        value = OperatorSession(
            operator_id=operator_id,
            csrf=secrets.token_urlsafe(32),
            fingerprint=fingerprint,
            signed_in_at=now,
            refreshed_at=now,
        )
        self._store.put(_key(session_id), asdict(value), IDLE_SECONDS)
        return session_id, value

    def read(self, session_id: str) -> OperatorSession | None:
        """Return the live session for this id (pushing its idle deadline back), or ``None``."""
        raw = self._store.get(_key(session_id))
        if not isinstance(raw, dict):
            return None
        try:
            value = OperatorSession(**raw)
        except TypeError:
            return None
        now = _now()
        if now - value.signed_in_at > MAX_SECONDS:
            self.end(session_id)
            return None
        if now - value.refreshed_at > REFRESH_AFTER_SECONDS:
            value = OperatorSession(**{**raw, "refreshed_at": now})
            self._store.put(_key(session_id), asdict(value), IDLE_SECONDS)
        return value

    def end(self, session_id: str) -> None:
        """Forget the session, wherever it is used."""
        self._store.take(_key(session_id))


def sign_in_csrf(secret: str, session_id: str) -> str:
    """Return the CSRF token of the sign-in form for a visitor's (not yet signed-in) cookie."""
    digest = hmac.new(secret.encode(), b"admin-sign-in:" + session_id.encode(), hashlib.sha256)
    return digest.hexdigest()


# --- The request's side ------------------------------------------------------------------------


def cookie_session_id() -> str | None:
    """Return the session id the browser sent, if any."""
    value = request.cookies.get(COOKIE_NAME, "")
    return value if 20 <= len(value) <= 100 else None


def visitor_session_id() -> str:
    """Return the cookie's id, or a new one the response will set (for the sign-in form)."""
    existing = g.get("admin_new_session_id") or cookie_session_id()
    if existing:
        return existing
    g.admin_new_session_id = secrets.token_urlsafe(32)
    return str(g.admin_new_session_id)


def set_session_cookie(session_id: str) -> None:
    """Make the response set this session id (sign-in: a new id replaces the visitor's)."""
    g.admin_new_session_id = session_id


def clear_session_cookie() -> None:
    """Make the response delete the cookie."""
    g.admin_clear_cookie = True


def csrf_token(secret: str) -> str:
    """Return the token this page's forms carry."""
    current: OperatorSession | None = g.get("admin_session")
    if current is not None:
        return current.csrf
    return sign_in_csrf(secret, visitor_session_id())


def check_csrf(secret: str) -> None:
    """Refuse a POST whose form does not carry this session's token (403)."""
    sent = request.form.get(CSRF_FIELD, "")
    current: OperatorSession | None = g.get("admin_session")
    if current is not None:
        expected = current.csrf
    else:
        session_id = cookie_session_id()
        if session_id is None:
            raise CsrfRefused(
                "Your browser did not send the console's cookie with this form, so it cannot "
                "be told apart from a form sent by another site.",
                hint="Allow cookies for this site, reload the page and try again.",
            )
        expected = sign_in_csrf(secret, session_id)
    if not sent or not hmac.compare_digest(sent, expected):
        raise CsrfRefused(
            "The form did not carry this session's security token. It may have been open from "
            "before you last signed in, or sent by another site.",
            hint="Go back, reload the page and submit the form again.",
        )


def write_cookie(response: Response, *, secure: bool) -> Response:
    """Set or delete the session cookie as this request decided."""
    if g.get("admin_clear_cookie"):
        response.delete_cookie(
            COOKIE_NAME, path=COOKIE_PATH, secure=secure, httponly=True, samesite="Lax"
        )
    new_id = g.get("admin_new_session_id")
    if new_id:
        response.set_cookie(
            COOKIE_NAME,
            new_id,
            path=COOKIE_PATH,
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
    return response

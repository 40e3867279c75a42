"""Which origins may frame the tool, and the security headers that say so.

An LMS shows the tool in an iframe; ``Content-Security-Policy: frame-ancestors`` limits that to
the registered platforms: the origins of their issuer and authorization endpoint, plus origins
learned from signed launches (``launch_presentation.return_url``: a hosted Canvas's course
pages live on the school's domain, not on ``canvas.instructure.com``). The same origins may
receive the tool's form posts (Deep Linking responses), so they make ``form-action`` too.

Two cases the registered origins cannot cover. The login handshake (login initiation, launch
bridge, new-window page) runs before any signed launch has said where the course page is, so
it may be framed by any page: it shows nothing of anyone's, and the pages after it are held to
the policy again. And with several instances, the one answering a launch's next page may have
read the origins before that launch taught a new one: a page of a launch also allows the
origin its own signed ``return_url`` names.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lti.models import Registration
from app.lti.platforms import plugin

CACHE_SECONDS = 30
MAX_LEARNED = 20
HANDSHAKE_ENDPOINTS = frozenset({"lti.login", "lti.launch", "lti.launch_confirm"})
"""The pages of a launch before it is finished: framed by whichever page started it."""


# A DNS name (letters, digits, hyphens, underscores, dots): nothing that could end a CSP source.
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def origin(url: str | None) -> str | None:
    """Return ``scheme://host[:port]`` of an http(s) URL, or ``None``.

    The result goes into a Content-Security-Policy header, and the URL may come from a request
    (a Referer, a form field, a query parameter): only a host name or an IP address and a port
    pass, so no value can add a source or a directive."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is not a number, or a malformed IPv6 address
        return None
    host = parts.hostname
    if parts.scheme not in {"http", "https"} or not host or "@" in parts.netloc:
        return None
    if not _HOST_NAME.fullmatch(host):
        try:
            host = f"[{ipaddress.IPv6Address(host)}]"
        except ValueError:
            return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


class OriginCache:
    """Every registered platform's origins, read from the database at most every 30 s.

    Per application instance: another instance sees a new registration within ``CACHE_SECONDS``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expires = 0.0
        self._origins: list[str] = []

    def get(self, session: Session) -> list[str]:
        now = time.monotonic()
        with self._lock:
            if self._expires > now:
                return self._origins
        found: set[str] = set()
        for registration in session.scalars(select(Registration)):
            for url in (registration.issuer, registration.auth_login_url):
                value = origin(url)
                if value:
                    found.add(value)
            found.update(registration.frame_origins or [])
            found.update(registration.course_page_origins or [])
            found.update(plugin(registration.platform_family).frame_ancestors(registration.issuer))
        with self._lock:
            self._origins, self._expires = sorted(found), now + CACHE_SECONDS
            return self._origins

    def last_known(self) -> list[str]:
        """The origins last read, however old (when the database cannot be read)."""
        with self._lock:
            return self._origins

    def forget(self) -> None:
        with self._lock:
            self._expires = 0.0


def learn(session: Session, registration_id: int, return_url: str | None) -> bool:
    """Remember the origin a signed launch says the platform's pages are on; tell if it is new."""
    value = origin(return_url)
    if value is None:
        return False
    registration = session.get(Registration, registration_id)
    if registration is None or value in (registration.frame_origins or []):
        return False
    registration.frame_origins = [*(registration.frame_origins or []), value][-MAX_LEARNED:]
    return True


def content_security_policy(origins: list[str], *, any_ancestor: bool = False) -> str:
    allowed = " ".join(["'self'", *origins])
    ancestors = "*" if any_ancestor else allowed
    return "; ".join(
        [
            "default-src 'self'",
            "img-src 'self' data:",
            "style-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action {allowed}",
            f"frame-ancestors {ancestors}",
        ]
    )


def init_app(app: Flask) -> None:
    """Send the security headers on every response of the tool."""
    from app.db import db_session

    cache = app.extensions["lti_frame_origins"] = OriginCache()

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if "Content-Security-Policy" not in response.headers:
            try:
                origins = cache.get(db_session())
            except Exception:
                # The database is down: its 503 page is still shown inside the LMS's frame.
                origins = cache.last_known()
            own = _launch_origin()
            if own is not None and own not in origins:
                origins = [*origins, own]
            response.headers["Content-Security-Policy"] = content_security_policy(
                origins,
                # A launch that answered with its page (app.lti.views) answers as that page.
                any_ancestor=request.endpoint in HANDSHAKE_ENDPOINTS
                and not g.get("landing_endpoint"),
            )
        return response


def _launch_origin() -> str | None:
    """The origin of the course page the request's launch was signed for, if it has one."""
    from app.lti.launch import Launch

    launch = g.get("launch")
    return origin(launch.return_url) if isinstance(launch, Launch) else None


def nested_frame_policy() -> str:
    """Return the ``frame-ancestors`` directive for a document one of the tool's pages frames
    (a PDF on the review page): every ancestor is checked, and the tool's page is itself in the
    LMS's frame, so the platforms' origins are needed beside the tool's own."""
    from app.db import db_session

    cache: OriginCache | None = current_app.extensions.get("lti_frame_origins")
    origins = cache.get(db_session()) if cache is not None else []
    return "frame-ancestors " + " ".join(["'self'", *origins])


def forget_cached_origins() -> None:
    """Make this instance read the origins again on its next response."""
    cache: OriginCache | None = current_app.extensions.get("lti_frame_origins")
    if cache is not None:
        cache.forget()

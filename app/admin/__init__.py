"""The operator console at ``/admin``: operators sign in with email and password (not LTI) and
manage platforms, deployments and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.admin.models import Operator
from app.admin.services import SignInThrottle
from app.admin.sessions import SessionStore
from config import Settings

URL_PREFIX = "/admin"

# The console is never shown inside another site's frame (clickjacking) and posts its forms
# only to itself; it runs no script of its own.
CONSOLE_CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@dataclass(frozen=True)
class AdminRuntime:
    """What the console's views need from the app, built once per app."""

    settings: Settings
    sessions: SessionStore
    throttle: SignInThrottle
    admins_an_organisation: Callable[[Session, Operator], bool]
    """Whether an account without operator powers is an admin of an issuer organisation (the
    catalog knows; the console's navigation asks, to show it the pages such admins may use)."""

    @property
    def secure_cookies(self) -> bool:
        return self.settings.base_url.startswith("https://")


def init_app(
    app: Flask,
    settings: Settings,
    *,
    admins_an_organisation: Callable[[Session, Operator], bool],
) -> None:
    """Register the console's blueprint, its security headers (after ``app.lti``) and the
    ``flask platforms`` and ``flask operator`` commands. ``admins_an_organisation`` is the
    catalog's answer, given by the app factory: the console is below the features whose pages
    stand in it and imports none of them."""
    from app.admin import cli
    from app.admin.views import bp

    lti = app.extensions["lti"]
    # Sessions outlive a Redis restart; a throttle's count may be lost with it.
    app.extensions["admin"] = AdminRuntime(
        settings=settings,
        sessions=SessionStore(lti.durable_store),
        throttle=SignInThrottle(lti.store),
        admins_an_organisation=admins_an_organisation,
    )
    app.register_blueprint(bp, url_prefix=URL_PREFIX)
    app.cli.add_command(cli.platforms_group)
    app.cli.add_command(cli.operator_group)

    # App-level (not the blueprint's), so that a 404 under /admin gets the same headers; it
    # runs before app.lti's hook, which then leaves an existing policy alone.
    @app.after_request
    def _console_headers(response: Response) -> Response:
        if request.path == URL_PREFIX or request.path.startswith(URL_PREFIX + "/"):
            response.headers["Content-Security-Policy"] = CONSOLE_CSP
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Cache-Control"] = "no-store"
        return response


def runtime() -> AdminRuntime:
    """Return the current app's console runtime."""
    rt: AdminRuntime = current_app.extensions["admin"]
    return rt

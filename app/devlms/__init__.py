"""The development LMS: a real LTI 1.3 platform for demos and tests (off in production).

It runs as its own application on its own origin (``MICROCRED_DEVLMS_URL``) so that the tool
meets it exactly as it meets Moodle or Canvas: over HTTP, in an iframe, with signed tokens.
``create_devlms_app`` builds that application and ``init_app`` wires it, as ``create_app`` and
each feature's ``init_app`` do the tool's; the tool's app carries only its ``flask demo``
commands (``init_tool_app``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from config import ConfigurationError, Settings, load_settings


def create_devlms_app(config_override: Mapping[str, Any] | None = None) -> Flask:
    """Create the development LMS application."""
    from app.base import build_base_app

    settings = load_settings(config_override)
    if not settings.devlms_enabled:
        raise ConfigurationError(
            "The development LMS is switched off (MICROCRED_DEVLMS_ENABLED, or production mode)."
        )
    app = build_base_app(__name__, settings, component="devlms", session_cookie="devlms_session")
    init_app(app, settings)
    return app


def init_app(app: Flask, settings: Settings) -> None:
    """Make ``app`` the development LMS: its session cookie, its rate limits, its pages and its
    API (the LTI platform's endpoints)."""
    from app.db import get_db
    from app.devlms import throttle
    from app.devlms.api import bp as api_bp
    from app.devlms.views import bp as ui_bp

    if settings.devlms_url.startswith(("https://", "http://localhost")):
        # As Moodle and Canvas do: the LMS's own session must survive the OIDC authorization
        # request that a cross-site tool's iframe sends it, so it is SameSite=None (which
        # browsers accept only on Secure cookies: over HTTPS, or on localhost).
        app.config.update(SESSION_COOKIE_SAMESITE="None", SESSION_COOKIE_SECURE=True)
    # Canvas's rate limit buckets, kept in this process (Canvas keeps them in Redis).
    app.extensions["devlms_throttle"] = throttle.RequestThrottle()
    app.extensions["devlms_clients"] = throttle.ClientLookup(get_db(app).engine)
    app.register_blueprint(ui_bp)
    app.register_blueprint(api_bp)


def init_tool_app(app: Flask) -> None:
    """Give the tool's ``flask`` the ``demo`` commands, which seed the development LMS and the
    tool together (the one part of the development LMS the tool's app carries)."""
    from app.devlms.cli import demo_group

    app.cli.add_command(demo_group)

"""Open Badges: earned credentials issued as OB 3.0 verifiable credentials and OB 2.0 hosted
assertions, their issuer identities (did:web), verification pages, revocation and baked images
(LTI-CHECKLIST I; https://www.imsglobal.org/spec/ob/v3p0/, https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the badges' public pages and the earner's, the console's Badges page (under
    ``/admin``), the ``flask badges`` commands, and the worker's job of issuing earned badges."""
    from app.admin import URL_PREFIX
    from app.badges import admin_views, cli, processing, views
    from app.outbox.jobs import add_job

    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp, url_prefix=URL_PREFIX)
    app.cli.add_command(cli.badges_group)
    add_job(app, processing.ISSUING_BADGES)

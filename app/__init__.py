"""Microcred: the application factories.

``create_app`` assembles the tool; ``app.devlms.create_devlms_app`` assembles the development
LMS, a separate application on its own origin. Both start from ``app.base.build_base_app`` and
only assemble: settings are read here, each part's ``init_app`` is called, blueprints are
registered. No migrations run at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from app.base import build_base_app
from config import load_settings


def create_app(config_override: Mapping[str, Any] | None = None) -> Flask:
    """Create the Microcred tool application."""
    from app import admin, cli, inputs, lti
    from app.badges.admin_views import bp as badges_admin_bp
    from app.badges.views import bp as badges_bp
    from app.catalog import authoring
    from app.catalog.authoring_views import bp as authoring_bp
    from app.catalog.stack_views import bp as stack_authoring_bp
    from app.catalog.views import bp as catalog_bp
    from app.core.views import bp as core_bp
    from app.evidence import file_views as evidence_files
    from app.evidence.views import bp as evidence_bp
    from app.grading.admin_views import bp as grading_admin_bp
    from app.grading.views import bp as grading_bp
    from app.linking.views import bp as linking_bp
    from app.lti.setup_views import bp as lti_setup_bp
    from app.lti.views import bp as lti_bp
    from app.progress.views import bp as progress_bp

    settings = load_settings(config_override)
    app = build_base_app(__name__, settings, component="tool", session_cookie="microcred_session")
    inputs.init_app(app)  # first: its path converters must be in place before any route
    lti.init_app(app, settings)
    admin.init_app(app, settings, admins_an_organisation=authoring.admins_an_organisation)
    app.register_blueprint(core_bp)
    app.register_blueprint(lti_bp)
    app.register_blueprint(lti_setup_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(linking_bp)
    app.register_blueprint(progress_bp)
    evidence_files.init_app(app)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(grading_bp)
    app.register_blueprint(badges_bp)
    app.register_blueprint(authoring_bp, url_prefix=admin.URL_PREFIX + "/catalog")
    app.register_blueprint(stack_authoring_bp, url_prefix=admin.URL_PREFIX + "/catalog/stacks")
    app.register_blueprint(grading_admin_bp, url_prefix=admin.URL_PREFIX)
    app.register_blueprint(badges_admin_bp, url_prefix=admin.URL_PREFIX)
    cli.init_app(app)
    return app

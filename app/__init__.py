"""Microcred: the application factories.

``create_app`` assembles the tool; ``app.devlms.create_devlms_app`` assembles the development
LMS, a separate application on its own origin. Both only assemble: settings are read here, each
part's ``init_app`` is called, blueprints are registered. No migrations run at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from config import Settings, load_settings

MAX_FORM_BYTES = 2 * 1024 * 1024


def build_base_app(
    import_name: str, settings: Settings, *, component: str, session_cookie: str
) -> Flask:
    """Make a Flask app with the parts every Microcred app shares: logging, errors, database."""
    from app import errors, logs
    from app.db import Database

    # No app-level static route: it would shadow the blueprints' own /static folders.
    app = Flask(
        import_name,
        instance_path=str(settings.instance_path),
        instance_relative_config=False,
        static_folder=None,
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME=session_cookie,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        MAX_FORM_MEMORY_SIZE=MAX_FORM_BYTES,
        JSON_SORT_KEYS=False,
    )
    app.config["MICROCRED_SETTINGS"] = settings
    logs.configure_logging(settings.log_level)
    logs.init_app(app, component=component)
    errors.init_app(app)
    Database(settings.database_url, settings.database_pool_size).init_app(app)
    return app


def create_app(config_override: Mapping[str, Any] | None = None) -> Flask:
    """Create the Microcred tool application."""
    from app import admin, cli, inputs, lti
    from app.badges.admin_views import bp as badges_admin_bp
    from app.badges.views import bp as badges_bp
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
    admin.init_app(app, settings)
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

"""What every Microcred application shares (the tool and the development LMS): logging,
errors, the database. Shared infrastructure: it imports no feature, so the development LMS
builds on it without importing the tool's factory."""

from __future__ import annotations

from flask import Flask

from config import Settings

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
    logs.configure_logging(settings.log_level, settings.log_format)
    logs.init_app(app, component=component)
    errors.init_app(app)
    Database(settings.database_url, settings.database_pool_size).init_app(app)
    return app

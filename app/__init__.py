"""Microcred: the application factories.

``create_app`` assembles the tool; ``app.devlms.create_devlms_app`` assembles the development
LMS, a separate application on its own origin. Both start from ``app.base.build_base_app``
(logging, errors, the database) and only assemble: settings are read here and each package's
``init_app`` is called, which registers that package's blueprints (with their URL prefixes), its
``flask`` commands, its request hooks and its jobs for the worker. Importing a module registers
nothing (``tests/test_wiring.py``). No migrations run at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from app.base import build_base_app
from config import load_settings


def create_app(config_override: Mapping[str, Any] | None = None) -> Flask:
    """Create the Microcred tool application.

    The packages are wired bottom layer first (``tests/test_dependencies.py``), shared
    infrastructure before the features. Where the order matters, it is for these reasons:

    - ``inputs`` first: its path converters must be in place before any blueprint adds a rule
      (a rule binds the converter it finds when it is added).
    - ``lti`` before ``admin``: the console keeps its sessions in LTI's stores, and its response
      hook must be added after LTI's security headers' (Flask runs ``after_request`` hooks last
      added first), so that the console's stricter policy is set first and LTI's leaves it.
    - ``grading`` before ``badges``: jobs run in the order they are added, and ``flask worker``
      runs the first (sending scores) in its own thread, the one SIGTERM and Ctrl+C stop, and
      prints its summary last.
    - Otherwise Flask does not mind the order (no template or route of one package shadows
      another's: ``tests/test_wiring.py``); it follows the layers so that the factory reads as
      the dependencies are drawn.
    """
    from app import (
        admin,
        backup,
        badges,
        catalog,
        core,
        devlms,
        evidence,
        grading,
        inputs,
        linking,
        lti,
        migrate,
        outbox,
        privacy,
        progress,
        reports,
        serve,
    )
    from app.catalog.authoring import admins_an_organisation

    settings = load_settings(config_override)
    app = build_base_app(__name__, settings, component="tool", session_cookie="microcred_session")
    inputs.init_app(app)
    outbox.init_app(app)
    lti.init_app(app, settings)
    admin.init_app(app, settings, admins_an_organisation=admins_an_organisation)
    catalog.init_app(app)
    linking.init_app(app)
    evidence.init_app(app, settings)
    grading.init_app(app)
    badges.init_app(app)
    progress.init_app(app)
    core.init_app(app)
    backup.init_app(app)
    reports.init_app(app)
    privacy.init_app(app)
    devlms.init_tool_app(app)
    migrate.init_app(app)
    serve.init_app(app)
    return app

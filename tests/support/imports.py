"""Import every module of ``app`` in a fresh interpreter and report what importing changed.

Run as ``python -m tests.support.imports``; it prints a JSON object (``tests/test_wiring.py``
reads it). Nothing of ``app`` may be imported before the watch is in place, so this module
imports none of it at the top.

What is reported:

- ``changed``: a module's blueprint, click group, dict, list or set that was different after
  the other modules were imported than when its own module had just run. A module may build
  its own blueprint (routes, hooks on it) and its own command group: they are inert until an
  ``init_app`` registers them. It may not add to another module's.
- ``database_events``: SQLAlchemy events that a new session or a new engine would run although
  nothing connected them to it (listeners on the ``Session`` or ``Engine`` class itself, which
  every application in the process would share). A model's listener on its own class (a
  published credential version refuses changes, ``app.catalog.models``) is part of the model,
  as a constraint is, and stays.
- ``apps``: Flask applications that exist after the imports (none is built on import).
"""

from __future__ import annotations

import gc
import importlib
import importlib.abc
import importlib.machinery
import json
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import click
import flask
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

_first: dict[tuple[str, str], Any] = {}


def _fingerprint(value: Any) -> Any:
    if isinstance(value, flask.Blueprint):
        return ["blueprint", len(value.deferred_functions)]
    if isinstance(value, click.Group):
        return ["group", sorted(value.commands)]
    if isinstance(value, dict | list | set):
        return [type(value).__name__, len(value)]
    return None


def _remember(module: ModuleType) -> None:
    for attribute, value in vars(module).items():
        found = _fingerprint(value)
        if found is not None and not attribute.startswith("__"):
            _first.setdefault((module.__name__, attribute), found)


class _Watch(importlib.abc.MetaPathFinder):
    """Fingerprints each module of ``app`` as soon as its own code has run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "app" and not fullname.startswith("app."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            _remember(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _listeners(dispatch: Any, prefix: str) -> dict[str, int]:
    return {f"{prefix}{name}": len(getattr(dispatch, name)) for name in dispatch._event_names}


def _database_events() -> dict[str, int]:
    """How many listeners each event of a new session and a new engine (and pool) has."""
    engine = create_engine("sqlite://")
    return (
        _listeners(Session().dispatch, "Session.")
        | _listeners(engine.dispatch, "Engine.")
        | _listeners(engine.pool.dispatch, "Pool.")
    )


def report() -> dict[str, Any]:
    # SQLAlchemy's own (SQLite's dialect listens to its pool's connect) are not the app's.
    before = _database_events()
    sys.meta_path.insert(0, _Watch())
    package = importlib.import_module("app")
    for info in sorted(pkgutil.walk_packages(package.__path__, "app."), key=lambda i: i.name):
        importlib.import_module(info.name)
    changed = [
        f"{module}.{attribute}: {before} -> {now}"
        for (module, attribute), before in _first.items()
        if (now := _fingerprint(vars(sys.modules[module])[attribute])) != before
    ]
    after = _database_events()
    return {
        "changed": changed,
        "database_events": sorted(name for name, count in after.items() if count > before[name]),
        "apps": sum(isinstance(thing, flask.Flask) for thing in gc.get_objects()),
    }


if __name__ == "__main__":
    print(json.dumps(report()))

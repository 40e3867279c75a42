"""How the applications are wired: what users see stays what it was, and importing registers
nothing.

``create_app`` and ``create_devlms_app`` only call each package's ``init_app``; whatever order or
module the wiring lives in, the result must not change. So the routes (rule, endpoint, methods),
the blueprints in the order they were registered (templates are looked up in that order), the
request hooks in the order they run, the error handlers, template filters and globals, the URL
converters, the extensions and every ``flask`` command with its help and options are written
down in ``tests/wiring/``, and each app is compared with them. A deliberate change rewrites
them: ``.venv/bin/python -m tests.test_wiring``, and the diff shows what users will see change.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from flask import Flask
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter, Rule

from app import health
from app.outbox.jobs import jobs_of

RECORDS = Path(__file__).resolve().parent / "wiring"
HELP_WIDTH = 100


def _name(function: Any) -> str:
    """A hook's name: what it is called, not where it is defined (moving it changes nothing)."""
    return str(getattr(function, "__name__", type(function).__name__))


def _sample_path(rule: Rule) -> str:
    """Return an address the rule matches, with a plain value for each of its variables."""
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            values[name] = 7
        elif isinstance(converter, PathConverter):
            values[name] = "a/b.txt"
        else:
            values[name] = "sample"
    built = rule.build(values, append_unknown=False)
    assert built is not None, rule.rule
    return built[1]


def describe_app(app: Flask) -> list[str]:
    """Return, line by line, everything about ``app``'s wiring that a request can meet."""
    # In no particular order: the order matters only where two blueprints offer the same
    # template, which test_no_two_folders_of_an_app_offer_the_same_template rules out.
    lines = ["# blueprints"]
    for name, blueprint in sorted(app.blueprints.items()):
        lines.append(
            f"{name} template_folder={blueprint.template_folder} "
            f"static_url_path={blueprint.static_url_path if blueprint.has_static_folder else '-'}"
        )
    lines.append("# routes: rule, endpoint, methods; then what a request to an address of the rule")
    lines.append("# is routed to, for each method (the same rule unless another one takes it)")
    urls = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        methods = sorted(rule.methods or ())
        defaults = f" defaults={sorted(rule.defaults.items())}" if rule.defaults else ""
        path = _sample_path(rule)
        routed = {
            method: urls.match(path, method)[0]
            for method in methods
            if method not in {"HEAD", "OPTIONS"}
        }
        taken = {m: endpoint for m, endpoint in routed.items() if endpoint != rule.endpoint}
        lines.append(
            f"{rule.rule} {rule.endpoint} {','.join(methods)}{defaults}"
            + (f" {path} routed to {taken}" if taken else "")
        )
    lines.append("# request hooks, per blueprint (None: the app's), in the order they run")
    hooks = {
        "before_request": app.before_request_funcs,
        "after_request": app.after_request_funcs,
        "teardown_request": app.teardown_request_funcs,
        "context_processor": app.template_context_processors,
        "url_value_preprocessor": app.url_value_preprocessors,
        "url_defaults": app.url_default_functions,
    }
    for kind, by_blueprint in hooks.items():
        for blueprint, functions in sorted(by_blueprint.items(), key=lambda i: str(i[0])):
            ordered = list(reversed(functions)) if kind == "after_request" else list(functions)
            if ordered:
                lines.append(f"{kind} {blueprint}: {', '.join(_name(f) for f in ordered)}")
    lines.append(
        "teardown_appcontext: " + ", ".join(_name(f) for f in app.teardown_appcontext_funcs)
    )
    lines.append("# error handlers")
    for blueprint, by_code in sorted(app.error_handler_spec.items(), key=lambda i: str(i[0])):
        for code, handlers in sorted(by_code.items(), key=lambda i: str(i[0])):
            for exception, handler in sorted(handlers.items(), key=lambda i: i[0].__name__):
                lines.append(f"{blueprint} {code} {exception.__name__}: {_name(handler)}")
    lines.append("# templates")
    lines.append("filters: " + ", ".join(sorted(app.jinja_env.filters)))
    lines.append("globals: " + ", ".join(sorted(app.jinja_env.globals)))
    lines.append("tests: " + ", ".join(sorted(app.jinja_env.tests)))
    lines.append("# the app")
    converters = app.url_map.converters.items()
    lines.append(
        "converters: " + ", ".join(f"{key}={value.__name__}" for key, value in sorted(converters))
    )
    lines.append(f"json: {type(app.json).__name__}, request: {app.request_class.__name__}")
    lines.append(f"session: {type(app.session_interface).__name__}")
    lines.append("extensions: " + ", ".join(app.extensions))
    lines.append("worker jobs: " + " / ".join(job.serving for job in jobs_of(app)))
    lines.append("health checks: " + ", ".join(app.extensions.get(health.EXTENSION, {})))
    for key, value in sorted(app.config.items()):
        # The secret and the settings differ from test to test; the settings' own test is
        # tests/test_config.py.
        shown = "(set)" if key in {"SECRET_KEY", "MICROCRED_SETTINGS"} else repr(value)
        lines.append(f"config {key}: {shown}")
    return lines


def _commands(group: click.Group, path: str) -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group, info_name=path)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield f"{path} {name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{path} {name}")


def describe_cli(app: Flask) -> list[str]:
    """Return every ``flask`` command of ``app``: its help as printed, and each option."""
    lines: list[str] = []
    top = ("flask", app.cli)
    for path, command in [top, *_commands(app.cli, "flask")]:
        lines.append(f"## {path}")
        if command.context_settings:
            lines.append(f"context_settings: {sorted(command.context_settings.items())}")
        for param in command.params:
            kind = type(param).__name__
            details = {
                "opts": param.opts + param.secondary_opts,
                "type": param.type.name,
                "required": param.required,
                "default": param.default,
                "multiple": param.multiple,
                "nargs": param.nargs,
                "envvar": param.envvar,
            }
            if isinstance(param, click.Option):
                details |= {
                    "flag": param.is_flag,
                    "prompt": param.prompt,
                    "hidden": param.hidden,
                    "show_default": param.show_default,
                    "expose_value": param.expose_value,
                }
            if isinstance(param.type, click.Choice):
                details["choices"] = list(param.type.choices)
            lines.append(f"{kind} {param.name}: {details}")
        ctx = click.Context(
            command, info_name=path, terminal_width=HELP_WIDTH, max_content_width=HELP_WIDTH
        )
        lines.extend(command.get_help(ctx).splitlines())
    return lines


def _tool(settings: dict[str, Any]) -> Flask:
    from app import create_app

    return create_app(settings)


def _devlms(settings: dict[str, Any]) -> Flask:
    from app.devlms import create_devlms_app

    # On localhost its session cookie is SameSite=None, as Moodle's and Canvas's are: the
    # record then shows that part of its wiring too.
    return create_devlms_app({**settings, "MICROCRED_DEVLMS_URL": "http://localhost:5001"})


def _record(name: str) -> list[str]:
    return (RECORDS / name).read_text(encoding="utf-8").splitlines()


def _same(found: list[str], name: str) -> None:
    """Compare with the record, showing only the lines that differ."""
    recorded = _record(name)
    gone = [line for line in recorded if line not in found]
    new = [line for line in found if line not in recorded]
    assert (gone, new) == ([], []), f"tests/wiring/{name} changed"
    assert found == recorded, f"tests/wiring/{name}: the same lines in another order"


def _template_folders(app: Flask) -> dict[str, set[str]]:
    """Return, for each template name, the folders that offer it (app and blueprints)."""
    offered: dict[str, set[str]] = {}
    loaders = [app.jinja_loader, *(bp.jinja_loader for bp in app.blueprints.values())]
    for loader in loaders:
        if loader is None:
            continue
        for name in loader.list_templates():
            offered.setdefault(name, set()).update(getattr(loader, "searchpath", ["?"]))
    return offered


@pytest.mark.parametrize("build", [_tool, _devlms], ids=["tool", "devlms"])
def test_no_two_folders_of_an_app_offer_the_same_template(build, settings_override):
    """Flask looks a template up in the app's folder, then in each blueprint's in the order
    they were registered: with no name in two folders, that order changes nothing."""
    app = build(settings_override)
    try:
        offered = _template_folders(app)
        assert offered, "no templates found: the check would prove nothing"
        assert {name: sorted(f) for name, f in offered.items() if len(f) > 1} == {}
    finally:
        app.extensions["db"].dispose()


def test_the_tool_has_the_routes_hooks_and_extensions_it_had(settings_override):
    app = _tool(settings_override)
    try:
        _same(describe_app(app), "tool.txt")
    finally:
        app.extensions["db"].dispose()


def test_the_tool_has_the_commands_it_had(settings_override):
    app = _tool(settings_override)
    try:
        _same(describe_cli(app), "cli.txt")
    finally:
        app.extensions["db"].dispose()


def test_the_development_lms_has_the_routes_hooks_and_extensions_it_had(settings_override):
    app = _devlms(settings_override)
    try:
        _same(describe_app(app), "devlms.txt")
        assert list(app.cli.commands) == []
    finally:
        app.extensions["db"].dispose()


# --- Importing registers nothing -----------------------------------------------------------------


@pytest.fixture(scope="module")
def imported() -> dict[str, Any]:
    """What importing every module of ``app`` in a fresh interpreter changed
    (``tests/support/imports.py``)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.imports"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_importing_a_module_adds_nothing_to_another_modules_blueprint_or_collections(imported):
    assert imported["changed"] == []


def test_importing_connects_no_database_event_every_session_or_engine_would_run(imported):
    assert imported["database_events"] == []


def test_importing_builds_no_application(imported):
    assert imported["apps"] == 0


def _write_records() -> None:
    """Rewrite ``tests/wiring/`` from the apps as they are now."""
    import tempfile

    from tests.conftest import settings_for

    with tempfile.TemporaryDirectory() as folder:
        settings = settings_for(f"sqlite:///{folder}/wiring.db", Path(folder) / "instance")
        RECORDS.mkdir(exist_ok=True)
        for name, build, describe in (
            ("tool.txt", _tool, describe_app),
            ("cli.txt", _tool, describe_cli),
            ("devlms.txt", _devlms, describe_app),
        ):
            app = build(dict(settings))
            (RECORDS / name).write_text("\n".join(describe(app)) + "\n", encoding="utf-8")
            app.extensions["db"].dispose()
            print(f"wrote tests/wiring/{name}", file=sys.stderr)


if __name__ == "__main__":
    _write_records()

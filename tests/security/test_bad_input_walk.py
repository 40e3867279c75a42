"""Every route and method of the tool, with bad values in its path and its fields (issue 25).

The walk takes the tool's URL map as it is, so a route added later is walked too. For each
route and method it finds who can reach it (the operator, an instructor, an instructor adding
content, a learner, a learner with a draft, nobody) and which of the existing things it names
(``tests/security/bad_input.py`` makes one of each); then it sends:

- each path parameter replaced by each bad value of its kind (huge and non-ASCII integers for an
  integer segment; NUL, control characters, encoded surrogates, invalid UTF-8 and 5 000
  characters for a string segment);
- each field the route reads (recorded as it reads them, from the query string, the form or
  the JSON body; a field that is only read once another is valid is found on the way) with
  each bad value: integers of 2^31, 2^63 and 10^40, non-ASCII digits, -1, 1e999, NaN, NUL,
  100 KB; in JSON also lone surrogates, nesting 100 000 deep, and every other JSON type;
- to a route that reads JSON, bodies that are wrong as a whole (nested too deep, a surrogate in
  a key, a non-finite number, a 5 000-digit number, not JSON, invalid UTF-8);
- a session token that is not Latin-1 text and one of 10 000 characters.

It asserts that nothing answers 5xx, that no traceback is logged, and that no header it sends
back (a redirect's ``Location`` above all) is longer than 8 KiB, more than clients and proxies
take."""

from __future__ import annotations

import itertools
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule
from werkzeug.routing.converters import IntegerConverter
from werkzeug.test import TestResponse
from werkzeug.utils import cached_property

from tests.security.bad_input import (
    FIELD_VALUES,
    JSON_BODIES,
    JSON_VALUES,
    PATH_INTEGERS,
    PATH_STRINGS,
    Caller,
    World,
    json_with,
)

MAX_HEADER_BYTES = 8192
MAX_FIELDS_PER_ROUTE = 60
IGNORED_METHODS = {"HEAD", "OPTIONS"}
ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")

# --- Which fields a route reads ---------------------------------------------------------------

_read: list[tuple[str, str]] = []
"""(source, name) of each field a view asked for: source is query, form or json."""
_json_asked: list[bool] = []


class _RecordingForm(ImmutableMultiDict):
    """A form (or, below, a query string), noting each name a view asks for."""

    source = "form"

    def __getitem__(self, key: Any) -> Any:
        _read.append((self.source, key))
        return super().__getitem__(key)

    def getlist(self, key: Any, type: Any = None) -> Any:
        _read.append((self.source, key))
        return super().getlist(key, type)

    def __contains__(self, key: object) -> bool:
        _read.append((self.source, str(key)))
        return super().__contains__(key)

    def to_dict(self, flat: bool = True) -> Any:
        return _RecordingCopy(self.source, super().to_dict(flat))


class _RecordingQuery(_RecordingForm):
    source = "query"


class _RecordingCopy(dict):
    """A field source copied into a dict (``request.args.to_dict()``, a JSON object), still
    noting names."""

    def __init__(self, source: str, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.source = source

    def __getitem__(self, key: Any) -> Any:
        _read.append((self.source, key))
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        _read.append((self.source, key))
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        _read.append((self.source, str(key)))
        return super().__contains__(key)


def _record_reads(app: Flask) -> None:
    base = app.request_class
    if getattr(base, "recording", False):  # an earlier shard of the walk, in this process
        return

    class Recording(base):
        parameter_storage_class = _RecordingForm
        recording = True

        @cached_property
        def args(self) -> Any:
            return _RecordingQuery(super().args)

        def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
            _json_asked.append(True)
            value = super().get_json(force=force, silent=silent, cache=cache)
            return _RecordingCopy("json", value) if type(value) is dict else value

    app.request_class = Recording


def _take(recorded: list[Any]) -> list[Any]:
    taken = list(dict.fromkeys(recorded))
    recorded.clear()
    return taken


def _forget() -> None:
    _read.clear()
    _json_asked.clear()


# --- One route ---------------------------------------------------------------------------------


class Walk:
    def __init__(self, world: World, caplog: pytest.LogCaptureFixture) -> None:
        self.world = world
        self.caplog = caplog
        self.problems: list[str] = []
        self.preferred: dict[str, Caller] = {}
        self.requests = 0
        self.fields_sent = 0
        self.good_fields = {
            "review": str(world.review),
            "version": str(world.review_version),
            "part": "lesson-plan",
            "decision": "approve",
            "organisation": "lakemont-itl",
            "action": "decide",
            # A login initiation from the demo LMS, so that its later parameters are read too.
            "iss": world.live.devlms_url,
            "login_hint": "1",
            "target_link_uri": f"{world.live.tool_url}/lti/launch",
        }
        self.good_json: dict[str, Any] = {
            "review": world.review,
            "version": world.review_version,
            "text": "An answer.",
            "name": "notes.txt",
            "size": 5,
            "criteria": {},
            "feedback": "",
        }

    def send(self, what: str, caller: Caller, method: str, path: str, **kw: Any) -> TestResponse:
        self.requests += 1
        response = caller.request(method, path, **kw)
        self._check(what, response)  # reads the whole body
        # A served file (send_file) stays open until its response is closed, as a WSGI server
        # closes it after sending.
        response.close()
        return response

    def _check(self, what: str, response: TestResponse) -> None:
        found = []
        if response.status_code >= 500:
            found.append(f"answered {response.status_code}")
        found += [
            f"a {len(value)}-byte {name} header"
            for name, value in response.headers.items()
            if len(name) + len(value) > MAX_HEADER_BYTES
        ]
        if b"Traceback (most recent call last)" in response.get_data():
            found.append("a traceback in the response")
        logged = [r for r in self.caplog.records if r.exc_info]
        if logged:
            error = logged[0].exc_info[1] if logged[0].exc_info else None
            found.append(f"logged {type(error).__name__}: {str(error)[:120]}")
        self.caplog.clear()
        if found:
            self.problems.append(f"{what}: " + "; ".join(found))

    def route(self, rule: Rule, method: str) -> None:
        names = ARGUMENT.findall(rule.rule)
        caller, values, fields = self._reach(rule, method, names)
        where = f"{method} {rule.rule} as {caller.name}"
        for name in names:
            bad = PATH_INTEGERS if _is_int(rule, name) else PATH_STRINGS
            for label, value in bad.items():
                path = _path(rule, {**values, name: value})
                self.send(f"{where}: path {name} = {label}", caller, method, path)
        path = _path(rule, values)
        self._fields(where, caller, method, path, [f for f in fields if f[0] != "json"])
        if method != "GET":
            self.send(f"{where}: JSON probe", caller, method, path, body=json.dumps(self.good_json))
            fields += _take(_read)
            if _take(_json_asked):
                keys = [name for source, name in dict.fromkeys(fields) if source == "json"]
                self._json(where, caller, method, path, keys)
        for label, token in (("not Latin-1 text", "²€"), ("10 000 characters", "a" * 10_000)):
            header = token.encode().decode("latin-1")
            self.send(
                f"{where}: session token {label}",
                caller,
                method,
                path,
                headers={"Authorization": f"Bearer {header}"},
            )
        _forget()

    def _reach(
        self, rule: Rule, method: str, names: list[str]
    ) -> tuple[Caller, dict[str, str], list[tuple[str, str]]]:
        """The caller and the existing values that get furthest into the route, and the
        fields the route read for them. The caller who last got into a route of the same
        blueprint is tried first."""
        blueprint = rule.endpoint.rsplit(".", 1)[0]
        preferred = self.preferred.get(blueprint)
        callers = self.world.callers
        if preferred is not None:
            callers = [preferred, *(c for c in callers if c is not preferred)]
        options = [self.world.values_for(rule.rule, n) for n in names]
        form = None if method == "GET" else self.good_fields
        best: tuple[tuple[int, int], Caller, dict[str, str], list[tuple[str, str]]] | None = None
        for combination in itertools.product(*options):
            values = dict(zip(names, combination, strict=True))
            for caller in callers:
                _forget()
                response = self.send(
                    f"{method} {rule.rule} as {caller.name} (probe)",
                    caller,
                    method,
                    _path(rule, values),
                    form=form,
                )
                fields = _take(_read)
                score = (_reached(response), len(fields))
                if best is None or score > best[0]:
                    best = (score, caller, values, fields)
                if score[0] == 3:
                    break
            if best is not None and best[0][0] == 3:
                break
        assert best is not None
        _forget()
        if best[0][0] >= 2:
            self.preferred[blueprint] = best[1]
        return best[1], best[2], best[3]

    def _fields(
        self, where: str, caller: Caller, method: str, path: str, first: list[tuple[str, str]]
    ) -> None:
        pending = [f for f in first if f[1] not in caller.form]
        seen = set(pending)
        while pending and len(seen) <= MAX_FIELDS_PER_ROUTE:
            source, name = pending.pop(0)
            self.fields_sent += 1
            good = {k: v for k, v in self.good_fields.items() if k != name}
            for label, value in FIELD_VALUES.items():
                what = f"{where}: {source} {name} = {label}"
                if method == "GET":
                    self.send(what, caller, method, path, query={**good, name: value})
                elif source == "form":
                    self.send(what, caller, method, path, form={**good, name: value})
                else:
                    self.send(what, caller, method, path, form=good, query={name: value})
                for found in _take(_read):
                    if found not in seen and found[1] not in caller.form and found[0] != "json":
                        seen.add(found)
                        pending.append(found)
                _forget()

    def _json(self, where: str, caller: Caller, method: str, path: str, keys: list[str]) -> None:
        for label, body in JSON_BODIES.items():
            self.send(f"{where}: JSON body {label}", caller, method, path, body=body)
        pending = list(keys)
        seen = set(pending)
        while pending and len(seen) <= MAX_FIELDS_PER_ROUTE:
            key = pending.pop(0)
            self.fields_sent += 1
            good = {k: json.dumps(v) for k, v in self.good_json.items() if k != key}
            for label, raw in JSON_VALUES.items():
                body = json_with({**good, key: raw})
                self.send(f"{where}: JSON {key} = {label}", caller, method, path, body=body)
                for source, found in _take(_read):
                    if source == "json" and found not in seen:
                        seen.add(found)
                        pending.append(found)
                _forget()


def _is_int(rule: Rule, name: str) -> bool:
    return isinstance(rule._converters[name], IntegerConverter)


def _path(rule: Rule, values: dict[str, str]) -> str:
    return ARGUMENT.sub(lambda m: values[m.group(1)], rule.rule)


def _reached(response: TestResponse) -> int:
    """How far a probe got: 3 the view answered, 2 it refused what was sent, 1 nothing there,
    0 the caller may not."""
    status = response.status_code
    location = response.headers.get("Location", "")
    if status in (401, 403, 405) or "/admin/sign-in" in location:
        return 0
    if status == 404:
        return 1
    if status >= 400:
        return 2
    return 3


SHARDS = 4
"""The walk is cut in shards, each a test of its own, so parallel test processes share it."""


def route_methods(app: Flask) -> Iterator[tuple[Rule, str]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted(rule.methods - IGNORED_METHODS):
            yield rule, method


def test_the_walk_has_the_whole_url_map_to_walk(world):
    """The shards below take every SHARDS-th route-method of the URL map from 0 to SHARDS - 1;
    the map is as large as the tool's."""
    assert len(list(route_methods(world.live.tool))) >= 150


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_route_answers_bad_input_with_a_server_error(world, caplog, shard):
    """Issue 25: every route and method, every path parameter and every field it reads, with
    every class of bad value, answers 4xx (or its usual page): never 5xx, never a traceback."""
    tool = world.live.tool
    _record_reads(tool)
    caplog.set_level(logging.WARNING)
    caplog.clear()
    walk = Walk(world, caplog)
    started = time.perf_counter()
    walked = 0
    for rule, method in list(route_methods(tool))[shard::SHARDS]:
        walked += 1
        walk.route(rule, method)
        if not world.operator_signed_in():
            world.sign_in_operator()
    seconds = time.perf_counter() - started
    print(
        f"\nshard {shard}: walked {walked} route-methods with {walk.requests} requests, "
        f"{walk.fields_sent} fields, in {seconds:.1f} s"
    )
    assert walk.problems == [], f"{len(walk.problems)} problems:\n" + "\n".join(walk.problems)
    assert walked > 0

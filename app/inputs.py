"""The one way in for outside input: path segments, query strings, forms and JSON bodies.

Everything a request carries is untrusted, and a value the database or a header cannot hold
must be refused here, as a 4xx that names it, and never reach a query, a column or a redirect
as a 500 (issue 25). So:

- **Path segments** are matched by typed converters. ``<int:…>`` takes ASCII digits up to
  PostgreSQL's ``integer`` (every id column is one), so a larger id, or one in another script's
  digits, names nothing: 404 like any unknown id. A string segment has no control characters
  and at most ``MAX_SEGMENT_CHARS`` characters.
- **Fields** are read through ``Fields`` (``query()``, ``form()``, ``values()``,
  ``json_object()``): whole numbers in ASCII digits within bounds, finite numbers, text of a
  bounded length. A bad value is a ``BadInput`` (400) naming the field, in the page's or the
  API's usual error form (``app/errors.py``).
- **Every string** of a query string or an urlencoded form is checked before any view runs:
  NUL cannot be stored in PostgreSQL text.
- **JSON** is parsed by the app's JSON provider, whoever asks (``request.get_json`` included):
  nested at most ``MAX_JSON_DEPTH`` deep, numbers finite, strings valid Unicode (no lone
  surrogates, which no encoder can write) and without NUL.
- **Bodies** are at most ``MAX_BODY_BYTES`` (forms and JSON); the routes that take files raise
  their own request's limit (``app/evidence/file_views.py``).
- **Values bound for a header or a redirect** (a registration token, a filter echoed back) are
  checked here too: ``bearer_token`` and the short text limits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import flask
from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import BaseConverter, IntegerConverter, Map, UnicodeConverter

from app.errors import AppError

DB_INTEGER_MAX = 2**31 - 1
"""The largest PostgreSQL ``integer``: every id (and version, and count) column is one."""
BIG_INTEGER_MAX = 2**63 - 1
"""The largest ``bigint`` (a file's size and the bytes received of it)."""
MAX_BODY_BYTES = 2 * 1024 * 1024
"""The largest form or JSON body: an answer of 200 000 characters fits, escaped."""
MAX_JSON_DEPTH = 32
"""Arrays and objects nested deeper than this are refused (the tool's own need 3 levels)."""
MAX_SEGMENT_CHARS = 200
"""The longest string path segment (slugs are 80, ids 36, tokens 43)."""
SHORT_TEXT = 1000
"""What ``Fields.text`` takes unless a field says otherwise: names, choices, filters."""
LONG_TEXT = MAX_BODY_BYTES
"""For free text whose length the service judges, with its own message (answers, notes)."""
SLUG_CHARS = 80
"""A slug, as the catalog stores it: a filter naming a stack or a credential is no longer."""
MAX_LIST_ITEMS = 1000
"""The most values one field may repeat (ticked boxes)."""
MAX_BEARER_CHARS = 4096
"""A registration token is a JWT of about a kilobyte; servers refuse headers past ~8 KB."""
MAX_PAGE = 100_000
"""The furthest page of a list one may ask for (beyond the last, a page is empty)."""

_ASCII_WHOLE = re.compile(r"-?[0-9]+")
_ASCII_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_NOT_ALLOWED = re.compile(r"[\x00\ud800-\udfff]")
_BEARER = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
"""RFC 6750 §2.1 ``b64token``: what may follow ``Bearer `` in an ``Authorization`` header."""


class BadInput(AppError):
    """A value from the request that the tool cannot take; names the field."""

    code = "bad_input"
    title = "Something in this request is not right"

    def __init__(self, field: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(
            f"The field “{field}” {problem}.",
            hint=hint or "Go back, check what was entered and try again.",
        )
        self.field = field


# --- Single values ------------------------------------------------------------------------------


def whole_number(
    field: str,
    value: Any,
    *,
    minimum: int = 0,
    maximum: int = DB_INTEGER_MAX,
    strict: bool = False,
) -> int:
    """Return ``value`` (an int, or unless ``strict`` a string of ASCII digits) as an int
    within the bounds."""
    if isinstance(value, bool) or not isinstance(value, int if strict else int | str):
        raise BadInput(field, "must be a whole number")
    if isinstance(value, str):
        text = value.strip()
        if not _ASCII_WHOLE.fullmatch(text) or len(text) > 20:
            raise BadInput(field, f"must be a whole number from {minimum} to {maximum}")
        value = int(text)
    if not minimum <= value <= maximum:
        raise BadInput(field, f"must be a whole number from {minimum} to {maximum}")
    return value


def as_id(value: str) -> int | None:
    """Return ``value`` as a row id if it is one a column can hold (ASCII digits, within
    PostgreSQL's ``integer``), else ``None``: for references that are an id or something else."""
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if number <= DB_INTEGER_MAX else None


def finite_number(field: str, value: Any, *, minimum: float, maximum: float) -> float:
    """Return ``value`` (a number, or a string of ASCII digits with a point) as a finite float
    within the bounds."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadInput(field, "must be a number")
    if isinstance(value, str):
        text = value.strip()
        if not _ASCII_NUMBER.fullmatch(text) or len(text) > 30:
            raise BadInput(field, f"must be a number from {minimum:g} to {maximum:g}")
        value = float(text)
    try:
        number = float(value)
    except OverflowError:  # a JSON integer of hundreds of digits
        number = math.inf
    if not math.isfinite(number) or not minimum <= number <= maximum:
        raise BadInput(field, f"must be a number from {minimum:g} to {maximum:g}")
    return number


def text(field: str, value: Any, *, max_length: int = SHORT_TEXT) -> str:
    """Return ``value`` if it is text of at most ``max_length`` characters that can be stored
    (no NUL, no lone surrogate)."""
    if not isinstance(value, str):
        raise BadInput(field, "must be text")
    if len(value) > max_length:
        raise BadInput(field, f"may be at most {max_length} characters long ({len(value)} sent)")
    _storable(field, value)
    return value


def bearer_token(field: str, value: str) -> str:
    """Return ``value`` if it can go after ``Bearer `` in a request header to another server
    (RFC 6750 token characters, at most ``MAX_BEARER_CHARS``)."""
    if len(value) > MAX_BEARER_CHARS:
        raise BadInput(field, f"is {len(value)} characters long, more than a token can be")
    if not _BEARER.fullmatch(value):
        raise BadInput(field, "has characters a token cannot have")
    return value


def _storable(field: str, value: str) -> None:
    if value.isascii() and "\x00" not in value:
        return
    found = _NOT_ALLOWED.search(value)
    if found is None:
        return
    if found.group() == "\x00":
        raise BadInput(field, "contains a NUL character, which text cannot hold")
    raise BadInput(field, "is not valid Unicode text (it has a lone surrogate)")


# --- Fields of a request -------------------------------------------------------------------------


class Fields:
    """The named values of a query string, a form or a JSON object, read by type.

    A missing or empty field gives the default; a present one that is not of its type raises
    ``BadInput`` naming it."""

    def __init__(self, values: Mapping[str, Any], *, typed: bool = False) -> None:
        self._values = values
        self._typed = typed
        """JSON: a number must be a JSON number, not a string of digits."""

    def _raw(self, name: str) -> Any:
        return self._values.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def value(self, name: str) -> Any:
        """The value as it came (JSON: of any type), or ``None``."""
        return self._raw(name)

    def has(self, name: str) -> bool:
        return self._raw(name) not in (None, "")

    def text(
        self, name: str, default: str = "", *, max_length: int = SHORT_TEXT, strip: bool = False
    ) -> str:
        value = self._raw(name)
        if value is None:
            return default
        found = text(name, value, max_length=max_length)
        return found.strip() if strip else found

    def optional_text(self, name: str, *, max_length: int = SHORT_TEXT) -> str | None:
        """Text with its spaces trimmed, or ``None`` when missing or blank."""
        return self.text(name, max_length=max_length, strip=True) or None

    def integer(
        self,
        name: str,
        default: int | None = None,
        *,
        minimum: int = 0,
        maximum: int = DB_INTEGER_MAX,
    ) -> int:
        value = self._raw(name)
        if value is None or value == "":
            if default is None:
                raise BadInput(name, "is missing")
            return default
        return whole_number(name, value, minimum=minimum, maximum=maximum, strict=self._typed)

    def optional_integer(
        self, name: str, *, minimum: int = 0, maximum: int = DB_INTEGER_MAX
    ) -> int | None:
        value = self._raw(name)
        if value is None or value == "":
            return None
        return whole_number(name, value, minimum=minimum, maximum=maximum, strict=self._typed)

    def optional_number(self, name: str, *, minimum: float, maximum: float) -> float | None:
        value = self._raw(name)
        if value is None or value == "":
            return None
        return finite_number(name, value, minimum=minimum, maximum=maximum)

    def page(self, name: str = "page") -> int:
        """A page number of a list, 1 when missing or not one (an old bookmark still shows a
        page), at most ``MAX_PAGE``."""
        value = self._raw(name)
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
            return min(max(1, int(value)), MAX_PAGE)
        return 1

    def _list(self, name: str) -> list[Any]:
        getlist = getattr(self._values, "getlist", None)
        values: list[Any] = list(getlist(name)) if getlist else [self._raw(name)]
        values = [v for v in values if v not in (None, "")]
        if len(values) > MAX_LIST_ITEMS:
            raise BadInput(name, f"may be given at most {MAX_LIST_ITEMS} times")
        return values

    def integers(self, name: str, *, maximum: int = DB_INTEGER_MAX) -> list[int]:
        """Every value of a repeated field (ticked boxes), each a whole number."""
        return [
            whole_number(name, v, maximum=maximum, strict=self._typed) for v in self._list(name)
        ]

    def texts(self, name: str, *, max_length: int = SHORT_TEXT) -> list[str]:
        """Every non-empty value of a repeated field."""
        return [text(name, v, max_length=max_length) for v in self._list(name)]

    def mapping(self, name: str) -> dict[str, Any]:
        """A JSON object member that is itself an object (``{}`` when missing)."""
        value = self._raw(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise BadInput(name, "must be an object")
        return value


def query() -> Fields:
    """The request's query string."""
    return Fields(request.args)


def form() -> Fields:
    """The request's form."""
    return Fields(request.form)


def values() -> Fields:
    """The query string and the form together (the query string first)."""
    return Fields(request.values)


def json_object() -> Fields:
    """The request's JSON body, which must be an object."""
    if not request.is_json:
        raise BadInput("body", "must be JSON", hint="Send it with Content-Type: application/json.")
    body = request.get_json()
    if not isinstance(body, dict):
        raise BadInput("body", "must be a JSON object")
    return Fields(body, typed=True)


@contextmanager
def reworded(error: type[AppError], message: str, *, hint: str | None = None) -> Iterator[None]:
    """Say a refused field in the words of the page or API that reads it: ``message``, then
    which field and what is wrong with it."""
    try:
        yield
    except BadInput as exc:
        raise error(f"{message} {exc.message}", hint=hint or exc.hint) from exc


# --- JSON ---------------------------------------------------------------------------------------


class BoundedJSONProvider(DefaultJSONProvider):
    """JSON as the app reads it from requests: bounded nesting, finite numbers, storable text."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise BadInput("body", f"is nested more than {MAX_JSON_DEPTH} levels deep") from None
        check_json(value)
        return value


def check_json(value: Any) -> None:
    """Refuse JSON nested deeper than ``MAX_JSON_DEPTH``, with a number that is not finite or a
    string that cannot be stored; the error names the top-level member it is in."""
    pending: list[tuple[Any, int, str]] = [(value, 0, "body")]
    while pending:
        item, depth, field = pending.pop()
        if isinstance(item, str):
            _storable(field, item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise BadInput(field, "must be a finite number")
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise BadInput(field, f"is nested more than {MAX_JSON_DEPTH} levels deep")
            if isinstance(item, dict):
                for key, member in item.items():
                    _storable(field, key)
                    pending.append((member, depth + 1, key if depth == 0 else field))
            else:
                pending.extend((member, depth + 1, field) for member in item)


class ToolRequest(flask.Request):
    """A request whose malformed JSON is a ``BadInput`` saying so (werkzeug's is a bare 400)."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:
            raise BadInput(
                "body", "must be JSON", hint="Send it with Content-Type: application/json."
            )
        raise BadInput("body", "is not valid JSON") from e


# --- Path segments -------------------------------------------------------------------------------


class DatabaseInteger(IntegerConverter):
    """``<int:…>``: ASCII digits (``\\d`` would take ``٣``, which ``int`` reads as 3) up to
    ``DB_INTEGER_MAX``; beyond it the rule does not match, so the answer is 404."""

    regex = r"[0-9]{1,10}"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        bound = DB_INTEGER_MAX if max is None or max > DB_INTEGER_MAX else max
        super().__init__(map, fixed_digits, min, bound, signed)


class Segment(UnicodeConverter):
    """A string path segment: no control characters, at most ``MAX_SEGMENT_CHARS``."""

    def __init__(
        self,
        map: Map,
        minlength: int = 1,
        maxlength: int | None = MAX_SEGMENT_CHARS,
        length: int | None = None,
    ) -> None:
        super().__init__(map, minlength, maxlength or MAX_SEGMENT_CHARS, length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f]", 1)


CONVERTERS: dict[str, type[BaseConverter]] = {
    "int": DatabaseInteger,
    "default": Segment,
    "string": Segment,
}


# --- Wiring --------------------------------------------------------------------------------------


def _check_strings() -> None:
    """Refuse a query string or an urlencoded form carrying NUL, before any view reads it.
    (Multipart forms are read by their views, which may first raise the body limit.)"""
    sources = [request.args]
    if request.mimetype == "application/x-www-form-urlencoded":
        sources.append(request.form)
    for source in sources:
        for name, value in source.items(multi=True):
            _storable(name, name)
            _storable(name, value)


def init_app(app: Flask) -> None:
    """Install the converters (before any blueprint adds its rules), the JSON provider, the
    request class, the body limit and the string check."""
    app.url_map.converters.update(CONVERTERS)
    app.json = BoundedJSONProvider(app)
    app.request_class = ToolRequest
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.before_request(_check_strings)

"""Logging to stdout, each line carrying the request id: JSON lines for a log collector, or
readable text for a person at a terminal (``MICROCRED_LOG_FORMAT=text``, as ``make run``).

A request id comes from a well-formed ``X-Request-Id`` header (a load balancer's) or is made
here; it is echoed in the response header and shown on error pages, so a person can quote it
and an operator can find the matching log lines. Query strings and bodies are never logged:
they carry id_tokens, hints and tokens.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Attributes every LogRecord has; anything else passed as ``extra=`` is emitted as a field.
_STANDARD = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = getattr(g, "request_id", None)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Format a record as one line a person reads: the time, the level, the logger, the message
    (for a request: method, path, status and milliseconds), then any other fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            key: value
            for key, value in vars(record).items()
            if key not in _STANDARD and not key.startswith("_")
        }
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        if {"method", "path", "status"} <= fields.keys():
            what = f"{fields.pop('method')} {fields.pop('path')} {fields.pop('status')}"
            duration = fields.pop("duration_ms", None)
            if duration is not None:
                what += f" {duration} ms"
        else:
            what = record.getMessage()
        if has_request_context() and getattr(g, "request_id", None):
            fields["request"] = g.request_id
        extra = " ".join(f"{key}={value}" for key, value in fields.items())
        line = f"{when} {record.levelname:<7} {record.name:<14} {what}"
        if extra:
            line += f"  [{extra}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _StdoutHandler(logging.StreamHandler):
    """Write to whatever ``sys.stdout`` is at the time of each record (test capture swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str, form: str = "json") -> None:
    """Send every log line to stdout as JSON or text (one handler however many apps a process
    makes; the latest app's level and format apply)."""
    root = logging.getLogger()
    root.setLevel(level)
    handler = next((h for h in root.handlers if isinstance(h, _StdoutHandler)), None)
    if handler is None:
        handler = _StdoutHandler()
        root.addHandler(handler)
    handler.setFormatter(TextFormatter() if form == "text" else JsonFormatter())
    # werkzeug's own access log duplicates ours in a non-JSON format.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def init_app(app: Flask, *, component: str) -> None:
    """Give every request an id and log it once, when it ends (secrets in paths redacted)."""
    access = logging.getLogger(f"{component}.access")

    @app.before_request
    def _start() -> None:
        header = request.headers.get("X-Request-Id", "")
        g.request_id = header if _REQUEST_ID.match(header) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        started = g.get("request_started")
        access.info(
            "request",
            extra={
                "method": request.method,
                "path": _loggable_path(),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)
                if started
                else None,
            },
        )
        return response


def _loggable_path() -> str:
    """The request path with secret route values (``token``, ``*_token``) replaced by ``…``."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if (name == "token" or name.endswith("_token")) and isinstance(value, str) and value:
            path = path.replace(value, "…")
    return path

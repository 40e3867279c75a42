"""Typed errors and the one place they become responses.

Code anywhere raises an ``AppError`` subclass with a message a person can act on; the handler
here turns it (and every other exception) into a page, or JSON when the client asks for JSON,
with a stable error code and the request id. A stack trace never reaches a response: unexpected
exceptions are logged with their traceback and answered with a generic 500 — except a part the
tool depends on that did not answer (its database, its state store), which is answered 503
"try again in a moment" with ``Retry-After``: the request failed for a reason that passes.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    """An error with an HTTP status, a stable code and a message for a person."""

    status = 400
    code = "bad_request"
    title = "Something is not right with this request"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if title is not None:
            self.title = title


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    title = "Sign-in needed"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class ServiceUnavailable(AppError):
    """A part the tool needs did not answer; the same request is likely to work in a moment."""

    status = 503
    code = "service_unavailable"
    title = "Microcred is not available for a moment"

    def __init__(self, part: str) -> None:
        super().__init__(
            f"Microcred could not reach its {part} just now, so this request was not completed.",
            hint="Try again in a moment. What you saved before is kept.",
        )
        self.part = part


RETRY_AFTER_SECONDS = 5
"""What a 503 asks a client to wait: about what a database or Redis restart takes."""


def unavailable_part(exc: BaseException) -> str | None:
    """Name the part the tool could not reach (``"database"``, ``"state store"``) when ``exc``,
    or an error it was raised from, says so; ``None`` for any other error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        part = _part_not_reached(current)
        if part is not None:
            return part
        current = current.__cause__ or current.__context__
    return None


def _part_not_reached(exc: BaseException) -> str | None:
    import redis.exceptions
    from sqlalchemy import exc as sql

    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "state store"  # (a Redis still loading its data is a ConnectionError too)
    if isinstance(exc, sql.TimeoutError):  # no pooled connection came free in time
        return "database"
    if not isinstance(exc, sql.DBAPIError):
        return None
    if exc.connection_invalidated:
        return "database"
    if not isinstance(exc, sql.OperationalError | sql.InterfaceError):
        return None
    if type(exc.orig).__module__.startswith("sqlite3"):
        # SQLite's OperationalError also means a missing table or a syntax error: bugs, not
        # something that passes.
        reason = str(exc.orig).lower()
        return "database" if "locked" in reason or "unable to open" in reason else None
    # PostgreSQL's: the server refused or dropped the connection, is shutting down, or the
    # transaction was cancelled to be tried again (a serialization failure, a deadlock).
    return "database"


class ExternalRequestError(AppError):
    """A call to another system (an LMS) failed; carries what was sent and what came back."""

    status = 502
    code = "external_request_failed"
    title = "The LMS did not answer as expected"

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        response_status: int | None = None,
        response_text: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.response_status = response_status
        self.response_text = response_text


# Friendly words for the HTTP errors Flask raises itself (routing, methods, body size).
_HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    404: (
        "Page not found",
        "There is no page at this address. Check the link, or start again from your course page.",
    ),
    405: (
        "Method not allowed",
        "This address does not accept that kind of request. If you "
        "followed a link from your LMS, launch the tool again from the course page.",
    ),
    413: ("Too large", "What you sent is larger than this server accepts."),
    429: ("Too many requests", "Too many requests in a short time. Wait a minute and try again."),
}


def wants_json() -> bool:
    """Tell whether the client prefers JSON (an API call) over a page."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(
    status: int, code: str, title: str, message: str, hint: str | None = None
) -> Response:
    """Render one error as a page or as JSON, always with the request id."""
    request_id = getattr(g, "request_id", None)
    body: dict[str, Any] = {
        "error": {"code": code, "title": title, "message": message, "request_id": request_id}
    }
    if hint:
        body["error"]["hint"] = hint
    if wants_json():
        response = jsonify(body)
    else:
        response = Response(
            render_template(
                "errors/error.html",
                status=status,
                code=code,
                title=title,
                message=message,
                hint=hint,
                request_id=request_id,
            ),
            mimetype="text/html",
        )
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Register the single error handler."""

    @app.errorhandler(AppError)
    def _app_error(exc: AppError) -> Response:
        # The code, not the message: a message is written for the person refused, and may name
        # someone (who holds a review, whom to write to) — personal data stays out of logs.
        log.info("request refused", extra={"error_code": exc.code, "status": exc.status})
        response = error_response(exc.status, exc.code, exc.title, exc.message, exc.hint)
        if exc.status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        title, message = _HTTP_MESSAGES.get(status, (exc.name, exc.description or exc.name))
        response = error_response(status, f"http_{status}", title, message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        part = unavailable_part(exc)
        if part is not None:
            log.warning(
                "dependency unavailable", extra={"dependency": part, "reason": type(exc).__name__}
            )
            return _app_error(ServiceUnavailable(part))
        log.exception("unhandled error")
        return error_response(
            500,
            "internal_error",
            "Something went wrong on our side",
            "The tool hit an unexpected problem and nothing you sent was changed by it. Try "
            "again; if it keeps happening, give the request id below to your tool administrator.",
        )

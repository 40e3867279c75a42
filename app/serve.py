"""Serve the tool and the development LMS from one process, each on its own origin: ``flask
serve`` (``init_app``), with the worker's jobs as threads when the settings ask for the embedded
worker (``app.outbox.jobs``).

For development and demos (``make run``). Production runs the tool under a WSGI server
(e.g. ``gunicorn 'app:create_app()'``) without the development LMS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from ssl import SSLContext
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

from config import Settings

_RESPONSE = "microcred.serve.response"


class _Response:
    """A response body that is closed once, by whoever gets there first."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = body
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            close = getattr(self._body, "close", None)
            if close is not None:
                close()


class _ClosingApp:
    """Keeps each response where the request handler finds it if the connection drops."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> _Response:
        response = _Response(self._app(environ, start_response))
        environ[_RESPONSE] = response
        return response


class _ClosingRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, closing the response when the browser drops the connection.

    werkzeug closes a response after it drains the socket; when the drain itself fails (a
    browser that navigated away during a static file resets the connection), the response and
    the file it streams were left open for the garbage collector."""

    def connection_dropped(
        self, error: BaseException, environ: dict[str, Any] | None = None
    ) -> None:
        response = (environ or {}).get(_RESPONSE)
        if response is not None:
            response.close()


class DevServer(ThreadedWSGIServer):
    """The threaded development server (``make run``, and every server of the tests), whose
    responses are closed even when a connection drops, whatever app is set (a test sets its
    apps once their URLs are known)."""

    def __init__(
        self, host: str, port: int, app: Any, ssl_context: SSLContext | None = None
    ) -> None:
        super().__init__(host, port, app, handler=_ClosingRequestHandler, ssl_context=ssl_context)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "app" and not isinstance(value, _ClosingApp):
            value = _ClosingApp(value)
        super().__setattr__(name, value)


def make_server(host: str, port: int, app: Any, ssl_context: SSLContext | None = None) -> DevServer:
    """A threaded development server for ``app`` on ``host:port`` (0: a free port)."""
    return DevServer(host, port, app, ssl_context=ssl_context)


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)


def start_server(app: Flask, host: str, port: int) -> BaseWSGIServer:
    """Start a threaded server for ``app`` in a daemon thread and return it."""
    server = make_server(host, port, app)
    thread = threading.Thread(target=server.serve_forever, name=f"http-{port}", daemon=True)
    thread.start()
    return server


@click.command("serve")
@with_appcontext
@click.option(
    "--devlms/--no-devlms",
    default=None,
    help="Also serve the development LMS (default: when it is enabled).",
)
def serve_command(devlms: bool | None) -> None:
    """Serve the tool (and the development LMS) until interrupted."""
    from app.badges.services import site_of
    from app.devlms import create_devlms_app
    from app.outbox.jobs import start_embedded

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings: Settings = app.config["MICROCRED_SETTINGS"]
    with_devlms = settings.devlms_enabled if devlms is None else devlms
    host, port = host_port(settings.base_url)
    servers = [start_server(app, host, port)]
    click.echo(f"Microcred tool:   {settings.base_url}/")
    if with_devlms:
        lms_host, lms_port = host_port(settings.devlms_url)
        servers.append(start_server(create_devlms_app(), lms_host, lms_port))
        click.echo(f"Development LMS:  {settings.devlms_url}/")
        click.echo("")
        click.echo(
            f"Open {settings.devlms_url}/ , pick a user, open the course and launch the tool."
        )
    embedded = start_embedded(app)
    for job, _ in embedded:
        click.echo(job.serving)
    if not site_of(app).checkable_by_wallets:  # say so before anyone relies on it
        click.echo(
            "Badges:           served over http, so wallets cannot check the badges it "
            "issues (their pages here can); docs/using.md, 'Badges from the demo', says why."
        )
    click.echo("Press Ctrl+C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        for _, loop in embedded:
            loop.stop()
        for server in servers:
            server.shutdown()


def init_app(app: Flask) -> None:
    """Give the app's ``flask`` the ``serve`` command."""
    app.cli.add_command(serve_command)

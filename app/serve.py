"""Serve the tool and the development LMS from one process, each on its own origin.

For development and demos (``make run``). Production runs the tool under a WSGI server
(e.g. ``gunicorn 'app:create_app()'``) without the development LMS.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)


def start_server(app: Flask, host: str, port: int) -> BaseWSGIServer:
    """Start a threaded server for ``app`` in a daemon thread and return it."""
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"http-{port}", daemon=True)
    thread.start()
    return server

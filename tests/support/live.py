"""The tool and the development LMS as real HTTP servers on loopback, for integration tests;
over HTTPS too, with a test CA (``tests/support/tls.py``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.support.serving import serving
from tests.support.tls import TlsFiles


@dataclass
class LiveServers:
    tool: Flask
    devlms: Flask
    tool_url: str
    devlms_url: str
    ca_cert: Path | None = None
    """Over HTTPS: the test CA that signed both servers' certificate (clients must trust it)."""


def _placeholder(environ: Any, start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@contextmanager
def live_servers(
    overrides: Mapping[str, Any], lms_host: str = "127.0.0.1", tls: TlsFiles | None = None
) -> Iterator[LiveServers]:
    """Bind two free ports, build both apps for those origins, serve until the block ends.

    ``lms_host="localhost"`` puts the LMS on another *site* than the tool (127.0.0.1), so the
    tool in the LMS's iframe is third-party, as it is in production. With ``tls`` both serve
    HTTPS with its certificate; whoever calls them (the apps included: they call each other)
    must trust ``tls.ca_cert``."""
    from app import create_app
    from app.devlms import create_devlms_app

    context = tls.server_context() if tls else None
    scheme = "https" if tls else "http"
    tool_server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, _placeholder, threaded=True, ssl_context=context
    )
    lms_server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, _placeholder, threaded=True, ssl_context=context
    )
    tool_url = f"{scheme}://127.0.0.1:{tool_server.server_port}"
    lms_url = f"{scheme}://{lms_host}:{lms_server.server_port}"
    config = {**overrides, "MICROCRED_BASE_URL": tool_url, "MICROCRED_DEVLMS_URL": lms_url}
    tool = create_app(config)
    devlms = create_devlms_app(config)
    tool_server.app = tool
    lms_server.app = devlms
    try:
        with serving(tool_server, lms_server):
            yield LiveServers(
                tool=tool,
                devlms=devlms,
                tool_url=tool_url,
                devlms_url=lms_url,
                ca_cert=tls.ca_cert if tls else None,
            )
    finally:
        for app in (tool, devlms):
            app.extensions["db"].dispose()

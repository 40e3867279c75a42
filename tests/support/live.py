"""The tool and the development LMS as real HTTP servers on loopback, for integration tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class LiveServers:
    tool: Flask
    devlms: Flask
    tool_url: str
    devlms_url: str


def _placeholder(environ: Any, start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@contextmanager
def live_servers(
    overrides: Mapping[str, Any], lms_host: str = "127.0.0.1"
) -> Iterator[LiveServers]:
    """Bind two free ports, build both apps for those origins, serve until the block ends.

    ``lms_host="localhost"`` puts the LMS on another *site* than the tool (127.0.0.1), so the
    tool in the LMS's iframe is third-party, as it is in production."""
    from app import create_app
    from app.devlms import create_devlms_app

    tool_server: BaseWSGIServer = make_server("127.0.0.1", 0, _placeholder, threaded=True)
    lms_server: BaseWSGIServer = make_server("127.0.0.1", 0, _placeholder, threaded=True)
    tool_url = f"http://127.0.0.1:{tool_server.server_port}"
    lms_url = f"http://{lms_host}:{lms_server.server_port}"
    config = {**overrides, "MICROCRED_BASE_URL": tool_url, "MICROCRED_DEVLMS_URL": lms_url}
    tool = create_app(config)
    devlms = create_devlms_app(config)
    tool_server.app = tool
    lms_server.app = devlms
    threads = [
        threading.Thread(target=s.serve_forever, daemon=True) for s in (tool_server, lms_server)
    ]
    for thread in threads:
        thread.start()
    try:
        yield LiveServers(tool=tool, devlms=devlms, tool_url=tool_url, devlms_url=lms_url)
    finally:
        for server in (tool_server, lms_server):
            server.shutdown()
            server.server_close()
        for app in (tool, devlms):
            app.extensions["db"].dispose()

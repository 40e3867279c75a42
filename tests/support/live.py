"""The tool and the development LMS as real HTTP servers on loopback, for integration tests;
over HTTPS too, with a test CA (``tests/support/tls.py``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer

from app.serve import make_server
from tests.support.serving import serving
from tests.support.tls import TlsFiles

# Hosted Canvas's other hosts (``app/devlms/sites.py``): the same development LMS, bound to other
# loopback addresses, so that each is another site to the browser and another host to the tool.
# Linux answers on all of 127.0.0.0/8.
SSO_HOST = "127.0.0.2"
ACCOUNT_HOST = "127.0.0.3"


@dataclass
class LiveServers:
    tool: Flask
    devlms: Flask
    tool_url: str
    devlms_url: str
    devlms_sso_url: str
    """The development LMS as Canvas's sso host (authorization, JWKS, token endpoints)."""
    devlms_account_url: str
    """The development LMS as the school's Canvas domain (the registration endpoint)."""
    ca_cert: Path | None = None
    """Over HTTPS: the test CA that signed both servers' certificate (clients must trust it)."""
    balancer: Alternating | None = None
    """With several instances of the tool: what sent each request to which."""


class Alternating:
    """A load balancer inside the test process: each request to the tool's address goes to the
    next instance in turn (HAProxy's round robin, without its health checks), and which one
    served it is recorded.

    Each instance is an application of its own (``create_app``): its own extensions, caches
    and connection pools, as another process has. Module-level state is shared, as it is not
    between processes; ``tests/cluster`` runs separate gunicorn processes behind HAProxy."""

    def __init__(self, apps: Sequence[Flask]) -> None:
        self.apps = tuple(apps)
        self._lock = threading.Lock()
        self._count = 0
        self.served: list[tuple[int, str, str]] = []
        """``(instance, method, path)`` of every request, in the order they arrived."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._lock:
            instance = self._count % len(self.apps)
            self._count += 1
            self.served.append((instance, environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return self.apps[instance](environ, start_response)

    def send_next_to(self, instance: int) -> None:
        """Make the next request go to ``instance`` (and the turns go on from there)."""
        with self._lock:
            self._count = instance

    def instances_of(self, method: str, path: str) -> list[int]:
        """The instances that served ``method path`` (in order)."""
        return [n for n, m, p in self.served if (m, p) == (method, path)]


def _placeholder(environ: Any, start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@contextmanager
def live_servers(
    overrides: Mapping[str, Any],
    lms_host: str = "127.0.0.1",
    tls: TlsFiles | None = None,
    instances: int = 1,
) -> Iterator[LiveServers]:
    """Bind free ports, build both apps for those origins, serve until the block ends.

    The development LMS is served three times: on its own origin (its issuer), and as Canvas's
    sso host (on 127.0.0.2) and the school's Canvas domain (on 127.0.0.3), which its Canvas
    flavour's OpenID configuration names as hosted Canvas's does.

    ``lms_host="localhost"`` puts the LMS on another *site* than the tool (127.0.0.1), so the
    tool in the LMS's iframe is third-party, as it is in production. With ``tls`` both serve
    HTTPS with its certificate; whoever calls them (the apps included: they call each other)
    must trust ``tls.ca_cert``.

    ``instances=2`` serves two instances of the tool on its address, taking turns
    (``Alternating``); ``tool`` is the first."""
    from app import create_app
    from app.devlms import create_devlms_app

    context = tls.server_context() if tls else None
    scheme = "https" if tls else "http"
    tool_server: BaseWSGIServer = make_server("127.0.0.1", 0, _placeholder, ssl_context=context)
    lms_servers: list[BaseWSGIServer] = [
        make_server(host, 0, _placeholder, ssl_context=context)
        for host in ("127.0.0.1", SSO_HOST, ACCOUNT_HOST)
    ]
    tool_url = f"{scheme}://127.0.0.1:{tool_server.server_port}"
    lms_url, sso_url, account_url = (
        f"{scheme}://{host}:{server.server_port}"
        for host, server in zip((lms_host, SSO_HOST, ACCOUNT_HOST), lms_servers, strict=True)
    )
    config = {
        **overrides,
        "MICROCRED_BASE_URL": tool_url,
        "MICROCRED_DEVLMS_URL": lms_url,
        "MICROCRED_DEVLMS_SSO_URL": sso_url,
        "MICROCRED_DEVLMS_ACCOUNT_URL": account_url,
    }
    tools = [create_app(config) for _ in range(instances)]
    tool = tools[0]
    devlms = create_devlms_app(config)
    balancer = Alternating(tools) if instances > 1 else None
    tool_server.app = balancer or tool
    for server in lms_servers:
        server.app = devlms
    try:
        with serving(tool_server, *lms_servers):
            yield LiveServers(
                tool=tool,
                devlms=devlms,
                tool_url=tool_url,
                devlms_url=lms_url,
                devlms_sso_url=sso_url,
                devlms_account_url=account_url,
                ca_cert=tls.ca_cert if tls else None,
                balancer=balancer,
            )
    finally:
        for app in (*tools, devlms):
            app.extensions["db"].dispose()

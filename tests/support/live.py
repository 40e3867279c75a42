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


def _placeholder(environ: Any, start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@contextmanager
def live_servers(
    overrides: Mapping[str, Any], lms_host: str = "127.0.0.1", tls: TlsFiles | None = None
) -> Iterator[LiveServers]:
    """Bind free ports, build both apps for those origins, serve until the block ends.

    The development LMS is served three times: on its own origin (its issuer), and as Canvas's
    sso host (on 127.0.0.2) and the school's Canvas domain (on 127.0.0.3), which its Canvas
    flavour's OpenID configuration names as hosted Canvas's does.

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
    lms_servers: list[BaseWSGIServer] = [
        make_server(host, 0, _placeholder, threaded=True, ssl_context=context)
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
    tool = create_app(config)
    devlms = create_devlms_app(config)
    tool_server.app = tool
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
            )
    finally:
        for app in (tool, devlms):
            app.extensions["db"].dispose()

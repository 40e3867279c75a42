"""Serve fixed documents on loopback, over HTTP or HTTPS, for the validator harness's tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer

from app.serve import make_server
from tests.support.serving import serving
from tests.support.tls import TlsFiles

_REASONS = {200: "OK", 404: "Not Found", 410: "Gone"}


@dataclass(frozen=True)
class Document:
    body: bytes
    content_type: str
    status: int = 200


class StaticServer:
    """Documents by path; ``url`` is the server's origin (``http(s)://127.0.0.1:PORT``)."""

    def __init__(self) -> None:
        self.documents: dict[str, Document] = {}
        self.url = ""
        self.port = 0

    def put(self, path: str, body: bytes, content_type: str, status: int = 200) -> str:
        """Serve ``body`` at ``path``; return its URL."""
        self.documents[path] = Document(body, content_type, status)
        return self.url + path

    def put_json(
        self,
        path: str,
        document: Any,
        *,
        status: int = 200,
        content_type: str = "application/ld+json",
    ) -> str:
        """Serve ``document`` as JSON at ``path``; return its URL."""
        return self.put(path, json.dumps(document).encode(), content_type, status)

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        document = self.documents.get(environ.get("PATH_INFO", ""))
        if document is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        status = f"{document.status} {_REASONS.get(document.status, 'Status')}"
        start_response(
            status,
            [("Content-Type", document.content_type), ("Content-Length", str(len(document.body)))],
        )
        return [document.body]


@contextmanager
def static_server(tls: TlsFiles | None = None) -> Iterator[StaticServer]:
    """Serve an empty ``StaticServer`` on a free loopback port (HTTPS with ``tls``'s
    certificate) until the block ends; fill it with ``put`` as the test needs."""
    static = StaticServer()
    server: BaseWSGIServer = make_server(
        "127.0.0.1",
        0,
        static.wsgi,
        ssl_context=tls.server_context() if tls else None,
    )
    static.port = server.server_port
    static.url = f"{'https' if tls else 'http'}://127.0.0.1:{static.port}"
    with serving(server):
        yield static

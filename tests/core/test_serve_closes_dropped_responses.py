"""The development server closes a response whose browser went away mid-body.

werkzeug's server closes a response after draining the socket; when the drain fails because the
browser reset the connection (it navigated away while a static file was coming), the response —
and the file it streams — was left to the garbage collector, and a test that saw the
ResourceWarning failed at random (CI, `tests/browser/test_review.py`)."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

from flask import Flask, Response

from app.serve import make_server
from tests.support.serving import serving

BODY = b"console.log('a static file');\n"


def test_a_response_is_closed_when_the_browser_resets_the_connection() -> None:
    """The body is all sent, then the browser resets the connection before the server has
    finished with it: the server's drain of the socket meets the reset."""
    reset = threading.Event()
    closed = threading.Event()

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield BODY
            reset.wait(timeout=30)  # the server is done only once the browser has gone

        def close(self) -> None:
            closed.set()

    app = Flask(__name__)
    app.add_url_rule(
        "/moments.js",
        "static_file",
        lambda: Response(Body(), mimetype="text/javascript", headers={"Content-Length": len(BODY)}),
    )
    server = make_server("127.0.0.1", 0, app)
    with serving(server):
        client = socket.create_connection(("127.0.0.1", server.server_port))
        client.sendall(b"GET /moments.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while not received.endswith(BODY):
            received += client.recv(4096)
        # A reset, as a browser's when it abandons a page: SO_LINGER with a zero timeout.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        reset.set()
        assert closed.wait(timeout=30), "the response was never closed"

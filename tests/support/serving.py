"""Serve a test's HTTP server in a background thread, and stop it at once.

``serve_forever`` checks for a shutdown request every ``poll_interval`` seconds (0.5 by default),
so every server a test stopped cost it up to half a second of waiting: ~0.7 s per test that starts
the tool and the development LMS, minutes per suite run. Every test server is served here."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

POLL_SECONDS = 0.01
"""How often a serving thread looks for a shutdown request: a stop takes about this long."""


def start_serving(server: socketserver.BaseServer) -> threading.Thread:
    """Serve ``server`` in a daemon thread until ``stop_serving``."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True
    )
    thread.start()
    return thread


def stop_serving(server: socketserver.BaseServer, thread: threading.Thread | None = None) -> None:
    """Stop serving, close the listening socket and wait for the serving thread to end."""
    server.shutdown()
    server.server_close()
    if thread is not None:
        thread.join(timeout=10)


@contextmanager
def serving(*servers: socketserver.BaseServer) -> Iterator[None]:
    """Serve every server of ``servers`` until the block ends, then stop them all."""
    threads = [start_serving(server) for server in servers]
    try:
        yield
    finally:
        for server, thread in zip(servers, threads, strict=True):
            stop_serving(server, thread)

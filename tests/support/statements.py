"""Count the SQL statements a request sends, in-process (the tool's Flask test client), so that
a test can show a page costs as many queries with much data as with little."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event

from app.db import get_db
from tests.support.live import LiveServers


def statements_per_request(
    live: LiveServers, token: str, requests: Mapping[str, tuple[str, Mapping[str, str]]]
) -> dict[str, int]:
    """Statements each named request (path, query) sends, after one warm-up of its kind."""
    sent = [0]
    me = threading.get_ident()

    def count(*_args: Any) -> None:
        # Only this thread's requests: the live servers' threads serve whoever calls them.
        if threading.get_ident() == me:
            sent[0] += 1

    engine = get_db(live.tool).engine
    client = live.tool.test_client()
    counts = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        for kind, (path, params) in requests.items():
            for _ in range(2):
                sent[0] = 0
                response = client.get(path, query_string={**params, "lt": token})
                assert response.status_code == 200, (kind, response.status_code)
            counts[kind] = sent[0]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counts

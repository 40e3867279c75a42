"""The demo course's gradebook as the tool's AGS client sees it, and what the development LMS
recorded, for tests of ``app.lti.tokens`` and ``app.lti.ags``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import delete, select

from app.db import get_db, utcnow
from app.devlms.models import DevAccessToken, DevGrade, DevLineItem, DevScoreLog, DevTool, DevUser
from app.devlms.platform import line_item_url, line_items_url
from app.lti import LtiRuntime
from app.lti.ags import AgsClient, ScoreSend
from app.lti.models import Registration
from app.lti.state import StateStore
from app.lti.tokens import TokenCache
from tests.support.live import LiveServers
from tests.support.serving import serving


@dataclass(frozen=True)
class DemoGradebook:
    """The demo course's column and people, with the URLs its launches give the tool."""

    registration_id: int
    line_item_id: int
    line_item_url: str
    lineitems_url: str
    subs: dict[str, str]
    """LTI ``sub`` by email."""


def demo_gradebook(live: LiveServers) -> DemoGradebook:
    with get_db(live.devlms).begin() as session:
        item = session.scalars(select(DevLineItem)).one()
        tool = session.scalars(select(DevTool)).one()
        subs = {u.email: u.sub for u in session.scalars(select(DevUser))}
        registration_id = session.scalars(select(Registration.id)).one()
        return DemoGradebook(
            registration_id=registration_id,
            line_item_id=item.id,
            line_item_url=line_item_url(live.devlms_url, item.course_id, item.id, tool),
            lineitems_url=line_items_url(live.devlms_url, item.course_id, tool),
            subs=subs,
        )


def lti_runtime(live: LiveServers) -> LtiRuntime:
    rt: LtiRuntime = live.tool.extensions["lti"]
    return rt


def token_cache(
    live: LiveServers,
    store: StateStore | None = None,
    *,
    clock: Callable[[], float] | None = None,
    timeout: float = 10,
) -> TokenCache:
    """A token cache as one tool process builds it (``store``: the tool's own by default)."""
    rt = lti_runtime(live)
    extra = {"clock": clock} if clock is not None else {}
    return TokenCache(get_db(live.tool), rt.cipher, store or rt.store, rt.http, timeout, **extra)


def ags_client(live: LiveServers, tokens: TokenCache, timeout: float = 10) -> AgsClient:
    return AgsClient(tokens, lti_runtime(live).http, timeout)


def score(
    sub: str,
    given: float | None = 80,
    *,
    at: datetime | None = None,
    comment: str | None = "Well evidenced.",
) -> ScoreSend:
    """A decision's score (Completed, FullyGraded) for ``sub``."""
    return ScoreSend(
        user_id=sub,
        timestamp=at or utcnow(),
        activity_progress="Completed",
        grading_progress="FullyGraded",
        score_given=given,
        score_maximum=100 if given is not None else None,
        comment=comment,
    )


def seconds_ago(seconds: float) -> datetime:
    return utcnow() - timedelta(seconds=seconds)


def grade(live: LiveServers, line_item_id: int, sub: str) -> DevGrade | None:
    """The LMS's gradebook cell for ``sub`` in the column."""
    with get_db(live.devlms).begin() as session:
        return session.scalars(
            select(DevGrade)
            .join(DevUser, DevUser.id == DevGrade.user_id)
            .where(DevGrade.line_item_id == line_item_id, DevUser.sub == sub)
        ).first()


def score_log(live: LiveServers, line_item_id: int) -> list[dict[str, Any]]:
    """Every score body the LMS accepted for the column, in order."""
    with get_db(live.devlms).begin() as session:
        return [
            row.body
            for row in session.scalars(
                select(DevScoreLog)
                .where(DevScoreLog.line_item_id == line_item_id)
                .order_by(DevScoreLog.id)
            )
        ]


def issued_tokens(live: LiveServers, scope: str | None = None) -> int:
    """Access tokens the LMS's token endpoint issued (for ``scope`` alone, when given)."""
    with get_db(live.devlms).begin() as session:
        rows = session.scalars(select(DevAccessToken)).all()
        return sum(1 for row in rows if scope is None or row.scopes == [scope])


def revoke_tokens(live: LiveServers) -> None:
    """Forget every access token the LMS issued, as an LMS admin revoking them would."""
    with get_db(live.devlms).begin() as session:
        session.execute(delete(DevAccessToken))


def in_threads(count: int, action: Callable[[], Any]) -> list[Any]:
    """Run ``action`` in ``count`` threads released together; return results or exceptions."""
    return run_together([action] * count)


def run_together(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run each action in its own thread, all released together; return results or
    exceptions."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = []
    lock = threading.Lock()

    def run(action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            outcome = action()
        except Exception as exc:
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


# --- a small LMS stand-in for answers the development LMS does not give ----------


@dataclass(frozen=True)
class Canned:
    """One HTTP answer: status, reason phrase, headers, body."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    reason: str | None = None
    delay: float = 0.0


@dataclass
class CannedServer:
    """A real HTTP server on loopback answering each path with a canned answer, recording
    what it received (method, path, headers, body)."""

    url: str
    answers: dict[str, Canned]
    received: list[tuple[str, str, dict[str, str], bytes]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a worker's threads connect at once (the default backlog is 5)


@contextmanager
def canned_server(answers: dict[str, Canned]) -> Iterator[CannedServer]:
    """Serve ``answers`` (by path with its query, else by path alone) until the block ends."""
    received: list[tuple[str, str, dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            received.append((self.command, self.path, dict(self.headers.items()), body))
            canned = answers.get(self.path) or answers.get(self.path.split("?")[0])
            if canned is None:
                canned = Canned(404, b'{"error": "not_found"}')
            if canned.delay:
                threading.Event().wait(canned.delay)
            self.send_response(canned.status, canned.reason)
            for name, value in canned.headers:
                self.send_header(name, value.replace("{base}", served.url))
            self.send_header("Content-Length", str(len(canned.body)))
            self.end_headers()
            self.wfile.write(canned.body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    served = CannedServer(f"http://127.0.0.1:{server.server_port}", answers, received)
    with serving(server):
        yield served

"""Faults on the running cluster, with nothing lost (issue 29 part 4).

Each scenario drives the scaled shape over HTTP as browsers and the pages' scripts do
(``clients.py``) while a part of it is killed outright (SIGKILL, by the PID the cluster recorded,
``scripts/cluster.py kill``) or restarted, then checks what people saw and what was kept. They
run in sequence on the session's one cluster; each leaves every part running and both instances
in HAProxy (the ``parts`` fixture). Waits poll a condition with a deadline.

What ``tests/integration/test_redis_restart.py``, ``tests/grading/test_worker_faults.py`` and
``tests/integration/test_two_instances.py`` show in one process is not repeated: here the
processes are the real ones, behind the real HAProxy.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from app.badges.models import Award
from app.db import get_db
from app.evidence.models import Answer, EvidenceFile
from app.grading.models import ScoreDelivery
from app.outbox.models import OutboxEvent
from tests.badges.support import add_educator, decide_attempt
from tests.cluster.clients import (
    RELAUNCH,
    Journal,
    Launcher,
    Reader,
    Typist,
    Uploader,
    browser_session,
)
from tests.cluster.conftest import LEASE_SECONDS, RunningCluster
from tests.evidence.support import HINGE, LEARNER, add_activity, attempt_id, launch, start
from tests.grading.gradebook_support import (
    DECIDED,
    add_cells,
    add_learners,
    deliveries,
    lms_cells,
    set_body,
    set_faults,
)
from tests.support.forge import Forge

pytestmark = pytest.mark.cluster

DEADLINE = 60.0
"""Seconds any awaited condition gets (each is met in a few on an idle machine)."""
NOT_YET = {**DECIDED, "scoreGiven": 0.0, "comment": "Not yet: 3 of 5 criteria met."}
LEARNERS = ["priya.natarajan@example.edu", "samuel.okafor@example.edu"]
INSTRUCTOR = "maria.alvarez@example.edu"


def until(what: str, condition: Callable[[], Any], deadline: float = DEADLINE) -> Any:
    """Poll ``condition`` until it gives something true; fail naming ``what`` after
    ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = condition()
        if found:
            return found
        time.sleep(0.05)  # between polls of the condition
    raise AssertionError(f"waited {deadline:.0f} s for {what}")


def statuses(parts: Any, server: str) -> set[str]:
    """HAProxy's status of instance ``server`` in each backend (UP, DOWN, …)."""
    return {row["status"] for (_, name), row in parts.servers().items() if name == server}


@pytest.fixture
def parts(cluster: RunningCluster) -> Iterator[Any]:
    """The cluster's parts; after the test every one runs again and HAProxy sends both
    instances traffic (the next scenario starts from a whole cluster)."""
    yield cluster.parts
    for name in set(cluster.parts.processes()) - set(cluster.parts.running()):
        cluster.parts.restart(name)
    for server in ("app1", "app2"):
        until(f"{server} back in HAProxy", lambda s=server: statuses(cluster.parts, s) == {"UP"})
    set_faults(cluster.live)


def _workspace(cluster: RunningCluster, email: str, *, resend: bool = True) -> tuple[Any, int, str]:
    """``email`` launched into a new hinge-question activity, their attempt started (or the
    one they have); its id and the workspace page. With ``resend``, their browser resends a
    request whose reused connection closed unanswered."""
    educator = launch(cluster.live, email, add_activity(cluster.live, HINGE))
    if resend:
        browser_session(educator.user.http, cluster.live.tool_url)
    page = start(educator, HINGE).text
    return educator, attempt_id(page), page


def _answer_text(cluster: RunningCluster, attempt: int, part: str) -> str | None:
    with get_db(cluster.live.tool).begin() as session:
        return session.scalars(
            select(Answer.text).where(Answer.attempt_id == attempt, Answer.part_key == part)
        ).first()


def _stop(stop: threading.Event, clients: list[Any]) -> None:
    stop.set()
    for client in clients:
        client.join(120)
        assert not client.is_alive(), f"{client.name} did not stop"
        assert not client.errors, f"{client.name}: {client.errors!r}"


def _server_with_port(parts: Any, port: int) -> str | None:
    """The instance HAProxy sent the request on the client's connection from ``port`` to."""
    found = re.search(rf"src=127\.0\.0\.1:{port} .*? srv=(app\d)\b", parts.haproxy("show sess"))
    return found.group(1) if found else None


def _said(html: str) -> str:
    """The words of a page, without its markup (for a failure's message)."""
    body = html.split("<main", 1)[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()


def _launch_failures_say_what_to_do(journal: Journal, client: str) -> None:
    """A launch that failed said what to do, and the person's next launch worked."""
    outcomes = journal.of(client)
    for n, outcome in enumerate(outcomes):
        if outcome.status == 200:
            continue
        assert outcome.status != 0, f"a launch got no answer: {outcome}"
        assert outcome.status < 500 or outcome.status in {502, 503, 504}, outcome
        assert RELAUNCH in outcome.text.lower(), (outcome.status, _said(outcome.text))
        assert n + 1 < len(outcomes) and outcomes[n + 1].status == 200, outcomes[n : n + 2]


# --- an instance ---------------------------------------------------------------------------


def test_an_instance_killed_under_launches_autosaves_and_an_upload_loses_nothing(
    cluster: RunningCluster, parts: Any
):
    """SIGKILL of the instance that has an upload's chunk in flight, while people launch and
    autosave: HAProxy takes it out; the page's scripts carry on through the other (the chunk
    is sent again from what the tool has); a launch whose request died says to open the
    activity again, and that works. No draft word, no uploaded byte, no session is lost."""
    typing, attempt, page = _workspace(cluster, LEARNER)
    journal, stop = Journal(), threading.Event()
    typist = Typist(typing, attempt, "overview", journal, stop, page=page)
    uploader = Uploader(typing, attempt, "lesson-plan", journal, stop)
    launchers = [
        Launcher(cluster.live, [email], journal, stop, name=f"launcher-{n}")
        for n, email in enumerate([*LEARNERS, INSTRUCTOR])
    ]
    clients = [typist, uploader, *launchers]
    for client in clients:
        client.start()
    try:
        until("launches and autosaves", lambda: all(c.pages for c in launchers) and typist.saves)
        victim = until(
            "a chunk in flight through HAProxy",
            lambda: uploader.chunk_port and _server_with_port(parts, uploader.chunk_port),
        )
        sessions_before = [page for launcher in launchers for page in launcher.pages]
        chunks_before, words_before = uploader.chunks_sent, typist.words
        cut = uploader.uploads[-1]  # its chunk is on the victim
        killed_at = time.monotonic()
        parts.kill(f"instance-{victim[-1]}")
        until(f"HAProxy to take {victim} out", lambda: statuses(parts, victim) == {"DOWN"})
        until(
            "every client to carry on through the other instance",
            lambda: (
                cut.complete
                and uploader.chunks_sent > chunks_before
                and typist.words > words_before + 5
                and all(len(c.journal.of(c.name, since=killed_at)) >= 2 for c in launchers)
            ),
        )
        parts.restart(f"instance-{victim[-1]}")
        until(f"HAProxy to send {victim} traffic", lambda: statuses(parts, victim) == {"UP"})
    finally:
        _stop(stop, clients)
    typist.flush(time.monotonic() + DEADLINE)

    assert _answer_text(cluster, attempt, "overview") == typist.text  # every word
    assert journal.failed(since=killed_at), "the kill failed no request: it hit nothing"
    for launcher in launchers:
        _launch_failures_say_what_to_do(journal, launcher.name)
    for page in sessions_before:  # sessions opened before the kill
        assert requests.get(page, timeout=30).status_code == 200, page
    with get_db(cluster.live.tool).begin() as session:
        stored = {
            row.id: row
            for row in session.scalars(
                select(EvidenceFile).where(EvidenceFile.attempt_id == attempt)
            )
        }
    for upload in uploader.done:  # every byte, of the upload cut by the kill too
        row = stored[upload.file_id]
        assert (row.state, row.size, row.sha256) == ("complete", len(upload.content), upload.sha256)
    downloaded = typing.user.http.get(
        f"{cluster.live.tool_url}/evidence/files/{cut.file_id}/download",
        params={"lt": typing.token},
        timeout=60,
    )
    assert downloaded.content == cut.content


# --- a worker ------------------------------------------------------------------------------


def test_a_worker_killed_while_sending_scores_loses_none_and_issues_each_badge_once(
    cluster: RunningCluster, parts: Any
):
    """SIGKILL of a worker with a batch of scores in flight (the LMS answers in 200 ms) and
    badges to issue: the other worker, and the killed one once started again, send every score
    once the dead worker's leases run out (``LEASE_SECONDS``); decisions changed meanwhile
    reach the LMS last, none older over newer; every earned badge is issued exactly once."""
    live = cluster.live
    add_learners(live, 12)
    set_faults(live, latency_ms=200)
    ids = add_cells(live, columns=6)
    earned = []
    for n in range(12):
        _registration, user_id = add_educator(live.tool, sub=f"badge-earner-{n}-{time.time_ns()}")
        earned.append(decide_attempt(live.tool, user_id))

    lms_port = cluster.ports.devlms
    until(
        "worker-1 sending scores, some delivered",
        lambda: (
            _connections(parts.processes()["worker-1"], lms_port)
            and 5 <= _delivered(live, ids) < len(ids)
        ),
    )
    parts.kill("worker-1")
    newer = ids[::2]  # the educator's decision changes for half of the cells…
    set_body(live, NOT_YET, newer)
    set_body(live, DECIDED, [i for i in ids if i not in newer])
    set_faults(live)
    parts.restart("worker-1")  # …and the supervisor starts the worker again
    until(
        "every score delivered",
        lambda: _delivered(live, ids) == len(ids),
        deadline=DEADLINE + LEASE_SECONDS,
    )

    cells = lms_cells(live)
    for delivery_id, lms_cell in _lms_cells_of(live, ids).items():
        body = NOT_YET if delivery_id in newer else DECIDED
        grade, posts = cells[lms_cell]
        assert (grade.score_given, posts[-1]["comment"]) == (body["scoreGiven"], body["comment"])
        first = next(i for i, post in enumerate(posts) if post.get("comment") == body["comment"])
        assert all(post.get("comment") == body["comment"] for post in posts[first:]), posts

    until("every badge issued", lambda: _unissued(live, earned) == 0)
    with get_db(live.tool).begin() as session:
        awards = session.execute(
            select(Award.attempt_id, func.count())
            .where(Award.attempt_id.in_(earned))
            .group_by(Award.attempt_id)
            .execution_options(all_platforms=True)
        ).all()
    assert sorted(awards) == sorted((attempt, 1) for attempt in earned)


def _delivered(live: Any, ids: list[int]) -> int:
    """How many of these scores the LMS has taken."""
    return sum(r.status == ScoreDelivery.DELIVERED for r in deliveries(live) if r.id in set(ids))


def _connections(pid: int, port: int) -> int:
    """How many TCP connections process ``pid`` has open to ``port`` on loopback (its sockets
    in /proc/<pid>/fd, found in /proc/net/tcp): a worker sending scores to the LMS has some."""
    from pathlib import Path

    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            sockets.add(target[8:-1])
    established = "01"
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port and fields[3] == established and fields[9] in sockets:
            count += 1
    return count


def _unissued(live: Any, attempts: list[int]) -> int:
    """How many decisions of ``attempts`` the badge issuing has not processed."""
    with get_db(live.tool).begin() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.attempt_id.in_(attempts), OutboxEvent.processed_at.is_(None))
                .execution_options(all_platforms=True)
            )
            or 0
        )


def _lms_cells_of(live: Any, ids: list[int]) -> dict[int, tuple[int, int]]:
    """The development LMS's gradebook cell (column, user) of each of these deliveries."""
    from app.devlms.models import DevUser
    from app.lti.models import LineItem, LtiUser

    with get_db(live.tool).begin() as session:
        rows = session.execute(
            select(ScoreDelivery.id, LineItem.url, LtiUser.sub)
            .join(LineItem, LineItem.id == ScoreDelivery.line_item_id)
            .join(LtiUser, LtiUser.id == ScoreDelivery.user_id)
            .where(ScoreDelivery.id.in_(ids))
        ).all()
    with get_db(live.devlms).begin() as session:
        users = dict(session.execute(select(DevUser.sub, DevUser.id)).all())
    return {
        delivery: (int(url.split("/lineitems/")[1].split("/")[0]), users[sub])
        for delivery, url, sub in rows
    }


# --- PostgreSQL ----------------------------------------------------------------------------


def test_postgresql_killed_and_started_again_answers_503_then_recovers_with_nothing_lost(
    cluster: RunningCluster, parts: Any
):
    """SIGKILL of PostgreSQL (the postmaster and every backend) under autosaves and page loads,
    with scores being sent: while it is away each request answers 503 "try again in a moment"
    (never a 500); once it is back the instances' pools and the workers recover, and every
    saved word and every score is there, those decided before and after."""
    live = cluster.live
    typing, attempt, page = _workspace(cluster, LEARNER)
    reading = launch(live, INSTRUCTOR, add_activity(live, HINGE))
    browser_session(reading.user.http, live.tool_url)
    set_faults(live, latency_ms=300)
    ids = add_cells(live, columns=6)
    journal, stop = Journal(), threading.Event()
    typist = Typist(typing, attempt, "overview", journal, stop, page=page)
    reader = Reader(reading.user.http, reading.page.url, journal, stop)
    for client in (typist, reader):
        client.start()
    try:
        until(
            "autosaves, and scores being sent",
            lambda: typist.saves >= 3 and 0 < _delivered(live, ids) < len(ids),
        )
        killed_at = time.monotonic()
        parts.kill("postgres")
        until("a request while it is away", lambda: journal.failed(since=killed_at))
        parts.restart("postgres")
        back_at = time.monotonic()
        until(
            "autosaves and pages again",
            lambda: all(
                [o.status for o in journal.of(c, since=back_at)][-5:] == [200] * 5
                for c in ("typist", "reader")
            ),
        )
    finally:
        _stop(stop, [typist, reader])
    for app in (live.tool, live.devlms):  # the test's own connections died with the server
        app.extensions["db"].engine.dispose()
    typist.flush(time.monotonic() + DEADLINE)

    failed = journal.failed(since=killed_at)
    assert failed
    for outcome in failed:
        assert outcome.status == 503, outcome
        assert "Try again in a moment" in outcome.text, outcome
    assert _answer_text(cluster, attempt, "overview") == typist.text
    set_faults(live)
    ids += add_cells(live, columns=2)  # decided once it is back
    until(
        "the workers to send every score",
        lambda: _delivered(live, ids) == len(ids),
        deadline=DEADLINE + LEASE_SECONDS,
    )


# --- Redis ---------------------------------------------------------------------------------


def test_redis_killed_and_started_again_fails_launches_in_flight_with_a_4xx_only(
    cluster: RunningCluster, parts: Any
):
    """SIGKILL of Redis, started again empty: launches in flight (their login state was in
    Redis) fail with a 4xx that says to open the activity again; the launches after it work on
    both instances; a session opened before it goes on."""
    live = cluster.live
    opened = launch(live, LEARNER, add_activity(live, HINGE))
    pending = [Forge(live, email).start() for email in [*LEARNERS, INSTRUCTOR]]
    parts.restart("redis")  # killed, then started again: empty
    for launch_in_flight in pending:
        page = launch_in_flight.post()
        assert 400 <= page.status_code < 500, page.text[:500]
        assert RELAUNCH in page.text.lower(), _said(page.text)
    journal, stop = Journal(), threading.Event()
    later = Launcher(live, [*LEARNERS, INSTRUCTOR], journal, stop)
    for email in [*LEARNERS, INSTRUCTOR, LEARNER]:  # round robin: both instances, twice
        assert later.launch(email) == 200, journal.of("launcher")[-1]
    assert opened.get("/home").status_code == 200


# --- a rolling restart ---------------------------------------------------------------------


def test_a_rolling_restart_under_load_fails_no_request(cluster: RunningCluster, parts: Any):
    """``scripts/cluster.py roll`` while people launch, autosave, upload and read: each
    instance in turn is drained in HAProxy, stopped once nothing is in flight on it, started
    again and put back once ready. Not one request fails, and nothing needs a retry."""
    live = cluster.live
    typing, attempt, page = _workspace(cluster, LEARNER, resend=False)
    reading = launch(live, INSTRUCTOR, add_activity(live, HINGE))
    journal, stop = Journal(), threading.Event()
    clients = [
        Typist(typing, attempt, "overview", journal, stop, page=page),
        Uploader(typing, attempt, "lesson-plan", journal, stop, size=300_000),
        Reader(reading.user.http, reading.page.url, journal, stop),
        *(
            Launcher(live, [email], journal, stop, name=f"launcher-{n}", resend=False)
            for n, email in enumerate(LEARNERS)
        ),
    ]
    for client in clients:
        client.start()
    try:
        until("load on the cluster", lambda: all(journal.of(c.name) for c in clients))
        pids = {name: pid for name, pid in parts.processes().items() if "instance" in name}
        rolling_at = time.monotonic()
        parts.roll(say=print)
        rolled_at = time.monotonic()
        assert all(parts.processes()[name] != pid for name, pid in pids.items())
    finally:
        _stop(stop, clients)
    assert journal.failed() == []
    for client in clients:  # each kept at it while the instances were restarted
        assert [o for o in journal.of(client.name, since=rolling_at) if o.at < rolled_at]

"""The score worker when the LMS is slow, throttles, fails, or the worker itself dies:
nothing lost, nothing sent twice as the last word, nothing stale overwriting a newer score."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.db import get_db
from app.grading import worker
from app.grading.models import ScoreDelivery
from app.lti import runtime
from tests.grading.gradebook_support import (
    DECIDED,
    add_cells,
    deliveries,
    lms_cells,
    run_worker,
    set_available_now,
    set_body,
    set_faults,
    tokens_issued,
)

ROOT = Path(__file__).resolve().parents[2]
NOT_YET = {**DECIDED, "scoreGiven": 0.0, "comment": "Not yet: 3 of 5 criteria met."}


def _final(cells, body) -> None:
    """Every cell shows ``body``'s grade, and its last accepted score is ``body``, once."""
    assert cells
    for grade, posts in cells.values():
        assert grade.grading_progress == body["gradingProgress"]
        assert grade.score_given == body["scoreGiven"]
        assert posts[-1]["comment"] == body["comment"]
        assert sum(1 for p in posts if p.get("comment") == body["comment"]) == 1


def test_under_30_percent_failures_every_final_score_arrives_once_as_the_last_word(live):
    ids = add_cells(live, columns=6)
    set_faults(
        live,
        unauthorized_rate=0.1,
        throttle_rate=0.1,
        retry_after_seconds=0,
        server_error_rate=0.1,
        latency_ms=20,
    )
    with live.tool.app_context():
        client = runtime().ags()
    busy = worker.Worker(
        get_db(live.tool),
        client,
        worker.Settings(threads=4, retry_base_seconds=0.02, idle_seconds=0.02, max_tries=40),
    )
    thread = threading.Thread(target=busy.run, daemon=True)
    thread.start()
    # Decisions arrive while the submissions are still being sent.
    time.sleep(0.3)
    set_body(live, DECIDED)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all(r.status == ScoreDelivery.DELIVERED for r in deliveries(live)):
            break
        time.sleep(0.1)
    busy.stop()
    thread.join(30)
    rows = deliveries(live)
    assert {r.status for r in rows} == {ScoreDelivery.DELIVERED}
    assert busy.counters.retried > 0  # the faults did happen
    cells = lms_cells(live)
    assert len(cells) == len(ids)
    _final(cells, DECIDED)
    for _grade, posts in cells.values():
        graded = [i for i, p in enumerate(posts) if p["gradingProgress"] == "FullyGraded"]
        assert graded == [len(posts) - 1]  # no submission state after the grade


def _token_in_hand(live) -> None:
    """Get the scores' access token before the faults start (the LMS throttles its token
    endpoint too, and a throttled token request is retried without a score status)."""
    from app.lti import ags

    [row, *_] = deliveries(live)
    with live.tool.app_context():
        runtime().tokens().token(row.registration_id, ags.SCORE_SCOPES)


def test_a_score_that_keeps_failing_is_marked_failed_with_the_reason(live):
    add_cells(live, columns=1)
    _token_in_hand(live)
    set_faults(live, server_error_rate=1.0)
    run_worker(live, max_tries=1)
    for row in deliveries(live):
        assert row.status == ScoreDelivery.FAILED
        assert row.last_status in {500, 502, 503}
        assert "gave up after 1 tries" in row.last_error


def test_a_throttled_score_is_never_given_up(live):
    """A 429 asks the tool to slow down: however often it comes, the score stays due."""
    add_cells(live, columns=1)
    _token_in_hand(live)
    set_faults(live, throttle_rate=1.0, retry_after_seconds=0)
    with live.tool.app_context():
        client = runtime().ags()
    one = worker.Worker(get_db(live.tool), client, worker.Settings(threads=2, max_tries=1))
    for _ in range(3):
        one.record([one._send(job) for job in one.claim(10)])
        for row in deliveries(live):
            set_available_now(live, row.id)
    for row in deliveries(live):
        assert row.status == ScoreDelivery.PENDING
        assert (row.tries, row.last_status) == (0, 429)
        assert "asked the tool to slow down" in row.last_error


def test_a_throttled_score_waits_at_least_the_retry_after(live):
    add_cells(live, columns=1)
    _token_in_hand(live)
    set_faults(live, throttle_rate=1.0, retry_after_seconds=30)
    with live.tool.app_context():
        client = runtime().ags()
    one = worker.Worker(get_db(live.tool), client, worker.Settings(threads=2))
    jobs = one.claim(10)
    one.record([one._send(job) for job in jobs])
    for row in deliveries(live):
        assert row.status == ScoreDelivery.PENDING
        assert (row.available_at - row.last_timestamp).total_seconds() >= 29


def test_a_worker_killed_mid_batch_loses_nothing_and_nothing_stale_wins(live):
    ids = add_cells(live, columns=8)
    set_faults(live, latency_ms=300)
    settings = live.tool.config["MICROCRED_SETTINGS"]
    env = {
        **os.environ,
        "MICROCRED_DATABASE_URL": settings.database_url,
        "MICROCRED_SECRET_KEY": settings.secret_key,
        "MICROCRED_INSTANCE_PATH": str(settings.instance_path),
        "MICROCRED_BASE_URL": settings.base_url,
        "MICROCRED_DEVLMS_URL": settings.devlms_url,
        "MICROCRED_STATE_STORE": settings.state_store,
        "MICROCRED_WORKER_LEASE_SECONDS": "2",
        "MICROCRED_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--threads", "4"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = sum(r.status == ScoreDelivery.DELIVERED for r in deliveries(live))
            if done >= 4:
                break
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(30)
    rows = deliveries(live)
    delivered = [r for r in rows if r.status == ScoreDelivery.DELIVERED]
    leased = [r for r in rows if r.lease_token is not None]
    assert 4 <= len(delivered) < len(ids)
    assert leased  # it died with sends in flight
    # Newer decisions for half of the cells, some of them in flight when it died.
    newer = [r.id for r in rows][::2]
    set_body(live, NOT_YET, newer)
    set_body(live, DECIDED, [i for i in ids if i not in newer])
    set_faults(live)
    time.sleep(2.1)  # the dead worker's leases run out
    run_worker(live)
    rows = deliveries(live)
    assert {r.status for r in rows} == {ScoreDelivery.DELIVERED}
    cells = lms_cells(live)
    assert len(cells) == len(ids)
    by_delivery = {r.id: r for r in rows}
    expected_not_yet = {(by_delivery[i].line_item_id, by_delivery[i].user_id) for i in newer}
    tool_to_lms = _cell_keys(live)
    for key, (grade, posts) in cells.items():
        body = NOT_YET if tool_to_lms[key] in expected_not_yet else DECIDED
        assert grade.score_given == body["scoreGiven"]
        assert posts[-1]["comment"] == body["comment"]


def _cell_keys(live):
    """The tool's (line item, user) of each development LMS cell, by URL and sub."""
    from sqlalchemy import select

    from app.devlms.models import DevGrade, DevUser
    from app.lti.models import LineItem, LtiUser

    with get_db(live.tool).begin() as session:
        items = {
            url.split("/lineitems/")[1].split("/")[0]: i
            for i, url in session.execute(select(LineItem.id, LineItem.url))
        }
        users = dict(session.execute(select(LtiUser.sub, LtiUser.id)).all())
    with get_db(live.devlms).begin() as session:
        rows = session.execute(
            select(DevGrade.line_item_id, DevGrade.user_id, DevUser.sub).join(
                DevUser, DevUser.id == DevGrade.user_id
            )
        ).all()
    return {(item, user): (items[str(item)], users[sub]) for item, user, sub in rows}


def test_one_token_per_token_lifetime_under_faults(live):
    add_cells(live, columns=4)
    set_faults(live, server_error_rate=0.3, retry_after_seconds=0)
    before = tokens_issued(live)
    run_worker(live, threads=8, max_tries=40, retry_base_seconds=0.02)
    assert tokens_issued(live) - before == 1

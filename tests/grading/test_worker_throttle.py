"""The score worker against Canvas's request throttling (canvas-as-it-is.md, "Throttling"):
Canvas refuses a client that has too many requests in flight with 403 "403 Forbidden (Rate
Limit Exceeded)" and no Retry-After, and says on every answer how much of its quota remains
(``X-Rate-Limit-Remaining``). The worker must keep its sends in flight within that, take a 403
of the rate limit as "slow down", never as a refusal, and lose no score."""

from __future__ import annotations

import threading
import time

from app.db import get_db
from app.devlms import throttle
from app.grading import worker
from app.grading.models import ScoreDelivery
from app.lti import runtime
from tests.grading.gradebook_support import (
    add_cells,
    add_learners,
    deliveries,
    lms_cells,
    run_worker,
    set_available_now,
    set_family,
    set_faults,
)
from tests.support.lms import set_flavour
from tests.support.tokens import demo_tool


def canvas(live) -> None:
    """The development LMS behaves like Canvas towards the demo tool, and the tool knows it."""
    set_flavour(live, "canvas")
    set_family(live, "canvas")


def bucket(live) -> throttle.ClientStats:
    buckets: throttle.RequestThrottle = live.devlms.extensions["devlms_throttle"]
    return buckets.stats(demo_tool(live).client_id)


def test_a_thousand_scores_to_a_throttling_canvas_all_arrive_within_its_limit(live):
    canvas(live)
    add_learners(live, 97)
    ids = add_cells(live, columns=10)  # 100 learners x 10 columns
    set_faults(live, latency_ms=20)
    counters = run_worker(live, threads=16)
    rows = deliveries(live)
    assert len(rows) == len(ids) == 1000
    assert (counters.delivered, counters.failed) == (1000, 0)
    assert {r.status for r in rows} == {ScoreDelivery.DELIVERED}
    assert len(lms_cells(live)) == 1000
    found = bucket(live)
    assert found.peak_in_flight <= throttle.CANVAS.most_in_flight


def test_an_lms_that_allows_fewer_in_flight_slows_the_worker_and_loses_nothing(live):
    canvas(live)
    add_learners(live, 97)
    ids = add_cells(live, columns=3)
    # Two requests in flight at once, where the Canvas window starts at four.
    set_faults(live, latency_ms=20, canvas_hwm=150)
    counters = run_worker(live, threads=16)
    assert (counters.delivered, counters.failed) == (len(ids), 0)
    assert {r.status for r in deliveries(live)} == {ScoreDelivery.DELIVERED}
    found = bucket(live)
    # The worker slows down on a refusal or, before any, on X-Rate-Limit-Remaining falling
    # below two requests' cost: whether the LMS refused one at all depends on how the first
    # sends happen to overlap. A worker that kept its window of four would meet refusals round
    # after round; this one has few.
    assert found.throttled < len(ids) // 10
    assert found.served == len(ids)


def test_a_score_canvas_keeps_throttling_stays_due_and_arrives_later(live):
    canvas(live)
    add_cells(live, columns=1)
    set_faults(live, canvas_hwm=1)  # every service request refused
    with live.tool.app_context():
        client = runtime().ags()
    one = worker.Worker(get_db(live.tool), client, worker.Settings(threads=2, max_tries=1))
    for _ in range(3):
        one.record([one._send(job) for job in one.claim(10)])
        for row in deliveries(live):
            set_available_now(live, row.id)
    rows = deliveries(live)
    for row in rows:
        assert row.status == ScoreDelivery.PENDING
        assert (row.tries, row.last_status) == (0, 403)
        assert "403 Forbidden (Rate Limit Exceeded)" in row.last_error
    assert one.counters.failed == 0
    set_faults(live)  # Canvas's own limit again
    counters = run_worker(live)
    assert (counters.delivered, counters.failed) == (len(rows), 0)


def test_a_stopped_worker_gives_back_the_scores_still_waiting_for_room(live):
    canvas(live)
    add_learners(live, 17)
    add_cells(live, columns=3)  # 60 scores: more than the Canvas window sends at once
    set_faults(live, latency_ms=200)
    with live.tool.app_context():
        client = runtime().ags()
    busy = worker.Worker(get_db(live.tool), client, worker.Settings(threads=16))
    thread = threading.Thread(target=busy.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while busy.counters.delivered == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    busy.stop()
    thread.join(30)
    rows = deliveries(live)
    assert any(r.status == ScoreDelivery.PENDING for r in rows)
    assert [r.id for r in rows if r.lease_token is not None] == []  # due again at once


def test_a_platform_with_a_full_queue_is_left_out_of_the_next_claims(live):
    add_cells(live, columns=1)
    [row, *_] = deliveries(live)
    with live.tool.app_context():
        client = runtime().ags()
    one = worker.Worker(get_db(live.tool), client)
    assert one.claim(10, skip=[row.registration_id]) == []
    assert len(one.claim(10, skip=[row.registration_id + 1])) == 3

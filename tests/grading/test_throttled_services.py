"""Canvas's throttling met outside score sends (canvas-as-it-is.md, "Throttling"): a token
request, the roster (NRPS) and reconciliation's results reads take Canvas's 403 "Rate Limit
Exceeded" as "slow down", never as a refusal or a failed try."""

from __future__ import annotations

from html import unescape

from app.db import get_db
from app.grading import worker
from app.grading.models import ScoreDelivery
from app.grading.reconcile import reconcile
from app.lti import runtime
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, OTHER_LEARNER, launch
from tests.grading.gradebook_support import (
    add_cells,
    add_graded_activity,
    deliveries,
    run_worker,
    set_available_now,
    set_family,
    set_faults,
)
from tests.grading.support import decide, judgement, submitted
from tests.support.lms import set_flavour

EVERY_SERVICE_REQUEST_REFUSED = {"canvas_hwm": 1}
"""Canvas's bucket so small that every AGS or NRPS request is throttled (tokens are not)."""


def canvas(live) -> None:
    set_flavour(live, "canvas")
    set_family(live, "canvas")


def test_a_throttled_token_request_is_not_a_try(live):
    canvas(live)
    add_cells(live, columns=1)
    set_faults(live, throttle_rate=1)  # the token endpoint too, as a throttled Canvas answers
    with live.tool.app_context():
        client = runtime().ags()
    one = worker.Worker(get_db(live.tool), client, worker.Settings(threads=2, max_tries=1))
    for _ in range(2):
        one.record([one._send(job) for job in one.claim(10)])
        for row in deliveries(live):
            set_available_now(live, row.id)
    rows = deliveries(live)
    assert rows and one.counters.failed == 0
    for row in rows:
        assert (row.status, row.tries) == (ScoreDelivery.PENDING, 0)
        assert "slow down" in row.last_error and "access token" in row.last_error
    set_faults(live)
    counters = run_worker(live)
    assert (counters.delivered, counters.failed) == (len(rows), 0)


def _decided_in_canvas(live) -> None:
    canvas(live)
    graded = add_graded_activity(live, HINGE, points=10)
    attempt = submitted(launch(live, LEARNER, graded))
    decide(launch(live, INSTRUCTOR, graded), attempt, judgement())
    run_worker(live)
    assert [r.status for r in deliveries(live)] == [ScoreDelivery.DELIVERED]


def test_reconcile_waits_while_canvas_throttles_then_reads_the_results(live, activity):
    _decided_in_canvas(live)
    set_faults(live, **EVERY_SERVICE_REQUEST_REFUSED)
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        set_faults(live)  # Canvas has room again

    with live.tool.app_context(), get_db(live.tool).session_factory() as session:
        report = reconcile(session, runtime().ags(), sleep=sleep)
    assert len(waited) == 1 and waited[0] > 0
    assert (report.checked, report.agreeing, report.unreadable) == (1, 1, [])


def test_reconcile_says_canvas_kept_asking_to_slow_down(live, activity):
    _decided_in_canvas(live)
    set_faults(live, **EVERY_SERVICE_REQUEST_REFUSED)
    waited: list[float] = []
    with live.tool.app_context(), get_db(live.tool).session_factory() as session:
        report = reconcile(session, runtime().ags(), sleep=waited.append)
    assert len(waited) >= 2 and waited == sorted(waited)
    [unreadable] = report.unreadable
    assert "slow down" in unreadable and "Rate Limit Exceeded" in unreadable
    assert "again later" in unreadable


def test_a_throttled_roster_says_so_and_offers_to_try_again(live, activity):
    canvas(live)
    submitted(launch(live, OTHER_LEARNER, activity))
    instructor = launch(live, INSTRUCTOR, activity)
    set_faults(live, **EVERY_SERVICE_REQUEST_REFUSED)
    page = instructor.get("/activity/progress")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "asked Microcred to slow down" in text
    assert "refused or failed" not in text
    assert "Try again" in text

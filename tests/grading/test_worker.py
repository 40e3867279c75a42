"""The score worker against the development LMS over HTTP (app/grading/worker.py): the latest
score of each cell reaches the gradebook, in order, once, with the errors an LMS gives."""

from __future__ import annotations

import re
import time
from datetime import datetime

from sqlalchemy import delete, select, update

from app.db import get_db
from app.devlms.models import DevGrade, DevLineItem
from app.grading import worker
from app.grading.models import ScoreDelivery
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, add_activity, launch, second_course
from tests.grading.gradebook_support import (
    add_graded_activity,
    deliveries,
    enrol_as,
    lms_columns,
    lms_grade,
    lms_posts,
    run_worker,
    tokens_issued,
)
from tests.grading.support import decide, judgement, submitted, text_of


def _stamp(body: dict) -> datetime:
    return datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))


def test_submission_then_decision_reach_the_gradebook_in_order(live, activity):
    graded = add_graded_activity(live, HINGE, points=10)
    attempt = submitted(launch(live, LEARNER, graded))
    run_worker(live)
    cell = lms_grade(live, graded, LEARNER)
    assert cell is not None
    assert (cell.activity_progress, cell.grading_progress) == ("Submitted", "PendingManual")
    assert cell.score_given is None
    decide(launch(live, INSTRUCTOR, graded), attempt, judgement(), feedback="Well done.")
    run_worker(live)
    cell = lms_grade(live, graded, LEARNER)
    assert (cell.activity_progress, cell.grading_progress) == ("Completed", "FullyGraded")
    assert (cell.score_given, cell.score_maximum) == (10.0, 10.0)
    assert "Well done." in cell.comment
    posts = lms_posts(live, graded, LEARNER)
    assert [p["gradingProgress"] for p in posts] == ["PendingManual", "FullyGraded"]
    [row] = deliveries(live)
    assert (row.status, row.sent_version, row.last_error) == (ScoreDelivery.DELIVERED, 2, None)


def test_timestamps_increase_by_whole_seconds_per_cell(live, activity):
    graded = add_graded_activity(live, HINGE)
    attempt = submitted(launch(live, LEARNER, graded))
    run_worker(live)
    decide(launch(live, INSTRUCTOR, graded), attempt, judgement())
    run_worker(live)
    first, second = (_stamp(p) for p in lms_posts(live, graded, LEARNER))
    assert int(second.timestamp()) > int(first.timestamp())
    assert lms_posts(live, graded, LEARNER)[0]["timestamp"].endswith("Z")


def test_two_courses_linking_one_credential_both_get_the_score(live, activity):
    here = add_graded_activity(live, HINGE, points=10)
    there = add_graded_activity(live, HINGE, course=second_course(live), points=4)
    launch(live, LEARNER, there)
    attempt = submitted(launch(live, LEARNER, here))
    decide(launch(live, INSTRUCTOR, here), attempt, judgement())
    run_worker(live)
    assert lms_grade(live, here, LEARNER).score_given == 10.0
    assert lms_grade(live, there, LEARNER).score_given == 4.0


def test_one_token_request_serves_every_score_of_a_platform(live, activity):
    graded = add_graded_activity(live, HINGE)
    other = add_graded_activity(live, HINGE, course=second_course(live))
    launch(live, LEARNER, other)
    submitted(launch(live, LEARNER, graded))
    before = tokens_issued(live)
    run_worker(live, threads=8)
    assert len(lms_posts(live, graded, LEARNER)) == len(lms_posts(live, other, LEARNER)) == 1
    assert tokens_issued(live) - before <= 1


def test_a_learner_the_lms_will_not_grade_is_a_failure_with_the_reason(live, activity):
    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    enrol_as(live, LEARNER, "Instructor")
    counters = run_worker(live)
    assert counters.failed == 1
    [row] = deliveries(live)
    assert row.status == ScoreDelivery.FAILED
    assert row.last_status == 400
    assert "not enrolled as a student" in row.last_error
    page = launch(live, INSTRUCTOR, graded).get("/gradebook")
    assert "not enrolled as a student" in text_of(page.text)


def test_a_deleted_column_is_a_failure_that_says_so(live, activity):
    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    with get_db(live.devlms).begin() as session:
        session.execute(delete(DevLineItem))
    run_worker(live)
    [row] = deliveries(live)
    assert (row.status, row.last_status) == (ScoreDelivery.FAILED, 404)
    assert "no longer exists" in row.last_error


def test_a_link_without_a_column_gets_one_made_by_the_tool(live, activity):
    plain = add_activity(live, HINGE)
    submitted(launch(live, LEARNER, plain))
    run_worker(live)
    [column] = lms_columns(live, plain)
    assert column.label == plain
    [row] = deliveries(live)
    assert row.status == ScoreDelivery.DELIVERED
    with get_db(live.devlms).begin() as session:
        [grade] = session.scalars(select(DevGrade).where(DevGrade.line_item_id == column.id))
        assert grade.grading_progress == "PendingManual"


def test_a_newer_version_set_during_a_send_is_sent_next_and_wins(live, activity):
    graded = add_graded_activity(live, HINGE, points=10)
    attempt = submitted(launch(live, LEARNER, graded))
    from app.lti import runtime

    with live.tool.app_context():
        client = runtime().ags()
    one = worker.Worker(get_db(live.tool), client, worker.Settings(threads=1))
    [job] = one.claim(10)
    # The decision lands while the submission's score is on its way.
    decide(launch(live, INSTRUCTOR, graded), attempt, judgement())
    one.record([one._send(job)])
    [row] = deliveries(live)
    assert (row.status, row.sent_version, row.version) == (ScoreDelivery.PENDING, 1, 2)
    run_worker(live)
    cell = lms_grade(live, graded, LEARNER)
    assert cell.grading_progress == "FullyGraded"
    assert [p["gradingProgress"] for p in lms_posts(live, graded, LEARNER)] == [
        "PendingManual",
        "FullyGraded",
    ]


def test_an_outcome_is_recorded_only_by_the_lease_holder(live, activity):
    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    from app.lti import runtime

    with live.tool.app_context():
        client = runtime().ags()
    slow = worker.Worker(get_db(live.tool), client, worker.Settings(threads=1))
    [job] = slow.claim(10)
    # Its lease ran out and another worker took the row over.
    with get_db(live.tool).begin() as session:
        session.execute(update(ScoreDelivery).values(lease_token="someone-else"))
    slow.record([slow._send(job)])
    [row] = deliveries(live)
    assert (row.status, row.lease_token) == (ScoreDelivery.PENDING, "someone-else")


def test_next_timestamp_is_a_whole_second_after_the_previous():
    previous = datetime.fromisoformat("2026-11-23T10:00:00.900+00:00")
    now = datetime.fromisoformat("2026-11-23T10:00:01.100+00:00")
    assert worker.next_timestamp(previous, now) == now
    same = datetime.fromisoformat("2026-11-23T10:00:00.950+00:00")
    assert worker.next_timestamp(previous, same).isoformat() == "2026-11-23T10:00:01+00:00"
    assert worker.next_timestamp(None, now) == now


def test_backoff_doubles_with_jitter_and_honours_retry_after():
    import random

    settings = worker.Settings(retry_base_seconds=2, retry_cap_seconds=60)
    rng = random.Random(7)
    waits = [worker.backoff(t, settings, None, rng) for t in (1, 2, 3, 4, 10)]
    for tries, wait in zip((1, 2, 3, 4, 10), waits, strict=True):
        ceiling = min(60, 2 * 2 ** (tries - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert worker.backoff(1, settings, 30, rng) >= 30


def test_flask_worker_until_idle_sends_and_says_what_it_did(live, activity):
    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    result = live.tool.test_cli_runner().invoke(args=["worker", "--until-idle", "--threads", "2"])
    assert result.exit_code == 0, result.output
    assert "sending scores with 2 threads" in result.output
    assert "Delivered 1, to retry 0, failed 0." in result.output
    assert lms_grade(live, graded, LEARNER) is not None


def test_flask_worker_reports_each_job_and_the_score_sender_last(live, activity):
    """The score sender runs in the command's thread and reports when the worker stops; the
    badge issuing and the building of records exports run after it is idle and report as they
    finish (``app.outbox.cli``)."""
    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    result = live.tool.test_cli_runner().invoke(args=["worker", "--until-idle", "--threads", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    name = lines[0].partition(":")[0]
    assert re.fullmatch(r"worker-[0-9a-f]{6}", name)
    assert lines == [
        f"{name}: sending scores with 2 threads.",
        f"{name}-badges: issued 0 badges.",
        f"{name}-exports: built 0 exports.",
        f"{name}: stopped. Delivered 1, to retry 0, failed 0.",
    ]


def test_canvas_gets_one_submission_then_the_grade_on_it(live, activity):
    from tests.grading.gradebook_support import set_family
    from tests.support.lms import set_flavour

    set_flavour(live, "canvas")
    set_family(live, "canvas")
    graded = add_graded_activity(live, HINGE, points=10)
    attempt = submitted(launch(live, LEARNER, graded))
    run_worker(live)
    decide(launch(live, INSTRUCTOR, graded), attempt, judgement())
    run_worker(live)
    posts = lms_posts(live, graded, LEARNER)
    marks = [p["https://canvas.instructure.com/lti/submission"]["new_submission"] for p in posts]
    assert marks == [True, False]
    cell = lms_grade(live, graded, LEARNER)
    assert (cell.grading_progress, cell.score_given) == ("FullyGraded", 10.0)


def test_the_embedded_worker_runs_only_where_the_settings_ask(live, activity):
    from dataclasses import replace

    from app.outbox.jobs import start_embedded

    settings = live.tool.config["MICROCRED_SETTINGS"]
    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    try:
        live.tool.config["MICROCRED_SETTINGS"] = replace(settings, embedded_worker=False)
        assert start_embedded(live.tool) == []
        live.tool.config["MICROCRED_SETTINGS"] = replace(settings, embedded_worker=True)
        embedded = [loop for _, loop in start_embedded(live.tool)]
    finally:
        live.tool.config["MICROCRED_SETTINGS"] = settings
    assert [loop.name for loop in embedded] == [
        "embedded-worker",
        "embedded-badges",
        "embedded-exports",
    ]
    try:
        assert all(loop.thread is not None for loop in embedded)
        deadline = time.monotonic() + 30
        while lms_grade(live, graded, LEARNER) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lms_grade(live, graded, LEARNER) is not None
    finally:
        for loop in embedded:
            loop.stop()
        for loop in embedded:
            assert loop.thread is not None
            loop.thread.join(10)
    assert not any(loop.thread is not None and loop.thread.is_alive() for loop in embedded)


def test_a_database_failure_while_claiming_is_waited_out(live, activity):
    from sqlalchemy.exc import OperationalError

    from app.lti import runtime

    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))

    class Flaky(worker.Worker):
        failures = 1

        def claim(self, limit, skip=()):
            if self.failures:
                self.failures -= 1
                raise OperationalError("SELECT", {}, Exception("server closed the connection"))
            return super().claim(limit, skip)

    with live.tool.app_context():
        client = runtime().ags()
    flaky = Flaky(get_db(live.tool), client, worker.Settings(threads=2, idle_seconds=0.05))
    flaky.run(until_idle=True)
    assert flaky.failures == 0
    assert lms_grade(live, graded, LEARNER) is not None

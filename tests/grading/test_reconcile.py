"""``flask grades reconcile``: what the LMS's gradebook shows against the latest decisions."""

from __future__ import annotations

from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevGrade
from app.grading.models import ScoreDelivery
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, launch
from tests.grading.gradebook_support import add_graded_activity, deliveries, lms_grade, run_worker
from tests.grading.support import decide, judgement, submitted


def _decided_and_delivered(live) -> str:
    graded = add_graded_activity(live, HINGE, points=10)
    attempt = submitted(launch(live, LEARNER, graded))
    decide(launch(live, INSTRUCTOR, graded), attempt, judgement())
    run_worker(live)
    return graded


def _reconcile(live):
    result = live.tool.test_cli_runner().invoke(args=["grades", "reconcile"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_gradebook_that_agrees_is_left_alone(live, activity):
    _decided_and_delivered(live)
    output = _reconcile(live)
    assert "Checked 1 decided scores in 1 gradebook columns: 1 agree, 0 queued" in output
    [row] = deliveries(live)
    assert row.status == ScoreDelivery.DELIVERED


def test_a_grade_changed_in_the_lms_is_sent_again(live, activity):
    graded = _decided_and_delivered(live)
    with get_db(live.devlms).begin() as session:
        for grade in session.scalars(select(DevGrade)):
            grade.score_given = 2.0
    output = _reconcile(live)
    assert "0 agree, 1 queued to be sent again" in output
    [row] = deliveries(live)
    assert (row.status, row.version) == (ScoreDelivery.PENDING, 3)
    run_worker(live)
    assert lms_grade(live, graded, LEARNER).score_given == 10.0


def test_a_grade_missing_from_the_lms_is_sent_again(live, activity):
    graded = _decided_and_delivered(live)
    with get_db(live.devlms).begin() as session:
        for grade in session.scalars(select(DevGrade)):
            session.delete(grade)
    assert "1 queued to be sent again" in _reconcile(live)
    run_worker(live)
    assert lms_grade(live, graded, LEARNER).score_given == 10.0

"""``flask grades reconcile``: what the LMS's gradebook shows against the latest decisions."""

from __future__ import annotations

from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevGrade
from app.grading.models import ScoreDelivery
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, launch
from tests.grading.gradebook_support import (
    DECIDED,
    add_graded_activity,
    deliveries,
    lms_grade,
    lms_posts,
    override_in_lms,
    remove_override_in_lms,
    run_worker,
    set_body,
    set_family,
)
from tests.grading.support import decide, judgement, submitted, text_of
from tests.support.lms import set_flavour


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


def test_a_grade_changed_in_the_lms_without_an_override_is_sent_again(live, activity):
    """A column restored from a backup, a grade rewritten by the LMS itself: one send fixes it."""
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


# --- A teacher's grade in the LMS wins (LTI-CHECKLIST G; moodle-as-it-is.md item 3) ----------


def _fully_graded_posts(live, graded: str) -> int:
    return sum(1 for p in lms_posts(live, graded, LEARNER) if p["gradingProgress"] == "FullyGraded")


def _reconcile_and_send(live, rounds: int) -> list[str]:
    outputs = []
    for _ in range(rounds):
        outputs.append(_reconcile(live))
        run_worker(live)
    return outputs


def test_a_moodle_override_stops_the_resending_after_one_try_and_is_recorded(live, activity):
    graded = _decided_and_delivered(live)
    override_in_lms(live, graded, LEARNER, "4")
    outputs = _reconcile_and_send(live, rounds=4)
    # One send to find out (Moodle takes it with 204 and keeps the override), then none.
    assert _fully_graded_posts(live, graded) == 2
    assert "1 queued to be sent again" in outputs[0]
    assert "0 queued to be sent again, 1 kept as a teacher's grade in the LMS" in outputs[1]
    assert outputs[2] == outputs[3] == outputs[1]
    [row] = deliveries(live)
    assert (row.status, row.lms_score_given, row.lms_score_maximum) == (
        ScoreDelivery.OVERRIDDEN,
        4.0,
        10.0,
    )
    assert lms_grade(live, graded, LEARNER).score_given == 4.0


def test_reconcile_tells_what_a_teachers_grade_in_moodle_means_and_what_to_do(live, activity):
    graded = _decided_and_delivered(live)
    override_in_lms(live, graded, LEARNER, "4")
    output = _reconcile_and_send(live, rounds=2)[1]
    assert "A teacher's grade stands in the LMS" in output
    assert (
        f"Jordan Lee in “{graded}”: the LMS shows 4 of 10; Microcred's decision is 10 of 10."
        in (output)
    )
    assert "untick “Overridden”" in output


def test_gradebook_sync_shows_the_teachers_grade_and_what_to_do(live, activity):
    graded = _decided_and_delivered(live)
    override_in_lms(live, graded, LEARNER, "4")
    _reconcile_and_send(live, rounds=2)
    text = text_of(launch(live, INSTRUCTOR, graded).get("/gradebook").text)
    assert "Teacher's grade in the LMS" in text
    assert "In the gradebook" not in text
    assert "The LMS shows a teacher's grade, 4 of 10, and keeps it over Microcred's" in text
    assert "untick “Overridden”" in text


def test_a_removed_moodle_override_is_in_the_gradebook_again(live, activity):
    graded = _decided_and_delivered(live)
    override_in_lms(live, graded, LEARNER, "4")
    _reconcile_and_send(live, rounds=2)
    remove_override_in_lms(live, graded, LEARNER)
    assert "1 agree" in _reconcile(live)
    [row] = deliveries(live)
    assert (row.status, row.lms_score_given) == (ScoreDelivery.DELIVERED, None)
    assert lms_grade(live, graded, LEARNER).score_given == 10.0


def test_a_new_decision_under_a_standing_override_is_not_sent_again(live, activity):
    graded = _decided_and_delivered(live)
    override_in_lms(live, graded, LEARNER, "4")
    _reconcile_and_send(live, rounds=2)
    set_body(live, DECIDED)  # the same cell decided again, as a new decision sets it
    run_worker(live)
    sent = _fully_graded_posts(live, graded)
    _reconcile_and_send(live, rounds=2)
    assert _fully_graded_posts(live, graded) == sent
    [row] = deliveries(live)
    assert row.status == ScoreDelivery.OVERRIDDEN


def test_a_teachers_grade_in_canvas_is_recorded_without_sending_again(live, activity):
    """With prioritize_non_tool_grade Canvas never replaces a grade: nothing to try."""
    set_flavour(live, "canvas")
    set_family(live, "canvas")
    graded = _decided_and_delivered(live)
    override_in_lms(live, graded, LEARNER, "4")
    output = _reconcile_and_send(live, rounds=3)[0]
    assert "0 queued to be sent again, 1 kept as a teacher's grade in the LMS" in output
    assert _fully_graded_posts(live, graded) == 1
    assert "Send again" in output
    [row] = deliveries(live)
    assert (row.status, row.lms_score_given) == (ScoreDelivery.OVERRIDDEN, 4.0)


def test_send_again_in_canvas_puts_microcreds_score_over_the_teachers(live, activity):
    set_flavour(live, "canvas")
    set_family(live, "canvas")
    graded = _decided_and_delivered(live)
    override_in_lms(live, graded, LEARNER, "4")
    _reconcile(live)
    [row] = deliveries(live)
    teacher = launch(live, INSTRUCTOR, graded)
    assert teacher.post("/gradebook/retry", delivery=str(row.id)).status_code == 200
    run_worker(live)
    cell = lms_grade(live, graded, LEARNER)
    assert (cell.score_given, cell.overridden_at) == (10.0, None)
    assert "1 agree" in _reconcile(live)
    assert deliveries(live)[0].status == ScoreDelivery.DELIVERED

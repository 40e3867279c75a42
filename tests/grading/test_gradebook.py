"""The desired gradebook state, written with the submission or decision that changes it
(app/grading/gradebook.py): one row per column that asks for the credential, per educator."""

from __future__ import annotations

from app.grading.models import ScoreDelivery
from tests.evidence.support import (
    HINGE,
    HINGE_NOT_YET,
    INSTRUCTOR,
    LEARNER,
    launch,
    second_course,
)
from tests.evidence.support import decide as record_decide
from tests.grading.gradebook_support import add_graded_activity, deliveries, set_family
from tests.grading.support import decide, judgement, submitted

ALL_MET = None


def test_submission_asks_for_submitted_and_pending_manual_without_a_score(live, activity):
    graded = add_graded_activity(live, HINGE, points=10)
    educator = launch(live, LEARNER, graded)
    attempt = submitted(educator)
    [row] = deliveries(live)
    assert row.attempt_id == attempt
    assert row.status == ScoreDelivery.PENDING
    assert row.body == {"activityProgress": "Submitted", "gradingProgress": "PendingManual"}
    assert (row.version, row.sent_version) == (1, 0)


def test_decision_asks_for_fully_graded_with_the_points_and_a_comment(live, activity):
    graded = add_graded_activity(live, HINGE, points=10)
    educator = launch(live, LEARNER, graded)
    attempt = submitted(educator)
    decide(launch(live, INSTRUCTOR, graded), attempt, judgement(), feedback="Well done.")
    [row] = deliveries(live)
    assert row.version == 2
    assert row.body["activityProgress"] == "Completed"
    assert row.body["gradingProgress"] == "FullyGraded"
    # Points the tool does not know (a column not made by its Deep Linking) are sent as 100:
    # the LMS scales scoreGiven / scoreMaximum to the column's own points.
    assert (row.body["scoreGiven"], row.body["scoreMaximum"]) == (100.0, 100.0)
    assert row.body["comment"].startswith("Earned: 5 of 5 criteria met.")
    assert row.body["comment"].endswith("Well done.")


def test_not_yet_scores_zero_and_says_what_to_do(live, activity):
    graded = add_graded_activity(live, HINGE, points=10)
    educator = launch(live, LEARNER, graded)
    attempt = submitted(educator)
    met = {key: value["met"] for key, value in HINGE_NOT_YET.items()}
    decide(launch(live, INSTRUCTOR, graded), attempt, judgement(met), feedback="Nearly.")
    [row] = deliveries(live)
    assert (row.body["scoreGiven"], row.body["scoreMaximum"]) == (0.0, 100.0)
    assert row.body["comment"].startswith("Not yet: 3 of 5 criteria met.")


def test_resubmission_goes_back_to_submitted_without_a_score(live, activity):
    graded = add_graded_activity(live, HINGE, points=10)
    educator = launch(live, LEARNER, graded)
    first = submitted(educator)
    record_decide(live, first, "not_yet", HINGE_NOT_YET)
    educator.post(f"/work/attempts/{first}/next", note="Whole-class photo added.")
    second = submitted(educator)
    [row] = deliveries(live)
    assert row.attempt_id == second != first
    assert row.body == {"activityProgress": "Submitted", "gradingProgress": "PendingManual"}


def test_two_courses_linking_one_credential_both_get_a_row(live, activity):
    here = add_graded_activity(live, HINGE, points=10)
    there = add_graded_activity(live, HINGE, course=second_course(live), points=4)
    launch(live, LEARNER, there)
    attempt = submitted(launch(live, LEARNER, here))
    decide(launch(live, INSTRUCTOR, here), attempt, judgement())
    rows = deliveries(live)
    assert len(rows) == 2
    assert {r.attempt_id for r in rows} == {attempt}
    assert {r.body["gradingProgress"] for r in rows} == {"FullyGraded"}
    assert len({r.line_item_id for r in rows}) == 2


def test_a_course_opened_after_the_decision_gets_the_decision(live, activity):
    here = add_graded_activity(live, HINGE, points=10)
    attempt = submitted(launch(live, LEARNER, here))
    decide(launch(live, INSTRUCTOR, here), attempt, judgement())
    later = add_graded_activity(live, HINGE, course=second_course(live), points=5)
    launch(live, LEARNER, later)
    rows = deliveries(live)
    assert len(rows) == 2
    newest = rows[-1]
    assert newest.body["gradingProgress"] == "FullyGraded"
    assert newest.body["scoreGiven"] == newest.body["scoreMaximum"]


def test_opening_the_course_again_sends_nothing_new(live, activity):
    graded = add_graded_activity(live, HINGE, points=10)
    educator = launch(live, LEARNER, graded)
    submitted(educator)
    launch(live, LEARNER, graded)
    [row] = deliveries(live)
    assert row.version == 1


def test_a_link_the_educator_never_opened_gets_nothing(live, activity):
    graded = add_graded_activity(live, HINGE)
    add_graded_activity(live, HINGE, course=second_course(live))
    submitted(launch(live, LEARNER, graded))
    assert len(deliveries(live)) == 1


def test_canvas_scores_carry_the_submission_extension(live, activity):
    set_family(live, "canvas")
    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    [row] = deliveries(live)
    extension = row.body["https://canvas.instructure.com/lti/submission"]
    assert extension["new_submission"] is True
    assert extension["preserve_score"] is True  # a submission never clears a grade
    assert "prioritize_non_tool_grade" not in extension
    assert extension["submitted_at"].endswith("+00:00")


def test_a_canvas_decision_grades_the_submission_without_making_a_new_one(live, activity):
    set_family(live, "canvas")
    graded = add_graded_activity(live, HINGE)
    attempt = submitted(launch(live, LEARNER, graded))
    decide(launch(live, INSTRUCTOR, graded), attempt, judgement())
    [row] = deliveries(live)
    extension = row.body["https://canvas.instructure.com/lti/submission"]
    assert extension["new_submission"] is False
    assert extension["prioritize_non_tool_grade"] is True

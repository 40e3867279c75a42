"""A resubmission in Canvas (reference/canvas-as-it-is.md, "Score semantics"; top divergences 8).

Canvas clears a submission's grade on a score without ``scoreGiven`` unless it carries
``preserve_score``, and skips grading a submission that has *any* score when a score carries
``prioritize_non_tool_grade`` — the tool's own earlier "not yet" included
(``scores_controller.rb`` ``score_submission``)."""

from __future__ import annotations

from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, attempt_id, launch
from tests.grading.gradebook_support import (
    add_graded_activity,
    lms_grade,
    lms_posts,
    override_in_lms,
    run_worker,
    set_family,
)
from tests.grading.support import decide, judgement, submitted
from tests.support.lms import set_flavour

NOT_YET = judgement({"next-steps": False}, "Name the next step.")


def _canvas_activity(live) -> str:
    set_flavour(live, "canvas")
    set_family(live, "canvas")
    return add_graded_activity(live, HINGE, points=10)


def _resubmit(educator, attempt: int) -> int:
    again = educator.post(f"/work/attempts/{attempt}/next", note="Added next steps.")
    assert again.status_code == 200, again.text[:300]
    second = attempt_id(again.text)
    assert educator.post(f"/work/attempts/{second}/submit").status_code == 200
    return second


def test_a_resubmission_keeps_the_grade_a_teacher_gave_in_canvas(live, activity):
    graded = _canvas_activity(live)
    educator = launch(live, LEARNER, graded)
    first = submitted(educator)
    decide(launch(live, INSTRUCTOR, graded), first, NOT_YET)
    run_worker(live)
    override_in_lms(live, graded, LEARNER, "7")
    _resubmit(educator, first)
    run_worker(live)
    posts = lms_posts(live, graded, LEARNER)
    assert posts[-1]["gradingProgress"] == "PendingManual"
    cell = lms_grade(live, graded, LEARNER)
    assert cell is not None and cell.score_given == 7.0


def test_a_new_decision_after_not_yet_reaches_the_canvas_gradebook(live, activity):
    """The tool's own "not yet" is a score: asking Canvas to keep any score would keep it."""
    graded = _canvas_activity(live)
    educator = launch(live, LEARNER, graded)
    first = submitted(educator)
    instructor = launch(live, INSTRUCTOR, graded)
    decide(instructor, first, NOT_YET)
    run_worker(live)
    assert lms_grade(live, graded, LEARNER).score_given == 0.0
    second = _resubmit(educator, first)
    run_worker(live)
    assert lms_grade(live, graded, LEARNER).score_given == 0.0  # kept while awaiting review
    decide(instructor, second, judgement())
    run_worker(live)
    assert lms_grade(live, graded, LEARNER).score_given == 10.0


def test_a_first_decision_keeps_a_grade_the_teacher_gave_before_it(live, activity):
    graded = _canvas_activity(live)
    educator = launch(live, LEARNER, graded)
    attempt = submitted(educator)
    run_worker(live)
    override_in_lms(live, graded, LEARNER, "6")
    decide(launch(live, INSTRUCTOR, graded), attempt, judgement())
    run_worker(live)
    assert lms_grade(live, graded, LEARNER).score_given == 6.0

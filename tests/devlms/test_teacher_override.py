"""A teacher's own grade in the development LMS's gradebook, and what later scores from the tool
do to it (LTI-CHECKLIST G, "A teacher's override in the LMS wins").

Moodle (``reference/moodle-as-it-is.md`` item 3; ``lib/grade/grade_item.php``
``update_raw_grade``): a grade overridden in the grader report stays against every later score
POST, which still answers 204; the tool's score is kept as the raw grade and shown again when the
teacher removes the override. Canvas (``reference/canvas-as-it-is.md``, "Score semantics";
``lti/ims/scores_controller.rb`` ``score_submission``): ``prioritize_non_tool_grade`` leaves a
submission that has any score alone, ``preserve_score`` never touches it, a score without
``scoreGiven`` clears it otherwise; the result record (``Lti::Result``) keeps the tool's last
score whatever the submission kept, and takes a teacher's grade entered after it.
"""

from __future__ import annotations

import pytest

from app.devlms.gradebook import SUBMISSION
from tests.devlms.test_gradebook_page import gradebook, learner_cell
from tests.support.lms import LmsUser, set_flavour
from tests.support.score_sender import INSTRUCTOR, LEARNER, ScoreSender

PENDING = {"activityProgress": "Submitted", "gradingProgress": "PendingManual", "scoreGiven": None}


@pytest.fixture
def moodle(live) -> ScoreSender:
    return ScoreSender(live)


@pytest.fixture
def canvas(live) -> ScoreSender:
    set_flavour(live, "canvas")
    return ScoreSender(live)


def override(sender: ScoreSender, grade: str, email: str = INSTRUCTOR):
    """A teacher types ``grade`` into the learner's cell of the gradebook page."""
    return LmsUser(sender.live, email).override_grade(
        sender.course_id, sender.item_id, LEARNER, grade
    )


def result_score(sender: ScoreSender) -> float | None:
    [result] = sender.http.get(sender.results, timeout=30).json()
    return result.get("resultScore")


def canvas_score(sender: ScoreSender, points: float, **extension) -> dict:
    return sender.body(scoreGiven=points, **{SUBMISSION: extension})


# --- Moodle ----------


def test_moodle_keeps_a_teachers_override_against_later_scores(moodle):
    assert moodle.post(moodle.body(scoreGiven=80, comment="From the tool.")).status_code == 204
    assert override(moodle, "30").status_code == 200
    again = moodle.post(moodle.body(scoreGiven=90, comment="Sent again."))
    assert again.status_code == 204  # Moodle accepts the score...
    cell = moodle.grade()
    assert cell.score_given == 30  # ...and keeps the teacher's grade
    assert cell.overridden_at is not None
    assert cell.comment == "From the tool."  # feedback is not updated under an override
    assert moodle.logged() == 2
    assert result_score(moodle) == 30


def test_moodle_override_of_an_empty_cell_stands_too(moodle):
    assert override(moodle, "45").status_code == 200
    assert moodle.post(moodle.body(scoreGiven=90)).status_code == 204
    assert moodle.grade().score_given == 45
    assert result_score(moodle) == 45


def test_removing_a_moodle_override_shows_the_tools_latest_score(moodle):
    moodle.post(moodle.body(scoreGiven=80))
    override(moodle, "30")
    moodle.post(moodle.body(scoreGiven=90))
    removed = LmsUser(moodle.live, INSTRUCTOR).remove_override(
        moodle.course_id, moodle.item_id, LEARNER
    )
    assert removed.status_code == 200
    cell = moodle.grade()
    assert (cell.score_given, cell.overridden_at) == (90, None)
    assert moodle.post(moodle.body(scoreGiven=70)).status_code == 204
    assert moodle.grade().score_given == 70


def test_gradebook_page_marks_an_overridden_cell(live, moodle):
    moodle.post(moodle.body(scoreGiven=80))
    override(moodle, "30")
    cell = learner_cell(gradebook(live, moodle))
    assert "Overridden by a teacher" in cell
    assert "<strong>30</strong>" in cell
    assert "Remove override" in cell


def test_gradebook_page_offers_an_override_on_every_cell(live, moodle):
    assert "Override" in learner_cell(gradebook(live, moodle))


@pytest.mark.parametrize("grade", ["many", "-1", "101", "nan"])
def test_an_override_that_is_no_grade_of_the_column_is_refused(moodle, grade):
    refused = override(moodle, grade)
    assert refused.status_code == 400
    assert "between 0 and 100" in refused.text
    assert moodle.grade() is None


def test_learners_cannot_override(moodle):
    refused = override(moodle, "100", email=LEARNER)
    assert refused.status_code == 403
    assert moodle.grade() is None


# --- Canvas ----------


def test_canvas_prioritize_non_tool_grade_keeps_a_teachers_grade(canvas):
    assert canvas.post(canvas_score(canvas, 80)).status_code == 200
    override(canvas, "30")
    again = canvas.post(canvas_score(canvas, 90, prioritize_non_tool_grade=True))
    assert again.status_code == 200
    assert canvas.grade().score_given == 30
    # The result record took the tool's score all the same: AGS results do not show the
    # grade the gradebook shows.
    assert result_score(canvas) == 90


def test_canvas_results_show_a_teachers_grade_entered_after_the_tools(canvas):
    canvas.post(canvas_score(canvas, 80))
    override(canvas, "30")
    assert result_score(canvas) == 30


def test_canvas_prioritize_non_tool_grade_skips_a_submission_with_any_score(canvas):
    """``submission_has_score?``: the tool's own earlier grade counts too."""
    canvas.post(canvas_score(canvas, 80))
    assert canvas.post(canvas_score(canvas, 90, prioritize_non_tool_grade=True)).status_code == 200
    assert canvas.grade().score_given == 80


def test_canvas_prioritize_grades_a_submission_without_a_score(canvas):
    override(canvas, "")  # a teacher clears the grade
    canvas.post(canvas_score(canvas, 90, prioritize_non_tool_grade=True))
    cell = canvas.grade()
    assert (cell.score_given, cell.overridden_at) == (90, None)


def test_canvas_score_without_prioritize_replaces_a_teachers_grade(canvas):
    canvas.post(canvas_score(canvas, 80))
    override(canvas, "30")
    canvas.post(canvas_score(canvas, 90))
    cell = canvas.grade()
    assert (cell.score_given, cell.overridden_at) == (90, None)


def test_canvas_pending_manual_without_a_score_clears_the_grade(canvas):
    """Prioritize is not checked on that path (``reset_score?``)."""
    canvas.post(canvas_score(canvas, 80))
    override(canvas, "30")
    cleared = canvas.body(**PENDING, **{SUBMISSION: {"prioritize_non_tool_grade": True}})
    assert canvas.post(cleared).status_code == 200
    assert canvas.grade().score_given is None


def test_canvas_preserve_score_keeps_the_grade_of_a_score_without_one(canvas):
    canvas.post(canvas_score(canvas, 80))
    kept = canvas.body(**PENDING, **{SUBMISSION: {"preserve_score": True}})
    assert canvas.post(kept).status_code == 200
    cell = canvas.grade()
    assert (cell.score_given, cell.grading_progress) == (80, "PendingManual")


def test_canvas_preserve_score_leaves_the_grade_even_when_a_score_is_sent(canvas):
    canvas.post(canvas_score(canvas, 80))
    assert canvas.post(canvas_score(canvas, 90, preserve_score=True)).status_code == 200
    assert canvas.grade().score_given == 80


def test_canvas_has_no_override_to_remove(live, canvas):
    canvas.post(canvas_score(canvas, 80))
    override(canvas, "30")
    cell = learner_cell(gradebook(live, canvas))
    assert "Graded by a teacher" in cell
    assert "Remove override" not in cell

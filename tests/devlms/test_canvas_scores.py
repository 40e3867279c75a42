"""Scores from a Canvas-flavoured tool meet Canvas's answers where Canvas and Moodle differ
(LTI-CHECKLIST G and J): 422 for a user who is not a student, a score kept with PendingManual,
the ``https://canvas.instructure.com/lti/submission`` extension, ``resultUrl`` in the answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.devlms.gradebook import SUBMISSION
from tests.support.lms import set_flavour
from tests.support.score_sender import INSTRUCTOR, ScoreSender

PENDING_WITH_SCORE = {
    "activityProgress": "Submitted",
    "gradingProgress": "PendingManual",
    "scoreGiven": 60,
    "scoreMaximum": 100,
}


@pytest.fixture
def canvas(live) -> ScoreSender:
    set_flavour(live, "canvas")
    return ScoreSender(live)


@pytest.fixture
def moodle(live) -> ScoreSender:
    return ScoreSender(live)


def test_canvas_refuses_a_score_for_a_teacher_with_422_and_its_error_body(canvas):
    """gradebook_services.rb verify_user_in_context, rendered by lti_services.rb render_error."""
    response = canvas.post(canvas.body(INSTRUCTOR))
    assert response.status_code == 422
    assert response.json() == {
        "errors": {
            "type": "unprocessable_entity",
            "message": "User not found in course or is not a student",
        }
    }
    assert canvas.logged() == 0


def test_canvas_refuses_an_unknown_user_with_the_same_422(canvas):
    response = canvas.post(dict(canvas.body(), userId="nobody"))
    assert response.status_code == 422
    assert "not a student" in response.json()["errors"]["message"]


def test_moodle_keeps_its_exact_400_for_a_teacher(moodle):
    response = moodle.post(moodle.body(INSTRUCTOR))
    assert response.status_code == 400
    assert response.json()["error_description"] == "Incorrect score received"


def test_canvas_keeps_the_score_sent_with_pending_manual(canvas):
    """Canvas applies scoreGiven with FullyGraded or PendingManual (ACCEPT_GIVEN_SCORE_TYPES)."""
    assert canvas.post(canvas.body(**PENDING_WITH_SCORE)).status_code == 200
    cell = canvas.grade()
    assert cell.score_given == 60
    assert cell.grading_progress == "PendingManual"


def test_moodle_clears_the_score_sent_with_pending_manual(moodle):
    assert moodle.post(moodle.body()).status_code == 204
    assert moodle.post(moodle.body(**PENDING_WITH_SCORE)).status_code == 204
    cell = moodle.grade()
    assert cell.score_given is None
    assert cell.grading_progress == "PendingManual"


@pytest.mark.parametrize("progress", ["Pending", "NotReady", "Failed"])
def test_canvas_ignores_the_score_with_other_grading_progress(canvas, progress):
    assert canvas.post(canvas.body(gradingProgress=progress)).status_code == 200
    assert canvas.grade().score_given is None


def test_canvas_answers_with_the_result_url(canvas):
    response = canvas.post(canvas.body())
    assert response.status_code == 200
    result = response.json()["resultUrl"]
    assert result.startswith(canvas.scores.split("/scores")[0] + "/results/")
    assert canvas.http.get(canvas.results, timeout=30).json()[0]["id"] == result


def test_canvas_accepts_the_submission_extension(canvas):
    submitted_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="milliseconds")
    extension = {
        "new_submission": True,
        "submitted_at": submitted_at,
        "prioritize_non_tool_grade": True,
    }
    response = canvas.post(canvas.body(**PENDING_WITH_SCORE, **{SUBMISSION: extension}))
    assert response.status_code == 200, response.text
    assert canvas.logged() == 1


def test_canvas_refuses_a_submitted_at_that_is_no_timestamp(canvas):
    response = canvas.post(canvas.body(**{SUBMISSION: {"submitted_at": "yesterday"}}))
    assert response.status_code == 400
    assert response.json()["errors"]["message"] == (
        "Provided submitted_at timestamp of yesterday not a valid timestamp"
    )
    assert canvas.grade() is None


def test_canvas_refuses_a_submitted_at_in_the_future(canvas):
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    response = canvas.post(canvas.body(**{SUBMISSION: {"submitted_at": later}}))
    assert response.status_code == 400
    assert "in the future" in response.json()["errors"]["message"]


def test_submission_extension_that_is_not_an_object_is_refused(canvas):
    response = canvas.post(canvas.body(**{SUBMISSION: "yes"}))
    assert response.status_code == 400
    assert SUBMISSION in response.json()["error_description"]


def test_moodle_ignores_the_submission_extension(moodle):
    response = moodle.post(moodle.body(**{SUBMISSION: {"submitted_at": "yesterday"}}))
    assert response.status_code == 204

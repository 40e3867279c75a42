"""The instructor's gradebook sync page of an activity: where each learner's score stands,
why one did not arrive, and sending it again."""

from __future__ import annotations

from sqlalchemy import update

from app.db import get_db
from app.grading.models import ScoreDelivery
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, launch
from tests.grading.gradebook_support import add_graded_activity, deliveries
from tests.grading.support import submitted, text_of

GONE = "The gradebook column no longer exists in the LMS (deleted, or the course has concluded)."


def _fail(live, reason: str = GONE) -> None:
    with get_db(live.tool).begin() as session:
        session.execute(
            update(ScoreDelivery).values(status=ScoreDelivery.FAILED, tries=1, last_error=reason)
        )


def test_instructor_sees_each_learners_score_waiting_to_be_sent(live, activity):
    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    page = launch(live, INSTRUCTOR, graded).get("/gradebook")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Jordan Lee" in text
    assert "Submitted, awaiting review (no grade yet)" in text
    assert "Waiting to be sent" in text


def test_activity_page_links_teachers_to_the_gradebook_sync(live, activity):
    graded = add_graded_activity(live, HINGE)
    page = launch(live, INSTRUCTOR, graded).get("/activity")
    assert "Gradebook sync" in page.text


def test_a_failed_score_shows_its_reason_and_a_send_again_button(live, activity):
    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    _fail(live)
    text = text_of(launch(live, INSTRUCTOR, graded).get("/gradebook").text)
    assert "1 score did not reach the gradebook" in text
    assert GONE in text
    assert "Send again" in text


def test_send_again_queues_the_score_afresh(live, activity):
    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    _fail(live)
    [row] = deliveries(live)
    teacher = launch(live, INSTRUCTOR, graded)
    page = teacher.post("/gradebook/retry", delivery=str(row.id))
    assert page.status_code == 200
    assert "Sending again now" in page.text
    [after] = deliveries(live)
    assert (after.status, after.tries, after.last_error) == (ScoreDelivery.PENDING, 0, None)


def test_send_again_of_another_activitys_score_is_refused(live, activity):
    graded = add_graded_activity(live, HINGE)
    other = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    _fail(live)
    [row] = deliveries(live)
    refused = launch(live, INSTRUCTOR, other).post("/gradebook/retry", delivery=str(row.id))
    assert refused.status_code == 404
    assert "nothing to send again" in refused.text
    assert deliveries(live)[0].status == ScoreDelivery.FAILED


def test_send_again_without_a_choice_says_what_to_do(live, activity):
    graded = add_graded_activity(live, HINGE)
    refused = launch(live, INSTRUCTOR, graded).post("/gradebook/retry", delivery="x")
    assert refused.status_code == 400
    assert "Choose a score to send again." in refused.text


def test_learners_cannot_open_the_gradebook_sync(live, activity):
    graded = add_graded_activity(live, HINGE)
    refused = launch(live, LEARNER, graded).get("/gradebook")
    assert refused.status_code == 403
    assert "for the course&#39;s instructors and teaching assistants" in refused.text

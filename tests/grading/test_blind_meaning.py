"""What blind review means, said the same way on every page (issue 28 item 6).

Blind review keeps the educator's name out of the judgement: the queue and the review page never
say whose work it is, and no page links a name to a blind review. It cannot make a course's own
instructor unaware of who has submitted: their class pages name their learners and the LMS's
gradebook shows each submission. So every page that shows a blind credential to a course's
instructor says so, with the way to a review nobody in the course can trace (an assessor from
outside the course); an assessor from outside reads only that names are hidden. And the queue
no longer carries each blind submission's exact time in its markup, which the class pages'
dates could be matched against."""

from __future__ import annotations

from sqlalchemy import select

from app.db import get_db
from app.evidence.models import Attempt
from tests.evidence.support import OTHER_LEARNER, launch
from tests.grading.support import claim, set_review, submitted, text_of
from tests.grading.test_access import grant

HIDDEN = "do not show whose work it is"
OWN_COURSE = "It is not anonymity in your own course"


def _row(queue: str, attempt: int) -> str:
    return queue.split(f'data-attempt="{attempt}"')[1].split("</tr>")[0]


def test_a_course_instructor_reads_what_blind_means_on_every_page_of_the_course(
    live, educator, instructor
):
    set_review(live, blind=True)
    attempt = submitted(educator)
    pages = {
        "queue": instructor.get("/review").text,
        "review": claim(instructor, attempt).text,
        "class progress": instructor.get("/activity/progress").text,
        "who has opened it": instructor.get("/activity/people").text,
        "gradebook sync": instructor.get("/gradebook").text,
    }
    for name, html in pages.items():
        text = text_of(html)
        assert HIDDEN in text and OWN_COURSE in text, name
        assert "an assessor from outside the course" in text, name


def test_an_assessor_from_outside_the_course_reads_only_that_names_are_hidden(
    live, educator, activity
):
    set_review(live, blind=True)
    attempt = submitted(educator)
    outsider = launch(live, OTHER_LEARNER, activity)
    grant(live, OTHER_LEARNER)
    for html in (outsider.get("/review").text, claim(outsider, attempt).text):
        text = text_of(html)
        assert HIDDEN in text
        assert OWN_COURSE not in text


def test_a_credential_not_reviewed_blind_says_nothing_of_it(live, educator, instructor):
    set_review(live, blind=False)
    attempt = submitted(educator)
    for html in (
        instructor.get("/review").text,
        claim(instructor, attempt).text,
        instructor.get("/activity/progress").text,
        instructor.get("/activity/people").text,
        instructor.get("/gradebook").text,
    ):
        assert HIDDEN not in text_of(html)


def _submitted_at(live, attempt: int) -> str:
    with get_db(live.tool).begin() as session:
        when = session.scalars(select(Attempt.submitted_at).where(Attempt.id == attempt)).one()
    assert when is not None
    return when.strftime("%Y-%m-%dT%H:%M")


def test_the_queue_gives_a_blind_submissions_waiting_days_not_its_time(live, educator, instructor):
    set_review(live, blind=True)
    attempt = submitted(educator)
    row = _row(instructor.get("/review").text, attempt)
    assert _submitted_at(live, attempt) not in row
    assert "Today" in row
    set_review(live, blind=False)
    assert _submitted_at(live, attempt) in _row(instructor.get("/review").text, attempt)

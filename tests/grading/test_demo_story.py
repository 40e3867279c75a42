"""The demo tells its story with its own people (issue 28 item 1): a credential that asks for
two independent reviews is decided by the course's instructor and its teaching assistant, and
the first reviewer is told who can give the second review."""

from __future__ import annotations

from html import unescape

from tests.evidence.support import INSTRUCTOR, LEARNER, launch
from tests.grading.gradebook_support import run_worker
from tests.grading.support import decide, judgement, set_review, state_of, submitted

DEMO_TA = "dana.kim@example.edu"


def test_the_instructor_and_the_teaching_assistant_decide_a_doubly_reviewed_credential(
    live, activity
):
    set_review(live, second_review=True)
    attempt = submitted(launch(live, LEARNER, activity))
    first = decide(launch(live, INSTRUCTOR, activity), attempt, judgement())
    said = unescape(first.text)
    assert "waits for a second, independent review by someone else" in said
    assert "a teaching assistant of this course" in said and "Assessors" in said
    second = decide(launch(live, DEMO_TA, activity), attempt, judgement())
    assert "Decision recorded: earned" in second.text
    assert state_of(live, attempt) == "earned"
    run_worker(live)

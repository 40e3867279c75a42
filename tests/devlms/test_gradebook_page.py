"""The development LMS's gradebook page: what an instructor clicking through sees per column
and learner (score, comment, progress, last update, score POSTs received, Canvas
submissions)."""

from __future__ import annotations

import re

import pytest

from app.devlms.gradebook import SUBMISSION
from tests.support.lms import LmsUser, set_flavour
from tests.support.score_sender import INSTRUCTOR, ScoreSender


@pytest.fixture
def sender(live) -> ScoreSender:
    return ScoreSender(live)


def gradebook(live, sender: ScoreSender) -> str:
    page = LmsUser(live, INSTRUCTOR).http.get(
        f"{live.devlms_url}/courses/{sender.course_id}/gradebook", timeout=30
    )
    assert page.status_code == 200
    return page.text


def learner_cell(html: str) -> str:
    """The HTML of the demo learner's cell (the first row's)."""
    match = re.search(r'<td data-cell="[^"]+">(.*?)</td>', html, re.S)
    assert match, "no gradebook cell"
    return match.group(1)


def test_cell_counts_every_score_post_received(live, sender):
    assert sender.post().status_code == 204
    assert sender.post().status_code == 204  # the same decision, sent again
    cell = learner_cell(gradebook(live, sender))
    assert "2 score POSTs received" in cell
    assert "Well evidenced." in cell


def test_cell_shows_when_the_lms_stored_the_score(live, sender):
    assert sender.post().status_code == 204
    stored = sender.grade().updated_at.strftime("%Y-%m-%d %H:%M:%S")
    assert "Updated <time" in learner_cell(gradebook(live, sender))
    assert f"{stored} UTC" in learner_cell(gradebook(live, sender))


def test_cell_without_a_score_says_so_with_its_progress(live, sender):
    pending = sender.body(
        activityProgress="Submitted", gradingProgress="PendingManual", scoreGiven=None
    )
    assert sender.post(pending).status_code == 204
    cell = learner_cell(gradebook(live, sender))
    assert "(no score)" in cell
    assert "Submitted · PendingManual" in cell
    assert "1 score POST received" in cell


def test_empty_cell_says_no_score_yet(live, sender):
    assert "No score yet" in learner_cell(gradebook(live, sender))


def test_canvas_cell_shows_the_recorded_submission(live):
    set_flavour(live, "canvas")
    sender = ScoreSender(live)
    extension = {"new_submission": True, "submitted_at": "2026-01-05T09:30:00.000Z"}
    assert sender.post(sender.body(**{SUBMISSION: extension})).status_code == 200
    html = gradebook(live, sender)
    assert "Canvas rules" in html
    assert "1 submission, last submitted <time" in learner_cell(html)
    assert "2026-01-05 09:30:00 UTC" in learner_cell(html)


def test_canvas_cell_counts_no_submission_when_the_tool_says_so(live):
    set_flavour(live, "canvas")
    sender = ScoreSender(live)
    not_new = sender.body(**{SUBMISSION: {"new_submission": False}})
    assert sender.post(not_new).status_code == 200
    assert "submission" not in learner_cell(gradebook(live, sender))


def test_moodle_cell_shows_no_submissions(live, sender):
    assert sender.post(sender.body(**{SUBMISSION: {"new_submission": True}})).status_code == 204
    html = gradebook(live, sender)
    assert "submission" not in learner_cell(html)
    assert "Canvas rules" not in html

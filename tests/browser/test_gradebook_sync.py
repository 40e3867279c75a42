"""The gradebook sync in a real browser, inside the LMS's iframe (issue 10): a learner's score
reaches the development LMS's gradebook through the worker; another that the LMS refuses shows
its reason on the instructor's *Gradebook sync* page, where *Send again* queues it. axe-core on
the page; screenshot in test-artifacts/browser/gradebook-sync.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db import get_db
from tests.browser.accessibility import assert_no_violations
from tests.browser.test_review import open_activity, shoot
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, OTHER_LEARNER, launch
from tests.grading.gradebook_support import add_graded_activity, enrol_as, run_worker
from tests.grading.support import decide, judgement, set_review, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser


@pytest.fixture
def activity(live: LiveServers) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, blind=False)
    return add_graded_activity(live, HINGE, points=10)


def test_the_instructor_sees_which_scores_reached_the_gradebook(
    page: Page, live: LiveServers, activity: str, artifacts: Path
) -> None:
    earned = submitted(launch(live, LEARNER, activity))
    decide(launch(live, INSTRUCTOR, activity), earned, judgement(), feedback="Well done.")
    submitted(launch(live, OTHER_LEARNER, activity))
    enrol_as(live, OTHER_LEARNER, "Instructor")  # no longer a student there
    run_worker(live)

    frame = open_activity(page, live, "Maria Alvarez", activity)
    frame.get_by_role("link", name="Gradebook sync").click()
    expect(frame.get_by_role("heading", level=1)).to_have_text("Gradebook sync")
    expect(frame.get_by_role("alert")).to_contain_text("1 score did not reach the gradebook")
    refused = frame.locator('tr:has-text("Priya Natarajan")')
    expect(refused).to_contain_text("Not sent")
    expect(refused).to_contain_text("not enrolled as a student in this course")
    delivered = frame.locator('tr:has-text("Jordan Lee")')
    expect(delivered).to_contain_text("Earned (full points)")
    expect(delivered).to_contain_text("In the gradebook")
    assert_no_violations(frame, "the gradebook sync page inside the LMS iframe")
    shoot(page, frame, artifacts / "gradebook-sync.png")

    refused.get_by_role("button", name="Send again").click()
    expect(frame.get_by_role("status")).to_contain_text("Sending again now")
    expect(frame.locator('tr:has-text("Priya Natarajan")')).to_contain_text("Waiting to be sent")

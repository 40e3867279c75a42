"""The activity page as an instructor sees it (issue 28 item 9): how many submissions wait for
review, with the way to them, and no personal "Start this micro-credential" box — the page reads
as a teacher's page, with the credential below as the learners read it. axe-core on the page;
screenshot in test-artifacts/browser/instructor-activity.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db import get_db
from tests.browser.accessibility import assert_no_violations
from tests.browser.test_review import open_activity, shoot
from tests.evidence.support import HINGE, LEARNER, OTHER_LEARNER, add_activity, launch
from tests.grading.support import set_review, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser


@pytest.fixture
def activity(live: LiveServers) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, blind=False)
    return add_activity(live, HINGE)


def test_the_instructor_sees_how_many_submissions_wait_and_no_start_box(
    page: Page, live: LiveServers, activity: str, artifacts: Path
) -> None:
    submitted(launch(live, LEARNER, activity))
    submitted(launch(live, OTHER_LEARNER, activity))

    frame = open_activity(page, live, "Maria Alvarez", activity)
    waiting = frame.locator(".teaching-summary")
    expect(waiting).to_contain_text("2 submissions waiting for review")
    expect(frame.get_by_role("button", name="Start this micro-credential")).to_have_count(0)
    expect(frame.get_by_role("heading", name="Your work")).to_have_count(0)
    assert_no_violations(frame, "the activity page as its instructor sees it")
    shoot(page, frame, artifacts / "instructor-activity.png")
    waiting.screenshot(path=str(artifacts / "instructor-activity-waiting.png"))

    waiting.get_by_role("link", name="Review the submissions").click()
    expect(frame.get_by_role("heading", level=1, name="Submissions to review")).to_be_visible()
    expect(frame.locator("table.queue tbody tr")).to_have_count(2)


def test_the_instructor_is_told_when_nothing_waits(
    page: Page, live: LiveServers, activity: str
) -> None:
    frame = open_activity(page, live, "Maria Alvarez", activity)
    expect(frame.locator(".teaching-summary")).to_contain_text(
        "No submissions are waiting for review"
    )
    expect(frame.get_by_role("button", name="Start this micro-credential")).to_have_count(0)
    # The learner's page is unchanged: their own work, and the way to start it.
    learner = open_activity(page, live, "Jordan Lee", activity)
    expect(learner.get_by_role("heading", name="Your work")).to_be_visible()
    expect(learner.locator(".teaching-summary")).to_have_count(0)

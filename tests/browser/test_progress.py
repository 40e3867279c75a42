"""The class's progress in a real browser, inside the LMS's iframe (issue 10): the instructor
follows "Class progress" from the activity, sees the roster with each learner's state, filters
to one state and downloads the CSV; and the course overview (issue 24 part 2), every credential
placed in the course by every learner. axe-core on each page; screenshots in
test-artifacts/browser/progress.png and course-overview.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db import get_db
from tests.browser.accessibility import assert_no_violations
from tests.browser.test_review import open_activity, shoot
from tests.evidence.support import (
    FEEDBACK,
    HINGE,
    INSTRUCTOR,
    LEARNER,
    OTHER_LEARNER,
    add_activity,
    launch,
)
from tests.evidence.support import start as start_work
from tests.grading.support import TA, decide, judgement, set_review, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers
from tests.support.roster import enrol_learners

pytestmark = pytest.mark.browser

TITLE = "Questioning to Check for Understanding"


@pytest.fixture
def activity(live: LiveServers) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, blind=False)
    return add_activity(live, HINGE)


def test_the_instructor_sees_the_class_progress_in_the_lms_frame(
    page: Page, live: LiveServers, activity: str, artifacts: Path
) -> None:
    enrol_learners(live, 2)
    start_work(launch(live, LEARNER, activity), HINGE)
    submitted(launch(live, OTHER_LEARNER, activity))
    earned = submitted(launch(live, TA, activity))
    decide(launch(live, INSTRUCTOR, activity), earned, judgement())

    frame = open_activity(page, live, "Maria Alvarez", activity)
    frame.get_by_role("link", name="Class progress").click()
    expect(frame.get_by_role("heading", level=1)).to_have_text(f"Progress on “{TITLE}”")
    expect(frame.locator(".roster-freshness")).to_contain_text("Roster from the LMS, just now")
    rows = frame.locator("table.progress tbody tr")
    expect(rows).to_have_count(5)
    expect(frame.locator('tr:has-text("Samuel Okafor") [data-field="state"]')).to_have_text(
        "Earned"
    )
    expect(frame.locator('tr:has-text("Jordan Lee") [data-field="state"]')).to_have_text("Drafting")
    assert_no_violations(frame, "the progress page inside the LMS iframe")
    shoot(page, frame, artifacts / "progress.png")

    frame.get_by_role("link", name="2 Not started").click()
    expect(rows).to_have_count(2)
    expect(frame.get_by_role("link", name="2 Not started")).to_have_attribute(
        "aria-current", "true"
    )
    with page.expect_download() as download:
        frame.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.startswith(f"progress-{HINGE}-")
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and content.count(b"\r\n") == 3


def test_the_instructor_sees_the_whole_course_in_the_lms_frame(
    page: Page, live: LiveServers, activity: str, artifacts: Path
) -> None:
    feedback = add_activity(live, FEEDBACK)
    start_work(launch(live, LEARNER, activity), HINGE)
    submitted(launch(live, OTHER_LEARNER, activity))
    start_work(launch(live, OTHER_LEARNER, feedback), FEEDBACK)

    frame = open_activity(page, live, "Maria Alvarez", activity)
    expect(frame.get_by_text("1 submission waiting for review")).to_be_visible()
    frame.get_by_role("link", name="Course overview").first.click()
    expect(frame.get_by_role("heading", level=1)).to_have_text("Course overview")
    summary = frame.locator("table.overview-summary tbody tr")
    expect(summary).to_have_count(2)
    expect(summary.first.locator('[data-field="waiting"]')).to_have_text(
        f"1 waiting for review at {TITLE}"
    )
    grid = frame.locator("table.overview-grid tbody tr")
    expect(grid).to_have_count(3)
    expect(frame.locator(f'tr:has-text("Priya") td[data-credential="{FEEDBACK}"]')).to_contain_text(
        "Drafting"
    )
    assert_no_violations(frame, "the course overview inside the LMS iframe")
    shoot(page, frame, artifacts / "course-overview.png")
    with page.expect_download() as download:
        frame.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("overview-")
    assert Path(download.value.path()).read_bytes().count(b"\r\n") == 4

"""Opening an educator's submission from the LMS's gradebook in a real browser (issue 22): the
instructor clicks the educator's cell in the development LMS's gradebook — Moodle's grader report
("Open in Microcred", an LtiSubmissionReviewRequest) and Canvas's SpeedGrader (a launch of the
submission's URL) — and the submission's review page opens inside the LMS's iframe; a cell of
someone who has not submitted says so. axe-core on both pages; screenshots in
test-artifacts/browser/open-from-gradebook-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, expect

from app.db import get_db
from tests.browser.accessibility import assert_no_violations
from tests.browser.test_launch_in_iframe import COURSE, act_as
from tests.browser.test_review import shoot
from tests.evidence.support import HINGE, LEARNER, launch
from tests.grading.gradebook_support import add_graded_activity, run_worker
from tests.grading.support import set_review, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers
from tests.support.lms import LmsUser, behave_like

pytestmark = pytest.mark.browser

TITLE = "Questioning to Check for Understanding"
ANSWER = "My class of 28 and the hinge."


@pytest.fixture
def activity(live: LiveServers) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, blind=False)
    return add_graded_activity(live, HINGE, points=10)


def open_cell(page: Page, live: LiveServers, learner: str, link_name: str) -> Frame:
    """As the instructor, open the course's gradebook and click ``learner``'s cell link; return
    the tool's frame."""
    act_as(page, live, "Maria Alvarez")
    page.get_by_role("link", name=COURSE).click()
    page.get_by_role("link", name="Gradebook").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gradebook")
    page.get_by_role("link", name=f"{link_name} for {learner}").last.click()
    handle = page.locator("iframe.tool").element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame


def test_moodle_gradebook_opens_the_submission_in_the_iframe(
    page: Page, live: LiveServers, activity: str, artifacts: Path
) -> None:
    submitted(launch(live, LEARNER, activity))
    frame = open_cell(page, live, "Jordan Lee", "Open in Microcred")
    expect(frame.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(frame.get_by_text(ANSWER)).to_be_visible()
    assert "/review/attempts/" in frame.url
    assert_no_violations(frame, "the review page opened from Moodle's gradebook")
    shoot(page, frame, artifacts / "open-from-gradebook-moodle.png")

    # Back to the gradebook by its address: the history's last entries are the iframe's
    # launch (a form POST), which going back would post again.
    course_id = LmsUser(live, LEARNER).course_id()
    page.goto(f"{live.devlms_url}/courses/{course_id}/gradebook")
    page.get_by_role("link", name="Open in Microcred for Priya Natarajan").last.click()
    handle = page.locator("iframe.tool").element_handle()
    assert handle is not None
    empty = handle.content_frame()
    assert empty is not None
    expect(empty.get_by_role("heading", level=1)).to_have_text("No submission yet")
    expect(empty.get_by_text("has not opened this activity in Microcred yet")).to_be_visible()
    assert_no_violations(empty, "the no-submission page opened from Moodle's gradebook")
    shoot(page, empty, artifacts / "open-from-gradebook-none.png")


def test_canvas_speedgrader_opens_the_submission_in_the_iframe(
    page: Page, live: LiveServers, activity: str, artifacts: Path
) -> None:
    behave_like(live, "canvas")
    submitted(launch(live, LEARNER, activity))
    run_worker(live)
    frame = open_cell(page, live, "Jordan Lee", "Open in SpeedGrader")
    expect(page.get_by_role("heading", level=1)).to_contain_text("SpeedGrader")
    expect(frame.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(frame.get_by_text(ANSWER)).to_be_visible()
    assert "/review/attempts/" in frame.url
    shoot(page, frame, artifacts / "open-from-gradebook-canvas.png")

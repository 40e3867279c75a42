"""An educator downloads their records from their profile page, in a real browser inside the
LMS's iframe (issue 23 part 2): profile, the records page, the zip.
axe-core on both pages; screenshots in test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_no_violations
from tests.browser.frames import shoot
from tests.browser.test_launch_in_iframe import act_as, open_activity
from tests.privacy.support import ANSWER, PLAN, build_world, read_export

pytestmark = pytest.mark.browser


def test_the_educator_downloads_their_records_inside_the_lms(
    page: Page, live, artifacts: Path, tmp_path: Path
) -> None:
    world = build_world(live)
    act_as(page, live, "Jordan Lee")
    frame = open_activity(page, "Microcred: welcome")

    frame.get_by_role("link", name="Your profile").click()
    expect(frame.get_by_role("heading", level=1, name="Your profile")).to_be_visible()
    assert_no_violations(frame, "the profile page with its records section")
    frame.get_by_role("link", name="download your records").click()
    expect(frame.get_by_role("heading", level=1, name="Your records")).to_be_visible()
    assert_no_violations(frame, "the records page inside the LMS iframe")
    shoot(page, frame, artifacts / "records.png")

    with page.expect_download() as downloading:
        frame.get_by_role("button", name="Download my records (zip)").click()

    assert downloading.value.suggested_filename == "microcred-records.zip"
    saved = tmp_path / "records.zip"
    downloading.value.save_as(saved)
    export = read_export(saved)
    (person,) = export.data["people"]
    assert person["profile"]["sub"] == world.sub
    (attempt,) = person["attempts"]
    plan = next(f for f in attempt["files"] if f["name"] == "Lesson plan, Year 7.pdf")
    assert export.entries[plan["path"]] == PLAN
    assert ANSWER in export.index

"""Records requests in a real browser (issue 23 part 2): an educator downloads their records
from their profile page inside the LMS's iframe; an operator exports a person's records from
the console. axe-core on every page; screenshots in test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.admin.console import EMAIL, PASSWORD, create_operator
from tests.browser.accessibility import assert_no_violations
from tests.browser.frames import shoot
from tests.browser.test_launch_in_iframe import act_as, open_activity
from tests.evidence.support import LEARNER
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


def test_an_operator_exports_records_from_the_console(
    page: Page, live, artifacts: Path, tmp_path: Path
) -> None:
    build_world(live)
    create_operator(live.tool)
    page.goto(f"{live.tool_url}/admin/records")
    page.get_by_label("Email", exact=True).fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Records requests")
    assert_no_violations(page, "the console's records requests page")

    # A request that names nobody: the page says why, and keeps what was typed.
    page.get_by_label("Email the person's LMSs sent").fill("nobody@example.edu")
    page.get_by_role("button", name="Export the records (zip)").click()
    expect(page.get_by_role("alert")).to_contain_text("No platform has sent the tool that email")
    expect(page.get_by_label("Email the person's LMSs sent")).to_have_value("nobody@example.edu")
    assert_no_violations(page, "the records requests page with its error")
    page.screenshot(path=str(artifacts / "records-requests-error.png"), full_page=True)

    page.get_by_label("Email the person's LMSs sent").fill(LEARNER)
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Export the records (zip)").click()
    saved = tmp_path / "records.zip"
    downloading.value.save_as(saved)
    assert len(read_export(saved).data["people"]) == 2

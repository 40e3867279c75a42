"""Records too large to build while the educator waits, in a real browser inside the LMS's
iframe (issue 23 part 2): the educator asks, the page says it waits, the worker prepares the
zip, the page offers its download. axe-core on both states; a screenshot in
test-artifacts/browser/records-prepared.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.privacy.building import Builder
from tests.browser.accessibility import assert_no_violations
from tests.browser.frames import shoot
from tests.browser.test_launch_in_iframe import act_as, open_activity
from tests.privacy.support import build_world, read_export

pytestmark = pytest.mark.browser


@pytest.fixture
def settings_override(settings_override: dict[str, Any]) -> dict[str, Any]:
    """Records over a kilobyte are 'large' here."""
    return {**settings_override, "MICROCRED_EXPORT_INLINE_BYTES": 1024}


def test_large_records_are_prepared_and_downloaded_inside_the_lms(
    page: Page, live, artifacts: Path, tmp_path: Path
) -> None:
    world = build_world(live)
    act_as(page, live, "Jordan Lee")
    frame = open_activity(page, "Microcred: welcome")
    frame.get_by_role("link", name="Your profile").click()
    frame.get_by_role("link", name="download your records").click()

    frame.get_by_role("button", name="Prepare my records (zip)").click()
    expect(frame.get_by_role("status")).to_have_text(re.compile("Waiting to be prepared."))
    assert_no_violations(frame, "the records page while the zip waits to be prepared")
    Builder(live.tool).run(until_idle=True)
    frame.get_by_role("link", name="Check again").click()
    download = frame.get_by_role("button", name=re.compile(r"^Download my records \(zip, "))
    expect(download).to_be_visible()
    assert_no_violations(frame, "the records page with the prepared zip")
    shoot(page, frame, artifacts / "records-prepared.png")

    with page.expect_download() as downloading:
        download.click()
    saved = tmp_path / "prepared.zip"
    downloading.value.save_as(saved)
    (person,) = read_export(saved).data["people"]
    assert person["profile"]["sub"] == world.sub

"""The educator's catalog in the LMS iframe: browse, filter, open a credential; axe-core on
every catalog page (issue 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db import get_db
from tests.browser.accessibility import assert_no_violations
from tests.browser.test_launch_in_iframe import act_as, open_activity
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

MATH_STACK = "Mathematics Teaching Practices, Grades 3\N{EN DASH}5"


def test_educator_browses_filters_and_opens_a_credential(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    act_as(page, live, "Jordan Lee")
    frame = open_activity(page, "Microcred: welcome")
    tool = page.frame_locator("iframe.tool")
    tool.get_by_role("link", name="Browse micro-credentials").click()
    expect(tool.get_by_role("heading", level=1)).to_have_text("Micro-credentials")
    expect(tool.get_by_role("heading", level=2)).to_have_text("10 micro-credentials")
    assert_no_violations(frame, "the catalog")
    page.screenshot(path=str(artifacts / "catalog.png"), full_page=True)

    tool.get_by_label("Stack").select_option(label=MATH_STACK)
    tool.get_by_role("button", name="Show").click()
    expect(tool.get_by_role("heading", level=2)).to_have_text("2 micro-credentials")

    tool.get_by_role("link", name="Fraction Foundations: Number-Line Reasoning").click()
    expect(tool.get_by_role("heading", level=1)).to_have_text(
        "Fraction Foundations: Number-Line Reasoning"
    )
    expect(tool.get_by_role("heading", name="How it is judged")).to_be_visible()
    assert_no_violations(frame, "a credential's page")
    page.screenshot(path=str(artifacts / "catalog-credential.png"), full_page=True)

    tool.get_by_role("link", name=MATH_STACK).click()
    expect(tool.get_by_role("heading", level=1)).to_have_text(MATH_STACK)
    assert_no_violations(frame, "a stack's page")

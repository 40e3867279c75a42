"""A page left open does not lose its session without warning (issue 28 item 15, WCAG 2.2.1
Timing Adjustable). A launch's token lasts two hours from the last page or save; five minutes
before, a banner at the bottom of the frame says when it ends and "Stay signed in" renews it with
one click; every link of the page then carries the fresh token. A save renews it too. When it has
lapsed anyway, the banner says what to do. The page's clock is Playwright's (``page.clock``): the
two hours pass in an instant; the tool's own clock is real, so the tokens stay valid."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_no_violations
from tests.browser.test_review import (
    TITLE,
    activity,
    open_activity,
    saved,
    shoot,
    workspace_ready,
)
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

__all__ = ["activity"]  # the fixture, shared with the review tests


def test_a_page_left_open_warns_before_its_session_lapses_and_one_click_renews_it(
    page: Page, live: LiveServers, activity: str, artifacts: Path
) -> None:
    page.clock.install()
    educator = open_activity(page, live, "Jordan Lee", activity)
    educator.get_by_role("button", name="Start this micro-credential").click()
    workspace_ready(educator)
    lapse = educator.locator("#session-lapse")
    back = educator.get_by_role("link", name="Back to the activity")

    # An hour in, a save gives the page a fresh session: no warning at what was 1 h 58.
    page.clock.fast_forward("01:00:00")
    educator.locator("#text-overview").fill("Grade 7 science; the hinge question on density.")
    saved(educator, "overview")
    page.clock.fast_forward("00:58:00")
    expect(lapse).to_have_count(0)

    # Five minutes before the save's two hours are up: the warning, where the eye is.
    page.clock.fast_forward("00:57:30")
    expect(lapse).to_be_visible()
    expect(lapse).to_have_attribute("role", "alert")
    expect(lapse).to_contain_text("Your Microcred session ends at")
    expect(lapse).to_contain_text("Anything saved is kept either way.")
    assert lapse.bounding_box() is not None
    assert_no_violations(educator, "the workspace with the session warning")
    shoot(page, educator, artifacts / "session-lapse-warning.png")

    with page.expect_response("**/api/session/refresh") as answered:
        lapse.get_by_role("button", name="Stay signed in").click()
    fresh = answered.value.json()["token"]
    expect(lapse).to_contain_text("You are still signed in")
    # Every link and form of the page carries the fresh token.
    expect(back).to_have_attribute("href", f"/activity?lt={fresh}")
    tokens = educator.evaluate(
        "() => Array.from(document.querySelectorAll('input[type=hidden][name=lt]'), (i) => i.value)"
    )
    assert tokens and set(tokens) == {fresh}
    expect(lapse).to_be_hidden()  # the confirmation goes by itself

    # Not renewed again: two hours later the banner says what to do.
    page.clock.fast_forward("02:00:30")
    expect(lapse).to_contain_text("Your Microcred session has ended")
    expect(lapse).to_contain_text("Open the activity again from your course page")
    assert_no_violations(educator, "the workspace with the session ended")

    # The links carry the fresh token, which the tool (on a real clock) still takes.
    back.click()
    expect(educator.get_by_role("heading", level=1, name=TITLE)).to_be_visible()

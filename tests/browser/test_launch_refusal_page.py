"""The page a person sees when the LMS refuses a launch and posts its OIDC error back to the
tool (canvas-as-it-is.md "One-shot launch"): the LMS's words, its code and what to do, checked
with axe. Canvas refuses a login initiation replayed after its launch was taken."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.test_launch_in_iframe import act_as, open_activity
from tests.support.live import LiveServers
from tests.support.lms import behave_like

pytestmark = pytest.mark.browser


def test_a_replayed_canvas_launch_shows_canvas_words_and_what_to_do(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    behave_like(live, "canvas")
    logins: list[str] = []

    def seen(request: Request) -> None:
        if request.url == f"{live.tool_url}/lti/login" and request.post_data:
            logins.append(request.post_data)

    page.on("request", seen)
    act_as(page, live, "Jordan Lee")
    open_activity(page, "Microcred: welcome")  # the launch behind the hint is taken
    assert len(logins) == 1

    # The same login initiation again, as a tool replaying it in a new window would.
    page.goto(f"{live.tool_url}/lti/login?{urlencode(parse_qsl(logins[0]))}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Development LMS did not send this launch"
    )
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The launch has either expired or already been consumed")
    expect(alert).to_contain_text("launch_no_longer_valid")
    expect(alert).to_contain_text("open the activity again")
    assert_accessible(page, "the page of a launch the LMS refused")
    page.screenshot(path=str(artifacts / "lms-refused-launch.png"), full_page=True)

"""An error is shown where the eye and the focus are (issue 28 item 5), inside the LMS's frame
of a school laptop (900 by 700): the page comes back at the form that was refused, the message
in view, the focus on the field to fix."""

from __future__ import annotations

import pytest
from playwright.sync_api import Frame, Locator, Page, expect

from app.db import get_db
from tests.browser.test_review import TITLE, open_activity
from tests.evidence.support import HINGE, add_activity
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

IN_VIEW = """(el) => {
  const box = el.getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight;
}"""


@pytest.fixture
def activity(live: LiveServers) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    return add_activity(live, HINGE)


def _a_link_form_far_down(page: Page, live: LiveServers, activity: str) -> tuple[Frame, Locator]:
    """The learner's workspace in the LMS's frame of a school laptop, and the "Add a link" form
    of a part far down the page."""
    page.set_viewport_size({"width": 900, "height": 700})
    frame = open_activity(page, live, "Jordan Lee", activity)
    frame.get_by_role("button", name="Start this micro-credential").click()
    expect(frame.locator("#workspace[data-autosave=on]")).to_have_count(1)
    return frame, frame.locator("form.link-form").nth(1)


def test_an_empty_link_is_refused_at_its_form_with_the_focus_on_the_address(
    page: Page, live: LiveServers, activity: str
) -> None:
    frame, form = _a_link_form_far_down(page, live, activity)
    form.get_by_role("button", name="Add the link").click()
    expect(frame.get_by_role("heading", level=1, name=TITLE)).to_have_count(1)
    message = frame.locator("form.link-form [role=alert]")
    expect(message).to_have_count(1)
    assert message.evaluate(IN_VIEW), "the message is out of sight"
    address = frame.locator("form.link-form [aria-invalid=true]")
    expect(address).to_be_focused()


def test_a_link_added_from_the_frame_is_shown_at_its_part(
    page: Page, live: LiveServers, activity: str
) -> None:
    frame, form = _a_link_form_far_down(page, live, activity)
    form.get_by_label("Web address").fill("https://docs.example.org/responses")
    form.get_by_label("Title").fill("Exit tickets")
    form.get_by_role("button", name="Add the link").click()
    added = frame.get_by_role("link", name="Exit tickets")
    expect(added).to_be_visible()
    assert added.evaluate(IN_VIEW), "the page came back somewhere else"

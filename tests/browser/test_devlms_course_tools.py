"""The development LMS's course tools in a real browser, checked with axe: the Canvas-flavoured
course page (course menu item, New assignment / Add to module, Copy this course), the copy's
confirmation and result, the Deep Linking return pages (added, refused, cancelled), and Moodle's
More → LTI External tools with its "Show in activity chooser" switch."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_no_violations
from tests.browser.test_launch_in_iframe import COURSE, act_as
from tests.support.live import LiveServers
from tests.support.lms import LmsUser, deep_link_path, only_tool_id, set_flavour
from tests.support.registration import register
from tests.support.tokens import DL, deep_linking_response

pytestmark = pytest.mark.browser

ITEM = {
    "type": "ltiResourceLink",
    "title": "Questioning",
    "custom": {"microcred_credential": "questioning", "microcred_version": "latest"},
    "lineItem": {"scoreMaximum": 40, "label": "Questioning", "resourceId": "questioning"},
}


def post_return(page: Page, live: LiveServers, items: list[dict], **changes) -> None:
    """Post a forged Deep Linking response to the LMS from the browser, as the tool's
    auto-submitting form does, for a New assignment request."""
    teacher = LmsUser(live, "maria.alvarez@example.edu")
    claims = teacher.id_token_claims(
        deep_link_path(teacher.course_id(), only_tool_id(live), "assignment_selection")
    )
    token = deep_linking_response(live, claims, items, **changes)
    url = claims[DL + "deep_linking_settings"]["deep_link_return_url"]
    page.set_content(
        f'<form method="post" action="{escape(url)}">'
        f'<input type="hidden" name="JWT" value="{escape(token)}"><button>Send</button></form>'
    )
    page.get_by_role("button", name="Send").click()


def test_canvas_course_page_and_course_copy_are_accessible(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    set_flavour(live, "canvas")
    act_as(page, live, "Maria Alvarez")
    page.get_by_role("link", name=COURSE).click()
    expect(page.get_by_role("link", name="Micro-credentials")).to_be_visible()
    expect(page.get_by_role("link", name="New assignment from Microcred")).to_be_visible()
    expect(page.get_by_role("link", name="Add to module from Microcred")).to_be_visible()
    assert_no_violations(page, "the Canvas-flavoured course page (instructor)")

    page.get_by_role("link", name="New assignment from Microcred").click()
    expect(page.get_by_role("heading", name="New assignment: choose what it is")).to_be_visible()
    assert_no_violations(page, "the course page with the New assignment screen open")

    page.get_by_role("link", name="Micro-credentials").click()
    expect(page.locator("iframe.tool")).to_have_attribute("title", "Micro-credentials")
    assert_no_violations(page, "the course page with the course menu item open")

    page.get_by_role("link", name="Copy this course").click()
    expect(page.get_by_role("heading", name="Copy this course?")).to_be_visible()
    assert_no_violations(page, "the course copy confirmation")
    page.get_by_role("button", name="Copy the course").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{COURSE} (copy)")
    expect(page.get_by_role("status")).to_contain_text("This course is a copy of")
    assert_no_violations(page, "the copied course's page")
    page.screenshot(path=str(artifacts / "devlms-course-copy.png"), full_page=True)


def test_deep_linking_return_pages_are_accessible(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    set_flavour(live, "canvas")
    post_return(page, live, [ITEM])
    expect(page.get_by_role("heading", level=1)).to_have_text("Created 1 assignment")
    assert_no_violations(page, "the Deep Linking return page (assignment created)")
    page.screenshot(path=str(artifacts / "devlms-deep-linking-added.png"), full_page=True)

    post_return(page, live, [ITEM, dict(ITEM, title="Another")])
    expect(page.get_by_role("alert")).to_contain_text("accepts one item")
    assert_no_violations(page, "the Deep Linking return page (two items refused)")

    post_return(page, live, [], **{DL + "msg": "No credential was chosen."})
    expect(page.get_by_role("heading", level=1)).to_have_text("Nothing was added")
    expect(page.get_by_role("status")).to_have_text(
        re.compile("Message from the tool: No credential was chosen.")
    )
    assert_no_violations(page, "the Deep Linking return page (cancelled)")


def test_a_teacher_shows_a_registered_tool_in_the_activity_chooser(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    """Moodle 4.3+: a tool added by Dynamic Registration is in no activity chooser until the
    course turns on "Show in activity chooser" under More → LTI External tools."""
    client_id = register(live, "moodle", client_name="Registered tool")["client_id"]
    admin = LmsUser(live, "alex.admin@example.edu")
    tools = admin.http.get(f"{live.devlms_url}/admin/lti-tools", timeout=30).text
    tool_id = re.search(rf'id="tool-{client_id}".*?/admin/lti-tools/(\d+)/activate', tools, re.S)
    assert tool_id
    admin.http.post(f"{live.devlms_url}/admin/lti-tools/{tool_id.group(1)}/activate", timeout=30)

    act_as(page, live, "Maria Alvarez")
    page.get_by_role("link", name=COURSE).click()
    expect(page.get_by_role("link", name="Add an activity from Microcred")).to_be_visible()
    expect(page.get_by_text("Registered tool")).to_have_count(0)

    page.get_by_text("More", exact=True).click()
    page.get_by_role("link", name="LTI External tools").click()
    expect(page.get_by_role("heading", level=1, name="LTI External tools")).to_be_visible()
    switch = page.get_by_role("switch", name="Show in activity chooser Registered tool")
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(page.get_by_role("switch", name="Show in activity chooser Microcred")).to_have_attribute(
        "aria-checked", "true"
    )
    assert_no_violations(page, "the course's LTI External tools page")
    switch.click()
    expect(
        page.get_by_role("switch", name="Show in activity chooser Registered tool")
    ).to_have_attribute("aria-checked", "true")
    page.screenshot(path=str(artifacts / "devlms-lti-external-tools.png"), full_page=True)

    page.get_by_role("link", name="EDU-101").click()
    expect(page.get_by_role("link", name="Add an activity from Registered tool")).to_be_visible()
    assert_no_violations(page, "the Moodle-flavoured course page (instructor)")

"""The first launch in a real browser: pick a person in the development LMS, open the course,
click an activity, and the tool's page appears inside the LMS's iframe after the whole LTI 1.3
flow (login initiation, OIDC auth, form_post of the id_token). Both pages are checked with axe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, expect

from app.db import get_db
from tests.browser.accessibility import assert_accessible
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

COURSE = "Teaching with Evidence"


def act_as(page: Page, live: LiveServers, name: str, at: str | None = None) -> None:
    """Sign in to the development LMS the way a person does: the "Act as" switcher; on the
    origin ``at`` (one of the development LMS's, its own by default)."""
    page.goto(f"{at or live.devlms_url}/")
    switcher = page.get_by_label("Act as")
    option = switcher.locator("option", has_text=name)
    expect(option).to_have_count(1)
    switcher.select_option(value=option.get_attribute("value"))
    page.get_by_role("button", name="Switch user").click()
    expect(page.locator("header .who")).to_have_text(f"Signed in as {name}")


def open_activity(page: Page, activity: str) -> Frame:
    """From the LMS home page, open the course and launch an activity; return the tool's frame
    once the tool's page is showing in it."""
    page.get_by_role("link", name=COURSE).click()
    expect(page.get_by_role("heading", level=1, name=COURSE)).to_be_visible()
    page.get_by_role("link", name=activity, exact=True).click()
    expect(page).to_have_url(re.compile(r"/courses/\d+\?open=\d+$"))

    iframe = page.locator("iframe.tool")
    expect(iframe).to_have_attribute("title", activity)
    tool = page.frame_locator("iframe.tool")
    expect(tool.get_by_role("heading", level=1, name=re.compile(r"^Welcome, "))).to_be_visible()

    handle = iframe.element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None, "the iframe has no document"
    frame.wait_for_load_state("load")
    return frame


def check_launched(page: Page, live: LiveServers, *, name: str, role: str, activity: str) -> Frame:
    frame = open_activity(page, activity)
    # The launch POST answers 303 to the home page, which carries the session token, not a cookie.
    assert re.match(rf"{re.escape(live.tool_url)}/activity\?lt=[\w.-]+$", frame.url), frame.url

    tool = page.frame_locator("iframe.tool")
    expect(tool.get_by_role("heading", level=1)).to_have_text(f"Welcome, {name}")
    expect(tool.locator('dd[data-field="name"]')).to_have_text(name)
    expect(tool.locator('dd[data-field="role"]')).to_have_text(role)
    expect(tool.locator('dd[data-field="course"]')).to_have_text(COURSE)
    expect(tool.locator('dd[data-field="resource-link"]')).to_have_text(activity)
    return frame


def test_learner_launches_welcome_in_iframe(page: Page, live: LiveServers, artifacts: Path) -> None:
    act_as(page, live, "Jordan Lee")
    frame = check_launched(
        page, live, name="Jordan Lee", role="Learner", activity="Microcred: welcome"
    )

    assert_accessible(frame, "the tool's launch page inside the LMS iframe (learner)")
    assert_accessible(page, "the development LMS course page with the tool open (learner)")
    page.screenshot(path=str(artifacts / "launch-in-iframe.png"), full_page=True)


def test_instructor_launches_graded_activity_in_iframe(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    """The demo's graded activity stands for a sample catalog credential (its custom parameters,
    as Deep Linking makes them): the instructor lands on it, with who has opened it."""
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    activity = "Micro-credential: Formative Assessment"
    act_as(page, live, "Maria Alvarez")
    page.get_by_role("link", name=COURSE).click()
    page.get_by_role("link", name=activity, exact=True).click()
    tool = page.frame_locator("iframe.tool")
    expect(tool.get_by_role("heading", level=1)).to_have_text("Formative Assessment Practitioner")
    expect(tool.get_by_role("link", name="Who has opened it")).to_be_visible()

    handle = page.locator("iframe.tool").element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    assert_accessible(frame, "the graded activity's credential inside the LMS iframe (instructor)")
    assert_accessible(page, "the development LMS course page with the tool open (instructor)")
    page.screenshot(path=str(artifacts / "launch-in-iframe-instructor.png"), full_page=True)


def test_tool_page_in_iframe_is_styled(page: Page, live: LiveServers) -> None:
    failed: list[str] = []
    page.on(
        "response",
        lambda r: (
            failed.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    act_as(page, live, "Jordan Lee")
    frame = check_launched(
        page, live, name="Jordan Lee", role="Learner", activity="Microcred: welcome"
    )

    assert failed == [], "requests failed while launching:\n" + "\n".join(failed)
    topbar = frame.locator(".topbar")
    expect(topbar).to_have_css("background-color", "rgb(31, 95, 168)")  # --brand in microcred.css

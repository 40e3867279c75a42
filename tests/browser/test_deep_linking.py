"""Deep Linking in a real browser (issue 7): an instructor, on the development LMS's course page,
adds two micro-credentials through Microcred's picker; the LMS's gradebook shows two new columns
with their labels and points; a learner launches one of the new activities and lands on its
credential. Run in both flavours, since the add screens differ (Moodle: "Add an activity",
``select_content``; Canvas: "Add to module", ``link_selection``). The picker is checked with axe
and kept as screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Frame, FrameLocator, Page, expect

from app.db import get_db
from tests.browser.accessibility import assert_no_violations
from tests.browser.test_launch_in_iframe import COURSE, act_as
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers
from tests.support.lms import set_flavour

pytestmark = pytest.mark.browser

QUESTIONING = "Questioning to Check for Understanding"
FRACTIONS = "Fraction Foundations: Number-Line Reasoning"

# The add screen that takes several items at once, per flavour (Canvas's "New assignment"
# takes one; see app/devlms/placements.py).
ADD_SCREENS = {"moodle": "Add an activity", "canvas": "Add to module"}


def tool_frame(page: Page) -> FrameLocator:
    return page.frame_locator("iframe.tool")


def open_picker(page: Page, live: LiveServers, flavour: str) -> FrameLocator:
    """As the instructor, open the course and the add screen that takes several items."""
    act_as(page, live, "Maria Alvarez")
    page.get_by_role("link", name=COURSE).click()
    page.get_by_role("link", name=f"{ADD_SCREENS[flavour]} from Microcred").click()
    tool = tool_frame(page)
    expect(tool.get_by_role("heading", level=1)).to_have_text(f"Add micro-credentials to {COURSE}")
    return tool


def picker_frame(page: Page) -> Frame:
    handle = page.locator("iframe.tool").element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_load_state("load")
    return frame


def screenshot(page: Page, path: Path) -> None:
    """Save the whole page with the tool's frame grown to its content, so the picker is seen
    entire (the LMS gives the frame a fixed height and a scroll bar)."""
    frame = picker_frame(page)
    height = frame.evaluate("() => document.documentElement.scrollHeight")
    page.locator("iframe.tool").evaluate("(el, h) => { el.style.height = h + 'px'; }", height)
    page.screenshot(path=str(path), full_page=True)
    page.locator("iframe.tool").evaluate("(el) => { el.style.height = ''; }")


@pytest.fixture
def catalog(live: LiveServers) -> None:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_instructor_adds_two_credentials_and_a_learner_lands_on_one(
    page: Page, live: LiveServers, artifacts: Path, catalog: None, flavour: str
) -> None:
    set_flavour(live, flavour)
    tool = open_picker(page, live, flavour)
    expect(tool.get_by_role("heading", level=2, name="10 micro-credentials")).to_be_visible()
    assert_no_violations(picker_frame(page), f"the Deep Linking picker ({flavour})")
    screenshot(page, artifacts / f"deep-linking-picker-{flavour}.png")

    count = tool.locator("#chosen-count")
    expect(count).to_have_text("None chosen yet: tick the ones to add above.")
    tool.get_by_label(QUESTIONING).check()
    expect(count).to_have_text("1 micro-credential chosen")
    tool.get_by_label("Points").fill("40")
    # A search keeps what was ticked (and the points), listed above the new results.
    tool.get_by_label("Search").fill("fraction")
    tool.get_by_role("button", name="Show").click()
    expect(tool.get_by_role("heading", level=2, name="1 micro-credential matching")).to_be_visible()
    expect(tool.get_by_role("heading", name="Chosen before this search")).to_be_visible()
    expect(tool.get_by_label(QUESTIONING)).to_be_checked()
    tool.get_by_label(FRACTIONS).check()
    expect(count).to_have_text("2 micro-credentials chosen")
    expect(tool.get_by_label("Points")).to_have_value("40")
    assert_no_violations(picker_frame(page), f"the picker after a search ({flavour})")
    screenshot(page, artifacts / f"deep-linking-picker-chosen-{flavour}.png")
    tool.get_by_role("button", name="Add the chosen micro-credentials").click()

    # The tool's signed answer is posted to the LMS, which says what it created.
    expect(tool.get_by_role("heading", level=1)).to_have_text("Added 2 activities")
    expect(tool.get_by_role("listitem")).to_have_text(
        [
            # In the order the picker listed them: the earlier choice first.
            f"{QUESTIONING}: gradebook column “{QUESTIONING}”, out of 40",
            f"{FRACTIONS}: gradebook column “{FRACTIONS}”, out of 40",
        ]
    )
    # The course page around the frame lists them at once, as Moodle's and Canvas's do once
    # their dialog closes (issue 28 item 14: it showed the list from before until a reload).
    activities = page.locator("#course-activities")
    expect(activities.get_by_role("link", name=QUESTIONING, exact=True)).to_be_visible()
    expect(activities.get_by_role("link", name=FRACTIONS, exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts / f"deep-linking-added-{flavour}.png"), full_page=True)

    page.get_by_role("link", name="Gradebook").click()
    headers = page.get_by_role("columnheader")
    # The column header names its points (and, in Canvas flavour, Canvas's score rules).
    expect(headers.filter(has_text=QUESTIONING)).to_contain_text(f"{QUESTIONING} / 40")
    expect(headers.filter(has_text=FRACTIONS)).to_contain_text(f"{FRACTIONS} / 40")
    page.screenshot(path=str(artifacts / f"deep-linking-gradebook-{flavour}.png"), full_page=True)

    act_as(page, live, "Jordan Lee")
    page.get_by_role("link", name=COURSE).click()
    page.get_by_role("link", name=FRACTIONS, exact=True).click()
    expect(page).to_have_url(re.compile(r"/courses/\d+\?open=\d+$"))
    learner = tool_frame(page)
    expect(learner.get_by_role("heading", level=1)).to_have_text(FRACTIONS)
    asked = learner.get_by_text("Your course asks you to earn this micro-credential.")
    expect(asked).to_be_visible()
    screenshot(page, artifacts / f"deep-linking-learner-{flavour}.png")


def test_a_search_that_finds_nothing_says_so_and_offers_the_whole_list(
    page: Page, live: LiveServers, artifacts: Path, catalog: None
) -> None:
    tool = open_picker(page, live, "moodle")
    tool.get_by_label(QUESTIONING).check()
    tool.get_by_label("Points").fill("25")
    tool.get_by_label("Search").fill("underwater basket weaving")
    tool.get_by_role("button", name="Show").click()
    expect(tool.get_by_text("Nothing matches “underwater basket weaving”")).to_be_visible()
    expect(tool.locator("#chosen-count")).to_have_text("1 micro-credential chosen")
    assert_no_violations(picker_frame(page), "the picker with nothing found")
    screenshot(page, artifacts / "deep-linking-picker-nothing-found.png")

    tool.get_by_role("link", name="show all micro-credentials").click()
    expect(tool.get_by_role("heading", level=2, name="10 micro-credentials")).to_be_visible()
    expect(tool.get_by_label(QUESTIONING)).to_be_checked()
    expect(tool.get_by_label("Points")).to_have_value("25")


def test_canvas_new_assignment_takes_one_credential(
    page: Page, live: LiveServers, artifacts: Path, catalog: None
) -> None:
    """Canvas's assignment_selection accepts one item: the picker offers radio buttons."""
    set_flavour(live, "canvas")
    act_as(page, live, "Maria Alvarez")
    page.get_by_role("link", name=COURSE).click()
    page.get_by_role("link", name="New assignment from Microcred").click()
    tool = tool_frame(page)
    expect(tool.get_by_role("heading", level=1)).to_have_text(f"Add a micro-credential to {COURSE}")
    expect(tool.get_by_role("radio", name=FRACTIONS)).to_be_visible()
    assert_no_violations(picker_frame(page), "the picker for a Canvas assignment (one item)")
    tool.get_by_role("radio", name=FRACTIONS).check()
    screenshot(page, artifacts / "deep-linking-picker-canvas-assignment.png")
    tool.get_by_role("button", name="Add this micro-credential").click()
    expect(tool.get_by_role("heading", level=1)).to_have_text("Created 1 assignment")


def test_instructor_binds_an_activity_that_has_no_credential(
    page: Page, live: LiveServers, artifacts: Path, catalog: None
) -> None:
    """An activity added by hand (the demo's welcome) has no credential: its instructor is
    offered the picker in its one-credential form, and the activity then shows it."""
    act_as(page, live, "Maria Alvarez")
    page.get_by_role("link", name=COURSE).click()
    page.get_by_role("link", name="Microcred: welcome", exact=True).click()
    tool = tool_frame(page)
    tool.get_by_role("link", name="Choose the micro-credential").click()
    expect(tool.get_by_role("heading", level=1)).to_have_text(
        "Choose this activity's micro-credential"
    )
    assert_no_violations(picker_frame(page), "the picker binding an activity")
    tool.get_by_role("radio", name=QUESTIONING).check()
    screenshot(page, artifacts / "deep-linking-picker-bind.png")
    tool.get_by_role("button", name="Use this micro-credential").click()
    expect(tool.get_by_role("heading", level=1)).to_have_text(QUESTIONING)

"""The tool inside the development LMS's iframe, for the browser tests: open an activity of the
demo course and get the tool's frame; screenshot the whole page with the iframe grown to fit."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Frame, Page, expect

from tests.browser.test_launch_in_iframe import COURSE


def open_activity(page: Page, activity: str, heading: str) -> Frame:
    """From the LMS's home page, open the demo course's ``activity`` and wait for the tool's
    page titled ``heading``; return the tool's frame."""
    page.get_by_role("link", name=COURSE).click()
    page.get_by_role("link", name=activity, exact=True).click()
    tool = page.frame_locator("iframe.tool")
    expect(tool.get_by_role("heading", level=1, name=heading)).to_be_visible()
    handle = page.locator("iframe.tool").element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame


def shoot(page: Page, frame: Frame, path: Path) -> None:
    """A full-page screenshot with the LMS's iframe grown to its content, so all of the tool's
    page shows (the LMS gives the iframe a fixed height)."""
    height = frame.evaluate("() => document.documentElement.scrollHeight")
    page.evaluate(f"() => {{ document.querySelector('iframe.tool').style.height = '{height}px'; }}")
    page.screenshot(path=str(path), full_page=True)

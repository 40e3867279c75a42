"""The accessibility checker itself: it finds what it is there to find, and passes what is
clean, so a browser test that calls it can fail (its result is cut to the violations before it
leaves the browser: this shows nothing was lost)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.accessibility import assert_accessible, assert_no_violations, axe_violations

CLEAN = """<!doctype html><html lang="en"><head><title>A clean page</title></head><body>
<main><h1>Evidence</h1><h2>Lesson plan</h2><p>Some text.</p>
<label for="note">Note</label><input id="note"></main></body></html>"""

BROKEN = """<!doctype html><html lang="en"><head><title>A broken page</title></head><body>
<main><h1>Evidence</h1><h4>Skipped two levels</h4>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<input id="unlabelled"></main>
<aside>One</aside><aside>Two</aside></body></html>"""


def test_a_clean_page_passes(page: Page) -> None:
    page.set_content(CLEAN)
    assert_no_violations(page, "a clean page")


def test_every_kind_of_violation_it_checks_is_found_with_its_elements(page: Page) -> None:
    page.set_content(BROKEN)
    found = {v["id"]: v for v in axe_violations(page)}
    assert {"image-alt", "label", "heading-order", "landmark-unique"} <= set(found)
    assert "#unlabelled" in str(found["label"]["nodes"][0]["target"])
    with pytest.raises(AssertionError, match="image-alt") as refused:
        assert_accessible(page, "a broken page")
    assert "heading-order" in str(refused.value)  # a best practice, moderate by axe's measure

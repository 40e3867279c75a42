"""The course menu item of a Canvas-flavoured development LMS, launched through the tool from end
to end: the LtiResourceLinkRequest targets the catalog, and the tool opens it."""

from __future__ import annotations

from tests.support.lms import LmsUser, set_flavour


def test_course_menu_item_opens_the_catalog_in_the_tool(live):
    set_flavour(live, "canvas")
    page = LmsUser(live, "jordan.lee@example.edu").open_course_menu_item()
    assert page.status_code == 200, page.text
    assert page.url.startswith(f"{live.tool_url}/catalog")
    assert '<h1 id="catalog-title">Micro-credentials</h1>' in page.text

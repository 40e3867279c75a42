"""A visible keyboard focus on every kind of control (issue 28 item 15; WCAG 2.4.7 and 1.4.11):
an outline at least 2 px wide whose colour has a contrast of at least 3:1 with the colour
around it. axe does not check this. Each control is reached with the keyboard (Tab), so the
browser applies ``:focus-visible`` as it does for a person."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.db import get_db
from tests.browser.test_operator_console import EMAIL, PASSWORD, _create_operator
from tests.evidence.support import HINGE, add_activity
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

# The focused element's outline (or, for a radio or checkbox drawn inside a large label, the
# label's), its colour, and the first opaque background behind it.
FOCUS_RING = """() => {
  const el = document.activeElement;
  const ringOf = (node) => {
    const s = getComputedStyle(node);
    return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0 ? s : null;
  };
  let owner = el, ring = ringOf(el);
  if (!ring && el.closest("label")) { owner = el.closest("label"); ring = ringOf(owner); }
  let back = owner.parentElement, bg = "rgba(0, 0, 0, 0)";
  while (back) {
    bg = getComputedStyle(back).backgroundColor;
    if (!bg.startsWith("rgba(0, 0, 0, 0)") && !bg.endsWith(", 0)")) break;
    back = back.parentElement;
    bg = "rgb(255, 255, 255)";
  }
  return {
    what: el.tagName.toLowerCase() + (el.type ? "[" + el.type + "]" : "") + " " +
      (el.id || el.name || el.textContent.trim().slice(0, 30)),
    width: ring ? parseFloat(ring.outlineWidth) : 0,
    color: ring ? ring.outlineColor : null,
    background: bg,
  };
}"""


def _luminance(css: str) -> float:
    parts = [float(p) for p in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(p) for p in parts)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    a, b = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def assert_every_focus_visible(page: Page, stops: int) -> set[str]:
    """Tab through ``stops`` controls from the top; each must show a ring of 3:1 or more.
    Return the kinds of control met."""
    page.locator("body").focus()
    kinds: set[str] = set()
    for _ in range(stops):
        page.keyboard.press("Tab")
        found = page.evaluate(FOCUS_RING)
        if found["what"].startswith("body"):
            break
        kinds.add(found["what"].split(" ")[0])
        assert found["width"] >= 2, found
        assert contrast(found["color"], found["background"]) >= 3, found
    return kinds


def test_the_consoles_controls_show_their_focus(page: Page, live: LiveServers) -> None:
    _create_operator(live)
    page.goto(f"{live.tool_url}/admin/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Registration links", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration links")
    kinds = assert_every_focus_visible(page, stops=40)
    assert {"a", "input[text]", "input[radio]", "input[checkbox]", "button[submit]"} <= kinds


def test_the_review_pages_controls_show_their_focus(
    page: Page, live: LiveServers, activity: str
) -> None:
    from tests.evidence.support import INSTRUCTOR, LEARNER, launch
    from tests.grading.support import claim, submitted

    attempt = submitted(launch(live, LEARNER, activity))
    page.goto(claim(launch(live, INSTRUCTOR, activity), attempt).url)
    kinds = assert_every_focus_visible(page, stops=60)
    assert {"a", "input[radio]", "textarea[textarea]", "button[submit]"} <= kinds


def test_the_workspaces_controls_show_their_focus(
    page: Page, live: LiveServers, activity: str
) -> None:
    from tests.evidence.support import LEARNER, launch, start

    educator = launch(live, LEARNER, activity)
    workspace = start(educator, HINGE)
    page.goto(workspace.url)
    kinds = assert_every_focus_visible(page, stops=60)
    assert {"a", "textarea[textarea]", "button[submit]"} <= kinds


@pytest.fixture
def activity(live: LiveServers) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    return add_activity(live, HINGE)

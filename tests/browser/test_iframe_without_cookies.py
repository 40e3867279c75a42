"""Launches in a real browser where the tool is a third party inside the LMS's iframe
(LTI-CHECKLIST C, J): the LMS on ``localhost``, the tool on ``127.0.0.1``, third-party cookies
blocked. The state cookie never comes back, so the launch bridge must prove the browser:

- Canvas: through the LMS's platform storage (postMessage), inside the iframe;
- Moodle (no platform storage) and Canvas's mobile app (announces storage, never answers):
  through the frame's session storage where the browser partitions it, else through the
  "Open in a new window" page.

The new window starts a *fresh* launch at the LMS, since message hints are single use
(reference/moodle-as-it-is.md item 1, canvas-as-it-is.md "One-shot launch"): Moodle's activity
launch page, Canvas's requestFullWindowLaunch; then the activity works there. Inside the iframe,
links and a form of the tool work on the session token alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect
from playwright.sync_api import Error as PlaywrightError

from app.devlms.api import STORAGE_LISTEN_DELAY
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, fresh_page
from tests.browser.test_launch_in_iframe import act_as
from tests.support.lms import behave_like

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def strict_browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"],
    )
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def page(strict_browser: Browser) -> Iterator[Page]:
    with fresh_page(strict_browser) as new:
        yield new


def _proofs(page: Page) -> list[str]:
    """Record how each launch was proven (the bridge's confirm posts)."""
    methods: list[str] = []

    def seen(request) -> None:
        if request.url.endswith("/lti/launch/confirm") and request.post_data:
            found = re.search(r"method=(\w*)", request.post_data)
            methods.append(found.group(1) if found else "")

    page.on("request", seen)
    return methods


def _open(page: Page, live, activity: str = "Microcred: welcome") -> None:
    page.get_by_role("link", name="Teaching with Evidence").click()
    page.get_by_role("link", name=activity, exact=True).click()


def _partitioned_storage(page: Page, live) -> bool:
    """Whether this browser gives a third-party iframe session storage (it partitions it)."""
    page.goto(f"{live.devlms_url}/")
    page.evaluate(
        """url => new Promise(done => {
        const frame = document.createElement("iframe");
        frame.onload = done; frame.src = url; document.body.appendChild(frame); })""",
        f"{live.tool_url}/",
    )
    probe = "() => { try { sessionStorage.setItem('x', '1'); return true }"
    probe += " catch (e) { return false } }"
    return bool(page.frames[-1].evaluate(probe))


def _session_works_inside(frame_page, live) -> None:
    """Follow two of the tool's links and post its form, all inside the frame."""
    expect(frame_page.locator('dd[data-field="name"]')).to_have_text("Jordan Lee")
    frame_page.get_by_role("link", name="Your profile").click()
    expect(frame_page.get_by_role("heading", level=1)).to_have_text("Your profile")
    frame_page.get_by_label("Name on your badges").fill("Jordan A. Lee")
    frame_page.get_by_role("button", name="Save").click()
    expect(frame_page.get_by_role("status")).to_contain_text("Saved")
    expect(frame_page.get_by_label("Name on your badges")).to_have_value("Jordan A. Lee")
    frame_page.get_by_role("link", name="Back to the start").click()
    expect(frame_page.locator('dd[data-field="name"]')).to_have_text("Jordan Lee")


def test_canvas_platform_storage_proves_the_launch_inside_the_iframe(
    page, live_cross_site, artifacts
):
    live = live_cross_site
    behave_like(live, "canvas")
    proofs = _proofs(page)
    act_as(page, live, "Jordan Lee")
    _open(page, live)
    tool = page.frame_locator("iframe.tool")
    expect(tool.get_by_role("heading", level=1)).to_have_text("Welcome, Jordan Lee")
    assert proofs == ["platform_storage"]
    # Canvas keeps platform storage in the course page's localStorage with no expiry and
    # clears a key only on put_data without a value (lti.put_data.ts): a proof read back
    # is cleared, or each launch would leave one behind for good.
    kept = page.evaluate(
        "Object.keys(window.localStorage).filter(k => k.startsWith('lti|platform_storage|'))"
    )
    assert kept == []
    _session_works_inside(tool, live)
    page.screenshot(path=str(artifacts / "canvas-platform-storage.png"), full_page=True)


def test_canvas_platform_storage_proves_the_launch_when_its_frame_listens_late(
    page, live_cross_site
):
    """The course page loads Canvas's storage frame beside the tool's iframe: on a busy laptop
    the tool's first message can reach it before its script listens, and is lost. The tool asks
    again until an answer comes (within its wait), so the launch is still proven by platform
    storage, not by the partitioned session storage that Safari and a Canvas mobile app lack."""
    live = live_cross_site
    behave_like(live, "canvas")
    live.devlms.config[STORAGE_LISTEN_DELAY] = 1500
    proofs = _proofs(page)
    act_as(page, live, "Jordan Lee")
    _open(page, live)
    tool = page.frame_locator("iframe.tool")
    expect(tool.get_by_role("heading", level=1)).to_have_text("Welcome, Jordan Lee")
    assert proofs == ["platform_storage"]


def _new_window_offer(page: Page, live, flavour: str):
    """Open the welcome activity in the frame of a browser that keeps nothing for the tool
    there; return the frame, showing the new-window offer (``None`` when this browser
    partitions the frame's storage, so the launch was proven inside the frame instead)."""
    behave_like(live, flavour)
    partitioned = _partitioned_storage(page, live)
    proofs = _proofs(page)
    act_as(page, live, "Jordan Lee")
    _open(page, live)
    tool = page.frame_locator("iframe.tool")
    if partitioned:  # the frame's own session storage carries the proof
        expect(tool.get_by_role("heading", level=1)).to_have_text("Welcome, Jordan Lee")
        assert proofs == ["session_storage"]
        _session_works_inside(tool, live)
        return None
    expect(tool.get_by_role("heading", level=1)).to_have_text("Microcred needs its own window")
    assert proofs == [""]  # the frame had no proof to give
    return tool


def _navigations(page: Page) -> list[str]:
    """Record the top-level pages every window of this browser loads."""
    seen: list[str] = []

    def record(request) -> None:
        if not request.is_navigation_request():
            return
        try:
            framed = request.frame.parent_frame is not None
        except PlaywrightError:  # a new window's first request is made before its frame
            framed = False
        if not framed:
            seen.append(request.url)

    page.context.on("request", record)
    return seen


def test_moodle_new_window_starts_a_fresh_launch_from_the_activitys_launch_page(
    page, live_cross_site, artifacts
):
    live = live_cross_site
    navigations = _navigations(page)
    tool = _new_window_offer(page, live, "moodle")
    if tool is None:
        return
    offer = tool.get_by_role("link", name="Open Microcred in a new window")
    page.screenshot(path=str(artifacts / "moodle-new-window-offer.png"), full_page=True)
    with page.context.expect_page() as opened:
        offer.click()
    window = opened.value
    expect(window.get_by_role("heading", level=1)).to_have_text("Welcome, Jordan Lee")
    launch_page = f"{live.devlms_url}/mod/lti/launch.php?id="
    assert any(url.startswith(launch_page) for url in navigations), navigations
    _session_works_inside(window, live)
    window.screenshot(path=str(artifacts / "moodle-new-window.png"), full_page=True)


def test_canvas_new_window_starts_a_fresh_launch_by_request_full_window_launch(
    page, live_cross_site, artifacts
):
    """Canvas's platform storage handler does not load (Canvas loads each message's handler
    on its own, lazily: ui/shared/lti/jquery/messages.ts), so the frame gets no storage and no
    proof; the offer's button asks the course page for a full-window launch."""
    live = live_cross_site
    page.route("**/devlms-static/devlms/platform-storage.js", lambda route: route.abort())
    navigations = _navigations(page)
    tool = _new_window_offer(page, live, "canvas")
    if tool is None:
        return
    offer = tool.get_by_role("button", name="Open Microcred in a new window")
    page.screenshot(path=str(artifacts / "canvas-new-window-offer.png"), full_page=True)
    with page.context.expect_page() as opened:
        offer.click()
    window = opened.value
    expect(window.get_by_role("heading", level=1)).to_have_text("Welcome, Jordan Lee")
    expect(tool.get_by_role("status")).to_contain_text("opened Microcred in a new window")
    retrieve = f"{live.devlms_url}/courses/"
    assert any(retrieve in url and "/external_tools/retrieve?" in url for url in navigations)
    _session_works_inside(window, live)
    window.screenshot(path=str(artifacts / "canvas-new-window.png"), full_page=True)


def test_canvas_mobile_offer_says_what_to_do_when_no_window_opens(page, live_cross_site, artifacts):
    """Canvas's mobile apps answer no postMessage: the button's request goes unanswered, and
    the page says so and what to do instead."""
    live = live_cross_site
    tool = _new_window_offer(page, live, "canvas_mobile")
    if tool is None:
        return
    tool.get_by_role("button", name="Open Microcred in a new window").click()
    expect(tool.get_by_role("status")).to_contain_text("did not open a new window")
    back = tool.get_by_role("link", name="Back to the course")
    expect(back).to_be_visible()
    course_id = page.url.split("/courses/", 1)[1].split("?", 1)[0]
    expect(back).to_have_attribute("href", f"{live.devlms_url}/courses/{course_id}")
    page.screenshot(path=str(artifacts / "canvas_mobile-new-window-offer.png"), full_page=True)


@pytest.fixture
def school_site(live_cross_site) -> Iterator[str]:
    """The development LMS's course pages also served on 127.0.0.5: a third site, as a hosted
    Canvas school's own host is neither the issuer's nor the authorization endpoint's."""
    from app.serve import make_server
    from tests.support.serving import serving

    server = make_server("127.0.0.5", 0, live_cross_site.devlms)
    with serving(server):
        yield f"http://127.0.0.5:{server.server_port}"


def test_a_canvas_course_page_on_the_schools_own_host_frames_the_tool(
    page, live_cross_site, school_site, artifacts
):
    """canvas-as-it-is.md, "Framing of the first launch": the issuer and the sso host
    (localhost here) are not where the course page is (127.0.0.5), and no registration names
    that host before its first launch. The login must load in that frame, the authorization
    is finished on the school's host, platform storage answers from its sibling frame on the
    sso host, and the tool's pages after the launch may be framed there."""
    live = live_cross_site
    behave_like(live, "canvas")
    proofs = _proofs(page)
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "frame-ancestors" in m.text else None)
    school = LiveSchool(live, school_site)
    act_as(page, school, "Jordan Lee")
    _open(page, school)
    assert page.url.startswith(school_site)
    tool = page.frame_locator("iframe.tool")
    expect(tool.get_by_role("heading", level=1)).to_have_text("Welcome, Jordan Lee")
    assert proofs == ["platform_storage"]
    _session_works_inside(tool, live)
    assert blocked == []
    page.screenshot(path=str(artifacts / "canvas-school-host.png"), full_page=True)


class LiveSchool:
    """``live`` with the LMS's pages at the school's host (what ``act_as`` opens)."""

    def __init__(self, live, school_url: str) -> None:
        self.tool, self.devlms, self.tool_url = live.tool, live.devlms, live.tool_url
        self.devlms_url = school_url

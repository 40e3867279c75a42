"""Dynamic Registration in a real browser, from the development LMS's side: a site
administrator pastes a tool's registration URL, the tool's page runs in the LMS's iframe and
ends with the ``org.imsglobal.lti.close`` message, and the tool list shows the new tool.

The first tests use a stand-in registration page served by the test, to pin down the LMS's side
(including a close message from a foreign origin, which Microcred never sends); the last ones
run Microcred's own registration and then launch it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pytest
import requests
from flask import Flask, request
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevCourse, DevLink, DevTool
from app.lti import registration_links
from app.serve import make_server
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import fresh_page
from tests.browser.test_launch_in_iframe import act_as, open_activity
from tests.support.live import LiveServers
from tests.support.registration import client_registration
from tests.support.serving import start_serving, stop_serving

pytestmark = pytest.mark.browser

CLOSE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Registered</title></head><body><main><h1>{title}</h1>
<button type="button" id="close">Back to the LMS</button>
<script>
document.getElementById("close").addEventListener("click", function () {{
  window.parent.postMessage({{subject: "org.imsglobal.lti.close"}}, {target});
}});
</script></main></body></html>"""


@dataclass
class StandInTool:
    port: int

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}"


@pytest.fixture
def stand_in_tool(live: LiveServers) -> Iterator[StandInTool]:
    """A tool's registration page: it fetches the LMS's configuration, registers, then offers
    to close the frame. ``/elsewhere`` is the same closing page without registering."""
    app = Flask(__name__)

    @app.get("/register")
    def register() -> str:
        token = request.args["registration_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        configuration = requests.get(
            request.args["openid_configuration"], headers=bearer, timeout=30
        ).json()
        answer = requests.post(
            configuration["registration_endpoint"],
            json=client_registration(live, client_name="Stand-in tool"),
            headers=bearer,
            timeout=30,
        )
        answer.raise_for_status()
        title = f"Registered with client id {answer.json()['client_id']}"
        return CLOSE_PAGE.format(title=escape(title), target='"*"')

    @app.get("/elsewhere")
    def elsewhere() -> str:
        return CLOSE_PAGE.format(title="Another origin", target='"*"')

    server = make_server("127.0.0.1", 0, app)
    thread = start_serving(server)
    try:
        yield StandInTool(port=server.server_port)
    finally:
        stop_serving(server, thread)


def open_site_administration(page: Page, live: LiveServers, at: str | None = None) -> None:
    act_as(page, live, "Alex Admin", at)
    page.get_by_role("link", name="Site administration").click()
    expect(page.get_by_role("heading", level=1, name="LTI tools")).to_be_visible()


def start_registration(page: Page, url: str, flavour: str) -> None:
    page.get_by_label("Tool's registration URL").fill(url)
    page.get_by_label(flavour).check()
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_role("heading", name="The tool's registration page")).to_be_focused()


def test_admin_registers_a_tool_and_activates_it(
    page: Page, live: LiveServers, stand_in_tool: StandInTool, artifacts: Path
) -> None:
    open_site_administration(page, live)
    assert_accessible(page, "the development LMS's LTI tools page")
    start_registration(page, f"{stand_in_tool.url()}/register", "Moodle")

    tool = page.frame_locator("#registration-frame")
    registered = tool.get_by_role("heading", name=re.compile("^Registered with client id"))
    expect(registered).to_be_visible()
    assert_accessible(page, "the LTI tools page with a registration in its iframe")
    tool.get_by_role("button", name="Back to the LMS").click()

    expect(page).to_have_url(re.compile(r"/admin/lti-tools\?registered=\w+$"))
    status = page.get_by_role("status")
    expect(status).to_contain_text("Stand-in tool registered itself")
    expect(status).to_be_focused()
    row = page.get_by_role("row", name=re.compile("Stand-in tool"))
    expect(row).to_contain_text("Pending")
    page.screenshot(path=str(artifacts / "dynamic-registration-pending.png"), full_page=True)

    row.get_by_role("button", name="Activate Stand-in tool").click()
    expect(page.get_by_role("status")).to_contain_text("Stand-in tool is active")
    expect(page.get_by_role("row", name=re.compile("Stand-in tool"))).to_contain_text("Active")


def test_close_message_from_another_origin_is_ignored(
    page: Page, live: LiveServers, stand_in_tool: StandInTool
) -> None:
    """The frame is pointed at one origin; a close message from another must not end it."""
    open_site_administration(page, live)
    # "localhost" and "127.0.0.1" are different origins for the browser, same server here.
    start_registration(page, f"{stand_in_tool.url('localhost')}/elsewhere", "Canvas")
    page.evaluate(
        "(src) => { document.getElementById('registration-frame').src = src; }",
        f"{stand_in_tool.url()}/elsewhere",
    )
    # Click only once the frame shows the other origin: under load the first page (the
    # expected origin, whose close message is honoured) may still be the one on screen.
    handle = page.locator("#registration-frame").element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_url(f"{stand_in_tool.url()}/elsewhere")
    frame.get_by_role("button", name="Back to the LMS").click()
    page.wait_for_timeout(500)
    expect(page).to_have_url(re.compile(r"/admin/lti-tools/register$"))
    expect(page.get_by_role("heading", name="The tool's registration page")).to_be_visible()


def test_admin_registers_microcred_activates_it_and_a_learner_launches_it(
    browser: Browser, page: Page, live: LiveServers, artifacts: Path
) -> None:
    """Issue 5: the operator issues a link; a Moodle admin pastes it, completes Dynamic
    Registration in the LMS's iframe (the tool's Content-Security-Policy enforced), activates
    the pending tool; a learner then launches Microcred through the new registration."""
    with get_db(live.tool).begin() as session:
        link_url = registration_links.issue(
            session, label="Development LMS (dynamic)", created_by="ops@example.org"
        ).url(live.tool_url)

    with fresh_page(browser) as admin:  # no CSP bypass: the LMS must be allowed to frame us
        open_site_administration(admin, live)
        start_registration(admin, link_url, "Moodle")
        tool = admin.frame_locator("#registration-frame")
        expect(tool.get_by_role("heading", name="Register Microcred in your LMS")).to_be_visible()
        admin.screenshot(path=str(artifacts / "dynamic-registration-consent.png"), full_page=True)
        tool.get_by_role("button", name="Register Microcred").click()
        expect(tool.get_by_role("heading", name="Microcred is registered")).to_be_visible()
        expect(tool.get_by_text("Tools pending")).to_be_visible()
        # Moodle 4.3+ keeps a registered tool out of the activity chooser: both ways out.
        expect(
            tool.get_by_role("listitem").filter(has_text="Tool configuration usage")
        ).to_be_visible()
        expect(
            tool.get_by_role("listitem").filter(has_text="More → LTI External tools")
        ).to_be_visible()
        admin.screenshot(path=str(artifacts / "dynamic-registration-done.png"), full_page=True)
        tool.get_by_role("button", name="Finish and return to the LMS").click()

        expect(admin).to_have_url(re.compile(r"/admin/lti-tools\?registered=\w+$"))
        expect(admin.get_by_role("status")).to_contain_text("Microcred registered itself")
        row = admin.get_by_role("row", name=re.compile("Microcred.*Pending"))
        row.get_by_role("button", name="Activate Microcred").click()
        expect(admin.get_by_role("status")).to_contain_text("Microcred is active")
        client_id = admin.url.split("registered=")[-1]

    # An instructor's "add activity" (Deep Linking arrives with its own issue) creates the link.
    with get_db(live.devlms).begin() as session:
        new_tool = session.scalars(
            select(DevTool).where(
                DevTool.status == "active", DevTool.registration_document.is_not(None)
            )
        ).one()
        session.add(
            DevLink(
                course_id=session.scalars(select(DevCourse.id)).one(),
                tool_id=new_tool.id,
                resource_link_id=uuid.uuid4().hex,
                title="Micro-credentials (new registration)",
            )
        )
    assert client_id

    act_as(page, live, "Jordan Lee")
    frame = open_activity(page, "Micro-credentials (new registration)")
    learner_tool = page.frame_locator("iframe.tool")
    expect(learner_tool.get_by_role("heading", level=1)).to_have_text("Welcome, Jordan Lee")
    expect(learner_tool.locator('dd[data-field="email"]')).to_have_text("jordan.lee@example.edu")
    assert_accessible(frame, "the tool launched through a dynamically registered platform")
    page.screenshot(path=str(artifacts / "dynamic-registration-launch.png"), full_page=True)


def test_canvas_admin_on_the_schools_domain_registers_microcred(
    browser: Browser, live: LiveServers, artifacts: Path
) -> None:
    """Hosted Canvas: the admin's page is on the school's domain (the account host) while the
    configuration URL is on the issuer's host. Microcred's pages must let that page frame them
    (Content-Security-Policy enforced), and the close message must reach it."""
    with get_db(live.tool).begin() as session:
        link_url = registration_links.issue(
            session, label="School Canvas (dynamic)", created_by="ops@example.org"
        ).url(live.tool_url)

    with fresh_page(browser) as admin:  # no CSP bypass
        open_site_administration(admin, live, at=live.devlms_account_url)
        start_registration(admin, link_url, "Canvas")
        tool = admin.frame_locator("#registration-frame")
        expect(tool.get_by_role("heading", name="Register Microcred in your LMS")).to_be_visible()
        tool.get_by_role("button", name="Register Microcred").click()
        expect(tool.get_by_role("heading", name="Microcred is registered")).to_be_visible()
        admin.screenshot(path=str(artifacts / "dynamic-registration-canvas.png"), full_page=True)
        tool.get_by_role("button", name="Finish and return to the LMS").click()

        tools_page = re.escape(live.devlms_account_url) + r"/admin/lti-tools\?registered=\w+$"
        expect(admin).to_have_url(re.compile(tools_page))
        expect(admin.get_by_role("status")).to_contain_text("Microcred registered itself")


def test_microcred_registration_pages_are_accessible(page: Page, live: LiveServers) -> None:
    with get_db(live.tool).begin() as session:
        link_url = registration_links.issue(
            session, label="Accessibility check", created_by="ops@example.org"
        ).url(live.tool_url)
    page.goto(f"{link_url}?openid_configuration={live.devlms_url}/x&registration_token=t")
    assert_accessible(page, "Microcred's Dynamic Registration consent page")
    page.goto(link_url)
    assert_accessible(page, "Microcred's 'paste this link into your LMS' page")
    page.goto(f"{live.tool_url}/lti/setup")
    assert_accessible(page, "Microcred's manual setup page")

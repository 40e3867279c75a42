"""Dynamic Registration in a real browser, from the development LMS's side: a site
administrator pastes a tool's registration URL, the tool's page runs in the LMS's iframe and
ends with the ``org.imsglobal.lti.close`` message, and the tool list shows the new tool.

The tool here is a stand-in registration page served by the test (the real tool's is built
separately): it does what LTI-CHECKLIST D asks a tool to do, over HTTP against the LMS."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pytest
import requests
from flask import Flask, request
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from tests.browser.accessibility import assert_accessible
from tests.browser.test_launch_in_iframe import act_as
from tests.support.live import LiveServers
from tests.support.registration import client_registration

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

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StandInTool(port=server.server_port)
    finally:
        server.shutdown()
        server.server_close()


def open_site_administration(page: Page, live: LiveServers) -> None:
    act_as(page, live, "Alex Admin")
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
    tool = page.frame_locator("#registration-frame")
    tool.get_by_role("button", name="Back to the LMS").click()
    page.wait_for_timeout(500)
    expect(page).to_have_url(re.compile(r"/admin/lti-tools/register$"))
    expect(page.get_by_role("heading", name="The tool's registration page")).to_be_visible()

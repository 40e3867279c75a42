"""The tool's Content-Security-Policy in a real browser, without any bypass: the development
LMS (a registered platform) may frame the tool; a page on an unregistered origin may not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import fresh_page
from tests.browser.test_launch_in_iframe import act_as, open_activity
from tests.support.serving import start_serving, stop_serving

pytestmark = pytest.mark.browser


@pytest.fixture
def strict_page(browser: Browser) -> Iterator[Page]:
    with fresh_page(browser) as new:  # no CSP bypass: the policy is what is tested
        yield new


def test_registered_platform_frames_the_tool_with_the_policy_enforced(strict_page, live):
    act_as(strict_page, live, "Jordan Lee")
    frame = open_activity(strict_page, "Microcred: welcome")
    expect(frame.locator('dd[data-field="name"]')).to_have_text("Jordan Lee")


def test_unregistered_origin_cannot_frame_the_tool(strict_page, live):
    tool_home = f"{live.tool_url}/"
    html = f'<!doctype html><title>Elsewhere</title><iframe src="{tool_home}"></iframe>'.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = start_serving(server)
    try:
        blocked = []
        strict_page.on(
            "console", lambda m: blocked.append(m.text) if "frame-ancestors" in m.text else None
        )
        strict_page.goto(f"http://localhost:{server.server_port}/")
        strict_page.wait_for_timeout(1500)
        frame = strict_page.frames[1] if len(strict_page.frames) > 1 else None
        shown = (
            frame is not None
            and frame.url.startswith(live.tool_url)
            and bool(re.search("Microcred", frame.content() or ""))
        )
        assert not shown, "the tool rendered inside an unregistered origin's frame"
        assert blocked, "Chromium did not report a frame-ancestors refusal"
    finally:
        stop_serving(server, thread)

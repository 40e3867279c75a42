"""Script in an uploaded SVG never executes (issue 6): a malicious SVG, sanitised on import, is
opened directly through the image route and shown as a badge on the catalog's pages, in
Chromium with the tool's Content-Security-Policy enforced; no script runs and nothing is
fetched. The route's own policy (sandbox) holds even for an SVG that was never sanitised, and a
control shows the probe does notice script when nothing protects the page."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, expect

from app.catalog.exchange import import_catalog
from app.catalog.images import check_image
from app.catalog.models import Image
from app.db import get_db
from tests.browser.conftest import fresh_page
from tests.browser.test_launch_in_iframe import act_as, open_activity
from tests.catalog.test_exchange import catalog
from tests.support.serving import start_serving, stop_serving

pytestmark = pytest.mark.browser

RAN = "script ran"
# What happens in the page after load is asynchronous (requests, timers): give it this long to
# show itself before concluding that nothing happened.
SETTLE_MS = 1000


def malicious_svg(probe: str) -> bytes:
    """An SVG that, if any of its script runs or any of its references loads, tells the probe
    (and sets the document's title and logs to the console)."""
    report = (
        f"document.title = '{RAN}'; console.log('{RAN}'); "
        f"new Image().src = '{probe}/script'; fetch('{probe}/fetch');"
    )
    handler = report.replace("'", "&apos;")
    return f"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="200" height="200" viewBox="0 0 200 200" onload="{handler}">
  <title>Probe badge</title>
  <script><![CDATA[{report}]]></script>
  <script href="{probe}/external.js"/>
  <style>@import url({probe}/import.css); .ring {{ stroke: url({probe}/paint.svg#p) }}</style>
  <circle class="ring" cx="100" cy="100" r="80" fill="#1f4e8c" onmouseover="{handler}"/>
  <image href="{probe}/image.png" width="20" height="20"/>
  <image xlink:href="{probe}/xlink-image.png" width="20" height="20"/>
  <use href="{probe}/use.svg#a"/>
  <a href="javascript:{handler}"><rect width="200" height="200" fill-opacity="0"/></a>
  <foreignObject width="200" height="200">
    <body xmlns="http://www.w3.org/1999/xhtml"><img src="{probe}/foreign.png"/>
      <iframe src="{probe}/foreign-frame"></iframe></body>
  </foreignObject>
  <set attributeName="onclick" to="{handler}"/>
</svg>""".encode()


@dataclass
class Probe:
    """A loopback server that records every request made to it; it also serves the malicious
    SVG itself, with no protective headers, for the control."""

    url: str = ""
    hits: list[str] = field(default_factory=list)
    svg: bytes = b""


@pytest.fixture
def probe() -> Iterator[Probe]:
    found = Probe()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found.hits.append(self.path)
            body = found.svg if self.path == "/unprotected.svg" else b""
            self.send_response(200 if body else 204)
            if body:
                self.send_header("Content-Type", "image/svg+xml")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = start_serving(server)
    found.url = f"http://127.0.0.1:{server.server_port}"
    found.svg = malicious_svg(found.url)
    try:
        yield found
    finally:
        stop_serving(server, thread)


@pytest.fixture
def strict_page(browser: Browser) -> Iterator[Page]:
    with fresh_page(browser) as new:  # no CSP bypass: the policies are part of what is tested
        yield new


def _console(page: Page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    return messages


def test_the_probe_notices_script_in_an_svg_served_without_protection(strict_page, probe):
    """The control: the same SVG from a server that sends no policy runs its script."""
    console = _console(strict_page)
    strict_page.goto(f"{probe.url}/unprotected.svg")
    expect(strict_page).to_have_title(RAN)
    strict_page.wait_for_timeout(SETTLE_MS)
    assert "/fetch" in probe.hits and RAN in console


def test_a_sanitised_malicious_svg_opened_directly_runs_nothing(strict_page, probe, live):
    with get_db(live.tool).begin() as session:
        document = catalog()
        document["organisations"][0]["image"] = {
            "media_type": "image/svg+xml",
            "data": base64.b64encode(probe.svg).decode(),
        }
        import_catalog(session, document)
    digest = hashlib.sha256(check_image(probe.svg).data).hexdigest()
    console = _console(strict_page)
    response = strict_page.goto(f"{live.tool_url}/catalog/images/{digest}.svg")
    assert response is not None and response.status == 200
    expect(strict_page.locator("circle")).to_have_count(1)  # the drawing is still there
    strict_page.wait_for_timeout(SETTLE_MS)
    assert strict_page.title() == "Probe badge"
    assert probe.hits == [] and RAN not in console


def test_the_image_route_runs_nothing_even_from_an_unsanitised_svg(strict_page, probe, live):
    """Defence in depth: the route's sandboxing policy stops script that got past sanitising."""
    digest = hashlib.sha256(probe.svg).hexdigest()
    with get_db(live.tool).begin() as session:
        session.add(Image(sha256=digest, media_type="image/svg+xml", data=probe.svg))
    console = _console(strict_page)
    strict_page.goto(f"{live.tool_url}/catalog/images/{digest}.svg")
    expect(strict_page.locator("script")).to_have_count(2)  # served as stored, script and all
    strict_page.wait_for_timeout(SETTLE_MS)
    assert strict_page.title() == "Probe badge"
    assert probe.hits == [] and RAN not in console


def test_a_malicious_badge_on_the_catalogs_pages_runs_nothing(strict_page, probe, live):
    document = catalog(stacks=[])
    document["credentials"][0]["versions"][0]["image"] = {
        "media_type": "image/svg+xml",
        "data": base64.b64encode(probe.svg).decode(),
    }
    with get_db(live.tool).begin() as session:
        import_catalog(session, document)
    console = _console(strict_page)
    act_as(strict_page, live, "Jordan Lee")
    frame = open_activity(strict_page, "Microcred: welcome")
    tool = strict_page.frame_locator("iframe.tool")
    tool.get_by_role("link", name="Browse micro-credentials").click()
    expect(tool.get_by_role("heading", level=2)).to_have_text("2 micro-credentials")
    listed = tool.get_by_role("img", name="Badge: Formative questioning")
    expect(listed).to_have_js_property("naturalWidth", 200)
    tool.get_by_role("link", name="Formative questioning").click()
    expect(tool.get_by_role("heading", level=1)).to_have_text("Formative questioning")
    badge = tool.get_by_role("img", name="Badge: Formative questioning")
    expect(badge).to_have_js_property("naturalWidth", 200)  # it loaded and was drawn
    strict_page.wait_for_timeout(SETTLE_MS)
    assert frame.title() == "Formative questioning · Microcred"
    assert strict_page.title() != RAN
    assert probe.hits == [] and RAN not in console

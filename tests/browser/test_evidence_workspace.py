"""The educator's workspace in a real browser, inside the LMS's iframe: type, reload, the text is
there; the tool server goes away mid-draft and comes back, and what was typed meanwhile is kept
in the browser and saved; two tabs conflict and the second keeps both texts; submit; "not yet"
(set in the database until the review feature lands); the next attempt with the evidence
carried over. axe-core on every state; screenshots in test-artifacts/browser/ (issue 8)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, Page, Route, expect
from werkzeug.serving import BaseWSGIServer

from app.db import get_db
from app.evidence.models import Attempt
from app.serve import make_server
from tests.browser.accessibility import assert_no_violations
from tests.browser.conftest import fresh_page
from tests.browser.frames import shoot
from tests.browser.test_launch_in_iframe import COURSE, act_as
from tests.evidence.support import (
    HINGE,
    LEARNER,
    add_activity,
    answer_text,
    attempts,
    launch,
    set_state,
)
from tests.support.catalog import seed_sample_catalog
from tests.support.serving import start_serving, stop_serving

pytestmark = pytest.mark.browser

TITLE = "Questioning to Check for Understanding"


@dataclass
class Servers:
    """The tool and the development LMS on loopback; the tool can be stopped and started again
    (a fresh application on the same port, as a restarted process would be)."""

    tool: Flask
    devlms: Flask
    tool_url: str
    devlms_url: str
    config: dict[str, Any]
    tool_server: BaseWSGIServer
    lms_server: BaseWSGIServer

    def _serve(self, server: BaseWSGIServer) -> None:
        start_serving(server)

    def stop_tool(self) -> None:
        stop_serving(self.tool_server)
        self.tool.extensions["db"].dispose()

    def start_tool(self) -> None:
        from app import create_app

        host, port = self.tool_url.removeprefix("http://").rsplit(":", 1)
        self.tool = create_app(self.config)
        self.tool_server = make_server(host, int(port), self.tool)
        self._serve(self.tool_server)


@pytest.fixture
def servers(settings_override: dict[str, Any]) -> Iterator[Servers]:
    from app import create_app
    from app.devlms import create_devlms_app
    from app.devlms.seed import seed_demo

    def placeholder(environ: Any, start_response: Any) -> list[bytes]:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"starting"]

    # A loopback address of this test's own: while the tool is stopped its port is free, and on
    # 127.0.0.1 another test's server took it once (the page's saves then reached that server).
    host = "127.{}.{}.{}".format(*(secrets.randbelow(254) + 1 for _ in range(3)))
    tool_server = make_server(host, 0, placeholder)
    lms_server = make_server(host, 0, placeholder)
    tool_url = f"http://{host}:{tool_server.server_port}"
    lms_url = f"http://{host}:{lms_server.server_port}"
    config = {**settings_override, "MICROCRED_BASE_URL": tool_url, "MICROCRED_DEVLMS_URL": lms_url}
    tool, devlms = create_app(config), create_devlms_app(config)
    tool_server.app, lms_server.app = tool, devlms
    found = Servers(tool, devlms, tool_url, lms_url, config, tool_server, lms_server)
    found._serve(tool_server)
    found._serve(lms_server)
    with get_db(tool).begin() as session:
        seed_demo(session, tool.config["MICROCRED_SETTINGS"])
        seed_sample_catalog(session)
    try:
        yield found
    finally:
        for server in (found.tool_server, lms_server):
            stop_serving(server)
        for app in (found.tool, devlms):
            app.extensions["db"].dispose()


def _open(page: Page, servers: Servers, activity: str) -> Frame:
    page.get_by_role("link", name=COURSE).click()
    page.get_by_role("link", name=activity, exact=True).click()
    tool = page.frame_locator("iframe.tool")
    expect(tool.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    handle = page.locator("iframe.tool").element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame


def _reload(frame: Frame, url: str | None = None) -> None:
    # Without its #fragment: a URL differing only there would not load the page again.
    frame.goto((url or frame.url).split("#")[0])
    _ready(frame)


def _goto_after_failure(frame: Frame, url: str) -> None:
    """Load ``url`` in a frame whose last navigation failed: the browser's error page for that
    failure may still be committing and interrupt the first try."""
    for _ in range(3):
        try:
            frame.goto(url)
            return
        except PlaywrightError as exc:
            if "interrupted by another navigation" not in str(exc):
                raise
    frame.goto(url)


def _ready(frame: Frame) -> None:
    """Wait until the workspace's script has started (it is deferred)."""
    expect(frame.locator("#workspace[data-autosave=on]")).to_have_count(1)


def _saved(frame: Frame, part: str) -> None:
    expect(frame.locator(f"#save-{part}")).to_have_text(re.compile(r"^Saved .*\d{4}"))


def _attempt_id(servers: Servers) -> int:
    return attempts(servers, LEARNER)[-1].id


def test_a_draft_is_never_lost_then_submitted_and_resubmitted(
    page: Page, servers: Servers, artifacts: Path
) -> None:
    activity = add_activity(servers, HINGE)
    act_as(page, servers, "Jordan Lee")
    frame = _open(page, servers, activity)
    assert_no_violations(frame, "the activity page with its start button")
    shoot(page, frame, artifacts / "evidence-activity-start.png")
    frame.get_by_role("button", name="Start this micro-credential").click()
    expect(frame.locator("#state")).to_contain_text("Draft")
    _ready(frame)
    overview = frame.get_by_label("Your answer").first

    # Type, wait for the autosave, reload: the text is there.
    overview.fill("Twenty-eight students in grade 7.")
    _saved(frame, "overview")
    expect(frame.locator("#count-overview")).to_have_text("5 words of 400")
    _reload(frame)
    expect(frame.get_by_label("Your answer").first).to_have_value(
        "Twenty-eight students in grade 7."
    )

    # The tool server goes away mid-draft: the page warns, and keeps the text in the browser.
    url = frame.url
    servers.stop_tool()
    overview = frame.get_by_label("Your answer").first
    overview.press("Control+End")
    overview.press_sequentially(" We used mini whiteboards.", delay=10)
    expect(frame.locator("#save-overview")).to_contain_text("Not saved yet — retrying")
    shoot(page, frame, artifacts / "evidence-save-failing.png")
    kept = frame.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('microcred:draft:'))"
        ".map(k => JSON.parse(localStorage.getItem(k)).text)"
    )
    assert kept == ["Twenty-eight students in grade 7. We used mini whiteboards."]
    # Even the page is lost (a reload while the server is down) …
    with pytest.raises(PlaywrightError):
        frame.goto(url)
    # The old page must be gone for good before the server is back, or its retry would save
    # the text itself: it is once the browser's error page for the failed load has committed
    # (which may be after goto has raised).
    frame.wait_for_url("chrome-error://chromewebdata/")
    # … and when the server is back, the browser's copy is restored and saved.
    servers.start_tool()
    _goto_after_failure(frame, url)
    expect(frame.locator("#restored-overview")).to_contain_text("had not reached Microcred yet")
    _saved(frame, "overview")
    full = "Twenty-eight students in grade 7. We used mini whiteboards."
    assert answer_text(servers, _attempt_id(servers), "overview") == full
    shoot(page, frame, artifacts / "evidence-restored.png")

    # The rest of the evidence: links for two parts, a reflection.
    for part, address in (("lesson-plan", "plan"), ("response-evidence", "video")):
        frame.locator(f"#url-{part}").fill(f"https://docs.example.org/{address}")
        frame.locator(f"#link-title-{part}").fill(f"My {address}")
        frame.locator(f"#part-{part}").get_by_role("button", name="Add the link").click()
        expect(frame.get_by_role("link", name=re.compile(f"^My {address}"))).to_be_visible()
    frame.locator("#url-lesson-plan").fill("javascript:alert(1)")
    frame.locator("#link-title-lesson-plan").fill("Bad")
    frame.locator("#part-lesson-plan").get_by_role("button", name="Add the link").click()
    expect(frame.locator("#link-error-lesson-plan")).to_contain_text("Only web addresses")
    frame.locator("#text-reflection").fill("The hinge question showed me who needed what.")
    _saved(frame, "reflection")
    expect(frame.locator("#status-reflection")).to_have_text("Ready")
    _reload(frame, url)  # the workspace again (the page now shows the refused link form)
    expect(frame.locator("#checklist")).to_contain_text("Every required part has evidence")
    assert_no_violations(frame, "the workspace (draft)")
    shoot(page, frame, artifacts / "evidence-workspace.png")

    # Submit, with a confirmation.
    frame.get_by_role("link", name="Review and submit").click()
    expect(frame.get_by_role("heading", level=1)).to_have_text("Submit attempt 1 of 3")
    assert_no_violations(frame, "the submit confirmation")
    shoot(page, frame, artifacts / "evidence-submit.png")
    frame.get_by_role("button", name="Submit for review").click()
    expect(frame.locator("#state")).to_contain_text("Submitted")
    expect(frame.locator("textarea")).to_have_count(0)
    assert_no_violations(frame, "the workspace (submitted)")
    shoot(page, frame, artifacts / "evidence-submitted.png")

    # "Not yet", then attempt 2 with everything carried over.
    set_state(servers, _attempt_id(servers), Attempt.NOT_YET)
    _reload(frame)
    expect(frame.locator("#state")).to_contain_text("Not yet")
    frame.get_by_role("button", name="Start attempt 2").click()
    expect(frame.locator("#note-error")).to_contain_text("Say briefly what you changed")
    assert_no_violations(frame, "the workspace (not yet, note missing)")
    shoot(page, frame, artifacts / "evidence-not-yet.png")
    frame.get_by_label("What I changed, or will change").fill("A sharper hinge question.")
    frame.get_by_role("button", name="Start attempt 2").click()
    expect(frame.locator("#state")).to_contain_text("attempt 2 of 3")
    expect(frame.locator("#text-overview")).to_have_value(full)
    expect(frame.get_by_role("link", name=re.compile("^My video"))).to_be_visible()
    assert_no_violations(frame, "the workspace (attempt 2)")
    shoot(page, frame, artifacts / "evidence-attempt-2.png")


def test_two_tabs_conflict_and_the_second_keeps_both_texts(
    browser: Any, servers: Servers, artifacts: Path
) -> None:
    activity = add_activity(servers, HINGE)
    educator = launch(servers, LEARNER, activity)
    started = educator.post(f"/work/{HINGE}/start")
    url = started.url
    with fresh_page(browser, bypass_csp=True) as first:
        second = first.context.new_page()
        first.goto(url)
        second.goto(url)
        _ready(first.main_frame)
        _ready(second.main_frame)
        first.locator("#text-overview").fill("Written in the first tab.")
        _saved(first.main_frame, "overview")
        second.locator("#text-overview").fill("Written in the second tab.")
        panel = second.locator("#conflict-overview")
        expect(panel).to_be_visible()
        expect(second.locator("#mine-overview")).to_have_value("Written in the second tab.")
        expect(second.locator("#theirs-overview")).to_have_value("Written in the first tab.")
        expect(second.locator("#save-overview")).to_contain_text("changed somewhere else")
        assert_no_violations(second, "the workspace with a conflict")
        second.screenshot(path=str(artifacts / "evidence-conflict.png"), full_page=True)
        second.get_by_role("button", name="Keep both (saved text first)").click()
        _saved(second.main_frame, "overview")
        expect(panel).to_be_hidden()
        both = second.locator("#text-overview").input_value()
        assert both.startswith("Written in the first tab.")
        assert both.endswith("Written in the second tab.")
        attempt = attempts(servers, LEARNER)[0].id
        assert answer_text(servers, attempt, "overview") == both


def test_text_typed_before_the_script_has_started_is_saved(browser: Any, servers: Servers) -> None:
    """On a slow laptop the page is there before its deferred script runs: what is typed then
    reaches Microcred once the script starts, without another keystroke."""
    activity = add_activity(servers, HINGE)
    educator = launch(servers, LEARNER, activity)
    url = educator.post(f"/work/{HINGE}/start").url
    held: list[Any] = []
    with fresh_page(browser, bypass_csp=True) as page:
        page.route("**/workspace.js*", lambda route: held.append(route))
        page.goto(url, wait_until="commit")
        page.locator("#text-overview").fill("Typed while the script was still on its way.")
        expect(page.locator("#workspace[data-autosave=on]")).to_have_count(0)
        assert len(held) == 1
        held[0].continue_()
        _ready(page.main_frame)
        _saved(page.main_frame, "overview")
    attempt = attempts(servers, LEARNER)[0].id
    assert answer_text(servers, attempt, "overview") == (
        "Typed while the script was still on its way."
    )


def test_a_save_that_landed_but_whose_answer_was_lost_is_no_conflict(
    browser: Any, servers: Servers
) -> None:
    """The instance or its database died after the save was stored, before it answered (a
    fault the cluster tests make): the retry quotes the version the tab had, and the 409 names
    this tab's own text as the stored one. That is this tab's save, not another's: no conflict,
    and what was typed meanwhile is saved on top of it."""
    activity = add_activity(servers, HINGE)
    educator = launch(servers, LEARNER, activity)
    url = educator.post(f"/work/{HINGE}/start").url
    lost: list[bool] = []

    def save_then_lose_the_answer(route: Route) -> None:
        if lost or route.request.method != "PUT":
            route.continue_()
            return
        route.fetch()  # the tool saves the text…
        lost.append(True)
        route.abort("connectionreset")  # …and its answer never arrives

    with fresh_page(browser, bypass_csp=True) as page:
        page.route("**/answers/overview", save_then_lose_the_answer)
        page.goto(url)
        _ready(page.main_frame)
        area = page.locator("#text-overview")
        area.fill("Saved, but its answer was lost.")
        expect(page.locator("#save-overview")).to_contain_text("Not saved yet — retrying")
        area.press("End")
        area.press_sequentially(" Typed while it retried.", delay=5)
        _saved(page.main_frame, "overview")
        expect(page.locator("#conflict-overview")).to_be_hidden()
    assert lost
    attempt = attempts(servers, LEARNER)[0].id
    assert answer_text(servers, attempt, "overview") == (
        "Saved, but its answer was lost. Typed while it retried."
    )


def _files_of(servers: Servers, attempt_id: int) -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from app.evidence.models import EvidenceFile

    with get_db(servers.tool).begin() as session:
        rows = session.scalars(
            select(EvidenceFile)
            .where(EvidenceFile.attempt_id == attempt_id)
            .order_by(EvidenceFile.id)
        ).all()
        return [(r.part_key, r.name, r.storage_key) for r in rows]


def test_a_file_uploaded_in_the_workspace_is_kept_once_and_carried_to_the_next_attempt(
    page: Page, servers: Servers, artifacts: Path, tmp_path: Path
) -> None:
    # The sample credentials have several parts that take files: each part's upload control
    # must send a chosen file once, to its own part.
    plan = tmp_path / "hinge-lesson-plan.pdf"
    plan.write_bytes(b"%PDF-1.4\n% a lesson plan\n" + b"0" * 300_000 + b"\n%%EOF\n")
    activity = add_activity(servers, HINGE)
    act_as(page, servers, "Jordan Lee")
    frame = _open(page, servers, activity)
    frame.get_by_role("button", name="Start this micro-credential").click()
    _ready(frame)
    part = frame.locator("#part-response-evidence")
    part.get_by_label("Add a file").set_input_files(str(plan))
    part.get_by_role("button", name="Upload the file").click()
    expect(part.get_by_role("link", name="hinge-lesson-plan.pdf", exact=True)).to_be_visible()
    expect(frame.locator("#part-lesson-plan").get_by_text("hinge-lesson-plan.pdf")).to_have_count(0)
    # The part's status and the checklist follow the upload without a reload.
    expect(frame.locator("#status-response-evidence")).to_have_text("Ready")
    checklist = frame.locator("#checklist")
    expect(checklist.locator('li[data-part="response-evidence"]')).to_be_hidden()
    expect(checklist.locator('li[data-part="lesson-plan"]')).to_be_visible()
    first = _attempt_id(servers)
    assert [(p, n) for p, n, _ in _files_of(servers, first)] == [
        ("response-evidence", "hinge-lesson-plan.pdf")
    ]
    assert_no_violations(frame, "the workspace with a file")
    shoot(page, frame, artifacts / "evidence-workspace-file.png")

    set_state(servers, first, Attempt.NOT_YET)
    _reload(frame)
    frame.get_by_label("What I changed, or will change").fill("A clearer plan.")
    frame.get_by_role("button", name="Start attempt 2").click()
    expect(frame.locator("#state")).to_contain_text("attempt 2 of 3")
    expect(
        frame.locator("#part-response-evidence").get_by_role(
            "link", name="hinge-lesson-plan.pdf", exact=True
        )
    ).to_be_visible()
    second = _attempt_id(servers)
    assert second != first
    carried = _files_of(servers, second)
    assert [(p, n) for p, n, _ in carried] == [("response-evidence", "hinge-lesson-plan.pdf")]
    assert carried[0][2] == _files_of(servers, first)[0][2]  # the same stored bytes

    # Removing it from attempt 2 leaves attempt 1's copy, and the part is empty again.
    page.once("dialog", lambda dialog: dialog.accept())
    frame.locator("#part-response-evidence").get_by_role(
        "link", name="Remove hinge-lesson-plan.pdf"
    ).click()
    expect(frame.locator("#status-response-evidence")).to_have_text("Nothing yet")
    expect(checklist.locator('li[data-part="response-evidence"]')).to_be_visible()
    assert _files_of(servers, second) == []
    assert len(_files_of(servers, first)) == 1

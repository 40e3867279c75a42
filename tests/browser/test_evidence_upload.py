"""Uploading evidence files in the LMS iframe: a large file with progress and cancel, then to
completion through a dropped connection; keyboard only; axe on the files page (issue 8)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, Route, expect
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevUser
from app.evidence.models import EvidenceFile
from tests.browser.accessibility import assert_no_violations
from tests.browser.test_launch_in_iframe import act_as, open_activity
from tests.evidence.conftest import FILE_PART, make_attempt
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

MB = 1024 * 1024
JORDAN = "jordan.lee@example.edu"


def files_of(live: LiveServers) -> list[EvidenceFile]:
    with get_db(live.tool).begin() as session:
        return list(session.scalars(select(EvidenceFile).order_by(EvidenceFile.id)))


def open_files_page(page: Page, live: LiveServers) -> Frame:
    """Launch as Jordan Lee, give them a draft attempt, open its file part's page in the frame."""
    act_as(page, live, "Jordan Lee")
    frame = open_activity(page, "Microcred: welcome")
    href = frame.locator("a[href*='lt=']").first.get_attribute("href")
    assert href
    token = re.search(r"lt=([^&]+)", href)
    assert token
    with get_db(live.devlms).begin() as session:
        sub = session.scalars(select(DevUser.sub).where(DevUser.email == JORDAN)).one()
    attempt_id, _ = make_attempt(live, sub)
    frame.goto(
        f"{live.tool_url}/work/attempts/{attempt_id}/parts/{FILE_PART}/files?lt={token.group(1)}"
    )
    expect(frame.get_by_role("heading", level=1)).to_have_text("Files for your evidence")
    return frame


def make_pdf(path: Path, size: int) -> Path:
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(size - 9))
    return path


def throttle(page: Page, upload_bytes_per_second: float) -> None:
    """Make uploads as slow as a school's connection, so that progress can be watched."""
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": upload_bytes_per_second,
        },
    )


def progress_value(frame: Frame) -> int:
    return int(frame.locator("progress").evaluate("bar => bar.value"))


def test_a_large_upload_shows_progress_can_be_cancelled_and_survives_a_dropped_connection(
    page: Page, live: LiveServers, tmp_path: Path, artifacts: Path
) -> None:
    frame = open_files_page(page, live)
    video = make_pdf(tmp_path / "Classroom video.pdf", 50 * MB)
    throttle(page, 15 * MB)

    frame.get_by_label("Add a file").set_input_files(str(video))
    frame.get_by_role("button", name="Upload the file").click()
    bar = frame.get_by_role("progressbar", name="Uploading \u201cClassroom video.pdf\u201d")
    expect(bar).to_be_visible()
    frame.wait_for_function("() => document.querySelector('progress').value >= 10")
    expect(frame.locator("[data-percent]")).to_have_text(re.compile(r"^\d+%$"))
    page.screenshot(path=str(artifacts / "evidence-upload-progress.png"), full_page=True)
    assert_no_violations(frame, "the files page while uploading")
    frame.get_by_role("button", name="Cancel the upload").click()
    expect(frame.get_by_role("status")).to_have_text(
        "The upload was cancelled; nothing of it was kept."
    )
    expect(bar).to_be_hidden()
    assert files_of(live) == []

    frame.get_by_label("Add a file").set_input_files(str(video))
    frame.get_by_role("button", name="Upload the file").click()
    frame.wait_for_function("() => document.querySelector('progress').value >= 20")
    chunks = "**/api/evidence/files/*/content*"
    page.route(chunks, lambda route: route.abort("internetdisconnected"))  # the Wi-Fi drops…
    expect(frame.get_by_role("status")).to_contain_text("The connection was interrupted.")
    page.screenshot(path=str(artifacts / "evidence-upload-interrupted.png"), full_page=True)
    page.unroute(chunks)  # …and comes back: the script asks what arrived and goes on
    expect(frame.get_by_role("status")).to_have_text(
        "\u201cClassroom video.pdf\u201d was uploaded (50 MB).", timeout=90_000
    )
    expect(frame.get_by_role("link", name="Classroom video.pdf", exact=True)).to_be_visible()
    [row] = files_of(live)
    assert row.state == "complete" and row.size == 50 * MB
    assert row.sha256 == hashlib.sha256(video.read_bytes()).hexdigest()
    assert_no_violations(frame, "the files page with a file")
    page.screenshot(path=str(artifacts / "evidence-upload-done.png"), full_page=True)


def test_a_file_can_be_uploaded_and_removed_with_the_keyboard_alone(
    page: Page, live: LiveServers, tmp_path: Path, artifacts: Path
) -> None:
    # Playwright turns file-chooser interception on when the first "filechooser" listener is
    # added, without waiting for Chromium to apply it; the tool's cross-site iframe is its own
    # renderer, with its own session, so a Space pressed at once could reach the iframe before
    # interception did, and the chooser went unseen (the test failed under load). A listener
    # added before the iframe exists makes its session start with interception on.
    page.on("filechooser", lambda _chooser: None)
    frame = open_files_page(page, live)
    notes = tmp_path / "notes.txt"
    notes.write_text("17 of 24 chose B; 5 chose C.\n")
    file_input = frame.get_by_label("Add a file")
    frame.locator("h1").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if file_input.evaluate("input => input === document.activeElement"):
            break
    expect(file_input).to_be_focused()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(notes))
    page.keyboard.press("Tab")
    expect(frame.get_by_role("button", name="Upload the file")).to_be_focused()
    page.keyboard.press("Enter")
    expect(frame.get_by_role("status")).to_have_text(
        "\u201cnotes.txt\u201d was uploaded (29 bytes)."
    )
    expect(file_input).to_be_focused()
    expect(frame.get_by_role("link", name="notes.txt", exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts / "evidence-upload-keyboard.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    frame.get_by_role("button", name="Remove notes.txt").focus()
    page.keyboard.press("Enter")
    expect(frame.get_by_role("status")).to_have_text("\u201cnotes.txt\u201d was removed.")
    assert files_of(live) == []
    assert_no_violations(frame, "the files page")


def test_a_file_of_a_refused_kind_says_which_kinds_are_accepted(
    page: Page, live: LiveServers, tmp_path: Path
) -> None:
    frame = open_files_page(page, live)
    fake = tmp_path / "plan.pdf"
    fake.write_text("<!doctype html><script>alert(1)</script>")
    frame.get_by_label("Add a file").set_input_files(str(fake))
    frame.get_by_role("button", name="Upload the file").click()
    expect(frame.get_by_role("status")).to_contain_text("a web page or markup")
    expect(frame.get_by_role("status")).to_contain_text("Accepted kinds: PDF")
    assert files_of(live) == []


def test_an_upload_interrupted_by_a_reload_continues_when_the_same_file_is_chosen(
    page: Page, live: LiveServers, tmp_path: Path, artifacts: Path
) -> None:
    frame = open_files_page(page, live)
    address = frame.url
    video = make_pdf(tmp_path / "Lesson video.pdf", 30 * MB)
    throttle(page, 10 * MB)
    frame.get_by_label("Add a file").set_input_files(str(video))
    frame.get_by_role("button", name="Upload the file").click()
    frame.wait_for_function("() => document.querySelector('progress').value >= 30")
    frame.goto(address)  # the educator reloads the page mid-upload
    expect(frame.get_by_text(re.compile(r"unfinished upload: .* of 30 MB arrived"))).to_be_visible()
    page.screenshot(path=str(artifacts / "evidence-upload-unfinished.png"), full_page=True)
    throttle(page, -1)
    frame.get_by_label("Add a file").set_input_files(str(video))
    frame.get_by_role("button", name="Upload the file").click()
    expect(frame.get_by_role("status")).to_have_text(
        "\u201cLesson video.pdf\u201d was uploaded (30 MB).", timeout=60_000
    )
    [row] = files_of(live)
    assert row.sha256 == hashlib.sha256(video.read_bytes()).hexdigest()
    expect(frame.get_by_text("unfinished upload")).to_have_count(0)


def test_an_upload_whose_completion_answer_was_lost_is_completed_all_the_same(
    page: Page, live: LiveServers, tmp_path: Path
) -> None:
    """The instance died after completing the upload, before answering (a fault the cluster
    tests make): completing again finds it complete, as it does after a dropped chunk."""
    frame = open_files_page(page, live)
    notes = tmp_path / "notes.txt"
    notes.write_text("17 of 24 chose B; 5 chose C.\n")
    lost: list[bool] = []

    def complete_then_lose_the_answer(route: Route) -> None:
        if lost:
            route.continue_()
            return
        route.fetch()  # the tool completes the upload…
        lost.append(True)
        route.abort("connectionreset")  # …and its answer never arrives

    page.route("**/api/evidence/files/*/complete", complete_then_lose_the_answer)
    frame.get_by_label("Add a file").set_input_files(str(notes))
    frame.get_by_role("button", name="Upload the file").click()
    expect(frame.get_by_role("status")).to_have_text(
        "\u201cnotes.txt\u201d was uploaded (29 bytes)."
    )
    assert lost
    [row] = files_of(live)
    assert row.state == "complete"

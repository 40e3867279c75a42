"""One way of showing time (issue 28 item 8): the same instant reads the same on a learner's
page, an instructor's page and the operator console — in the viewer's time zone (the browser's)
and language — and a time the page updates after an autosave keeps the format it had. The
viewer here is in India with British English: neither UTC nor the browser default US format.
axe-core on each page; screenshots in test-artifacts/browser/times-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Frame, Locator, Page, expect
from sqlalchemy import select, update

from app.admin import services as admin
from app.db import get_db
from app.evidence.models import Attempt
from app.lti.models import Registration
from tests.browser.accessibility import assert_no_violations
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_review import claim, open_activity, open_queue, shoot
from tests.evidence.support import HINGE, LEARNER, add_activity, launch
from tests.grading.support import set_review, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

INSTANT = datetime(2026, 3, 14, 21, 45, tzinfo=UTC)
ISO = "2026-03-14T21:45:00Z"
EMAIL = "ada@example.org"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A viewer in Kolkata (UTC+5:30) whose browser speaks British English."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,
        locale="en-GB",
        timezone_id="Asia/Kolkata",
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def activity(live: LiveServers) -> str:
    """An activity with a submission made at ``INSTANT``; the LMS's registration in the
    console dated the same instant."""
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
        admin.create_operator(
            session, admin.CLI_ACTOR, email=EMAIL, name="Ada Lovelace", password=PASSWORD
        )
    set_review(live, blind=False)
    activity = add_activity(live, HINGE)
    found = submitted(launch(live, LEARNER, activity))
    with get_db(live.tool).begin() as session:
        session.execute(update(Attempt).where(Attempt.id == found).values(submitted_at=INSTANT))
        session.execute(update(Registration).values(created_at=INSTANT))
    return activity


def _shown(where: Page | Frame | Locator) -> str:
    moment = where.locator(f'time[datetime="{ISO}"]').first
    expect(moment).to_contain_text("15 Mar 2026")  # the script ran: local date, not UTC's 14th
    return moment.inner_text()


def test_one_instant_reads_the_same_everywhere_and_after_an_autosave(
    page: Page, live: LiveServers, activity: str, artifacts: Path
) -> None:
    seen = {}

    learner = open_activity(page, live, "Jordan Lee", activity)
    learner.get_by_role("link", name="See your work").click()
    seen["learner's workspace"] = _shown(learner.locator("#state"))
    assert_no_violations(learner, "the learner's workspace")
    learner.locator("#state").screenshot(path=str(artifacts / "times-learner.png"))

    instructor = open_activity(page, live, "Maria Alvarez", activity)
    open_queue(instructor)
    claim(instructor)
    seen["instructor's review page"] = _shown(instructor.locator("dl.facts"))
    assert_no_violations(instructor, "the review page")
    shoot(page, instructor, artifacts / "times-review.png")

    # The review hold's end, renewed by an autosave: the same format before and after.
    hold = instructor.locator("[data-expires] time")
    local_time = re.compile(r"^\d{2}:\d{2} GMT\+5:30$")
    expect(hold).to_have_text(local_time)
    instructor.locator("fieldset[data-criterion]").first.get_by_label("Met", exact=True).check()
    status = instructor.locator("[data-review-status]")
    expect(status).to_contain_text("Draft saved at")
    expect(hold).to_have_text(local_time)
    after_iso = hold.get_attribute("datetime")
    assert after_iso and hold.inner_text() == instructor.evaluate(
        "(iso) => window.MicrocredMoments.format(iso, 'time')", after_iso
    )
    saved_at = re.search(r"Draft saved at (\S+ \S+)", status.inner_text())
    assert saved_at and local_time.match(saved_at.group(1)), status.inner_text()
    instructor.locator("p.notice").first.screenshot(
        path=str(artifacts / "times-hold-after-autosave.png")
    )

    page.goto(f"{live.tool_url}/admin/sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    with get_db(live.tool).begin() as session:
        platform = session.scalars(select(Registration.uuid)).first()
    page.goto(f"{live.tool_url}/admin/platforms/{platform}")
    seen["console's platform page"] = _shown(page)
    assert_no_violations(page, "the console's platform page")
    page.screenshot(path=str(artifacts / "times-console.png"), full_page=True)

    assert len(set(seen.values())) == 1, seen
    text = seen["learner's workspace"]
    assert "03:15" in text and "GMT+5:30" in text and "T" not in text.replace("GMT", ""), text

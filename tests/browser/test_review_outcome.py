"""The outcome of a review as the educator sees it, in a real browser inside the LMS's iframe
(issue 9, "Outcome"): the activity page points to the feedback; the workspace shows the
decision criterion by criterion, the criteria not met first, and invites resubmission; on the
next attempt the previous feedback is collapsed at the top and beside each part that needs work;
"earned" reads as such. axe-core on every state; screenshots in test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db import get_db
from app.evidence.models import Attempt
from tests.browser.accessibility import assert_no_violations
from tests.browser.frames import open_activity, shoot
from tests.browser.test_errors_in_view import IN_VIEW
from tests.browser.test_launch_in_iframe import act_as
from tests.evidence.support import (
    ASSESSOR_NAME,
    HINGE,
    HINGE_NOT_YET,
    LEARNER,
    add_activity,
    attempts,
    decide,
    launch,
    start,
)
from tests.support.catalog import seed_sample_catalog

pytestmark = pytest.mark.browser

TITLE = "Questioning to Check for Understanding"
FEEDBACK = (
    "Your hinge question is well chosen and the plan is clear. Two things stand between this "
    "attempt and the credential: evidence from the whole class, and a concrete next step."
)
ALL_MET = {key: {"met": True, "comment": ""} for key in HINGE_NOT_YET}


def _submit_by_http(live, activity: str) -> int:
    """Start, fill and submit attempt 1 as the educator (quicker than typing it again here:
    the workspace's own browser test types it)."""
    educator = launch(live, LEARNER, activity)
    page = start(educator, HINGE)
    attempt = attempts(live)[0].id
    assert page.status_code == 200
    for part, text in (("overview", "Grade 7, 28 students."), ("reflection", "17 of 28 chose B.")):
        educator.put_json(f"/work/attempts/{attempt}/answers/{part}", {"text": text, "version": 0})
    for part in ("lesson-plan", "response-evidence"):
        educator.post(
            f"/work/attempts/{attempt}/links",
            part=part,
            url="https://docs.example.org/plan",
            title="My plan",
        )
    done = educator.post(f"/work/attempts/{attempt}/submit")
    assert done.status_code == 200 and "Submitted" in done.text
    return attempt


def test_the_educator_reads_the_feedback_and_revises_beside_it(
    page: Page, live, artifacts: Path
) -> None:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    activity = add_activity(live, HINGE)
    first = _submit_by_http(live, activity)
    act_as(page, live, "Jordan Lee")
    frame = open_activity(page, activity, TITLE)
    expect(frame.locator(".work-summary")).to_contain_text("Submitted")

    # The assessor decides "not yet" (as the review service records it); the educator reloads.
    decide(live, first, Attempt.NOT_YET, HINGE_NOT_YET, FEEDBACK)
    frame.goto(frame.url)
    summary = frame.locator(".work-summary")
    expect(summary).to_contain_text("Not yet — see the assessor\u2019s feedback")
    assert_no_violations(frame, "the activity page after a decision of not yet")
    shoot(page, frame, artifacts / "review-outcome-activity.png")
    summary.screenshot(path=str(artifacts / "review-outcome-activity-summary.png"))

    summary.get_by_role("link", name="See the assessor\u2019s feedback").click()
    decision = frame.locator("#decision")
    expect(decision.get_by_role("heading", name="Decision on attempt 1")).to_be_visible()
    expect(decision).to_contain_text(FEEDBACK)
    expect(decision).to_contain_text("2 of 5 criteria are not met yet")
    verdicts = decision.locator(".verdict")
    expect(verdicts).to_have_count(5)
    expect(verdicts.nth(0)).to_contain_text("Not yet")
    expect(verdicts.nth(0)).to_contain_text("Every student responds")
    expect(verdicts.nth(0)).to_contain_text("only the front two rows")
    expect(verdicts.nth(2)).to_contain_text("Met")
    expect(frame.locator(".invite")).to_contain_text("2 criteria need work")
    expect(frame.get_by_role("button", name="Start attempt 2")).to_be_visible()
    assert ASSESSOR_NAME not in frame.content()
    assert_no_violations(frame, "the workspace with a decision of not yet")
    shoot(page, frame, artifacts / "review-outcome-not-yet.png")
    frame.locator("section.card").first.screenshot(
        path=str(artifacts / "review-outcome-not-yet-top.png")
    )

    # Without a note, attempt 2 is refused at the note (issue 28 item 15): the message is an
    # alert in view, the field marked invalid and focused.
    frame.get_by_role("button", name="Start attempt 2").click()
    note = frame.get_by_label("What I changed, or will change")
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(note).to_be_focused()
    refusal = frame.locator("#next-attempt [role=alert]")
    expect(refusal).to_have_count(1)
    assert refusal.evaluate(IN_VIEW), "the message is out of sight"

    # Attempt 2: the feedback is collapsed at the top, and open beside the parts to revise.
    note.fill("A photo of every whiteboard.")
    frame.get_by_role("button", name="Start attempt 2").click()
    expect(frame.locator("#state")).to_contain_text("attempt 2 of 3")
    previous = frame.locator("#previous-decision")
    expect(previous).not_to_have_attribute("open", "")
    expect(previous.locator(".verdicts")).to_be_hidden()
    beside = frame.locator("#part-feedback-response-evidence")
    expect(beside).to_be_visible()
    expect(beside).to_contain_text("only the front two rows")
    expect(frame.locator("#part-feedback-reflection")).to_contain_text("Name the lesson")
    expect(frame.locator("#part-feedback-overview")).to_have_count(0)
    assert_no_violations(frame, "the workspace of attempt 2 (feedback collapsed)")
    shoot(page, frame, artifacts / "review-outcome-revising.png")
    frame.locator("section.card").first.screenshot(
        path=str(artifacts / "review-outcome-revising-top.png")
    )
    frame.locator("#part-response-evidence").screenshot(
        path=str(artifacts / "review-outcome-revising-part.png")
    )
    previous.locator("summary").click()
    expect(previous.locator(".verdicts")).to_be_visible()
    expect(previous).to_contain_text(FEEDBACK)
    assert_no_violations(frame, "the workspace of attempt 2 (feedback open)")
    shoot(page, frame, artifacts / "review-outcome-revising-open.png")

    # Submitted and earned.
    second = attempts(live)[-1].id
    frame.get_by_role("link", name="Review and submit").click()
    frame.get_by_role("button", name="Submit for review").click()
    expect(frame.locator("#state")).to_contain_text("Submitted")
    decide(live, second, Attempt.EARNED, ALL_MET, "Every criterion is now met. Well done.")
    frame.goto(frame.url.split("#")[0])
    decision = frame.locator("#decision")
    expect(decision.get_by_role("heading", name="Decision on attempt 2")).to_be_visible()
    expect(decision).to_contain_text("Earned.")
    expect(decision.locator(".verdict-mark-met")).to_have_count(5)
    expect(frame.locator("#previous-decision")).to_have_count(0)
    assert_no_violations(frame, "the workspace with a decision of earned")
    shoot(page, frame, artifacts / "review-outcome-earned.png")
    frame.locator("section.card").first.screenshot(
        path=str(artifacts / "review-outcome-earned-top.png")
    )

"""A learner whose credential asks for two independent reviews (issue 28 item 11): while it
waits, the workspace says it has had one review and waits for a second, and how long reviews
take (the issuer's stated target, with no recent decisions to go by); once decided, each
reviewer's feedback is shown apart — "the first reviewer", "the second reviewer" — and neither
is named (the review is blind). axe-core on both states; screenshots in
test-artifacts/browser/second-review-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db import get_db
from tests.browser.accessibility import assert_no_violations
from tests.browser.test_review import open_activity, shoot
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, add_activity, launch
from tests.grading.support import decide, judgement, set_review, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

DEMO_TA = "dana.kim@example.edu"
FIRST_FEEDBACK = "The hinge question is sharp; the reflection needs numbers."
SECOND_FEEDBACK = "A clear plan. Count the responses in the reflection."
FIRST_COMMENT = "Say how many students chose each answer."
SECOND_COMMENT = "The reflection gives no count of the responses."


@pytest.fixture
def activity(live: LiveServers) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, second_review=True, blind=True)
    return add_activity(live, HINGE)


def test_the_learner_sees_the_second_review_coming_then_each_reviewers_feedback(
    page: Page, live: LiveServers, activity: str, artifacts: Path
) -> None:
    attempt = submitted(launch(live, LEARNER, activity))
    first = decide(
        launch(live, INSTRUCTOR, activity),
        attempt,
        judgement({"responsive-adjustment": False}, FIRST_COMMENT),
        FIRST_FEEDBACK,
    )
    assert "waits for a second, independent review" in first.text

    frame = open_activity(page, live, "Jordan Lee", activity)
    summary = frame.locator(".work-summary")
    expect(summary).to_contain_text("has had one review and is waiting for a second")
    summary.screenshot(path=str(artifacts / "second-review-waiting-activity.png"))
    frame.get_by_role("link", name="See your work").click()
    state = frame.locator("#state")
    expect(state).to_contain_text("Your evidence has had one review and is waiting for a second")
    expect(state).to_contain_text("aims to decide within 14 days of submission")
    assert_no_violations(frame, "the workspace waiting for a second review")
    shoot(page, frame, artifacts / "second-review-waiting.png")
    state.screenshot(path=str(artifacts / "second-review-waiting-state.png"))

    decide(
        launch(live, DEMO_TA, activity),
        attempt,
        judgement({"responsive-adjustment": False}, SECOND_COMMENT),
        SECOND_FEEDBACK,
    )
    frame.goto(frame.url.split("#")[0])
    decision = frame.locator("#decision")
    expect(decision).to_contain_text("Two assessors reviewed your evidence independently")
    expect(state).to_contain_text("The two assessors found that some criteria are not met yet")
    first_heading = decision.get_by_role("heading", name="Feedback from the first reviewer")
    second_heading = decision.get_by_role("heading", name="Feedback from the second reviewer")
    expect(first_heading).to_be_visible()
    expect(second_heading).to_be_visible()
    expect(first_heading.locator("xpath=following-sibling::*[1]")).to_have_text(FIRST_FEEDBACK)
    expect(second_heading.locator("xpath=following-sibling::*[1]")).to_have_text(SECOND_FEEDBACK)
    expect(decision.get_by_role("heading", name="The assessor\u2019s feedback")).to_have_count(0)
    verdict = decision.locator(".verdict", has_text="Instruction responds to the evidence")
    expect(verdict).to_contain_text(f"The first reviewer\u2019s comment:{FIRST_COMMENT}")
    expect(verdict).to_contain_text(f"The second reviewer\u2019s comment:{SECOND_COMMENT}")
    for name in ("Maria", "Alvarez", "Dana", "Kim"):
        expect(frame.locator("main")).not_to_contain_text(name)
    assert_no_violations(frame, "the workspace with two reviewers' feedback")
    shoot(page, frame, artifacts / "second-review-decided.png")
    decision.screenshot(path=str(artifacts / "second-review-decided-feedback.png"))

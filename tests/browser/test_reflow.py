"""Every page a learner or an assessor uses reflows at 320 CSS px (WCAG 2.1 1.4.10, issue 28
item 15): a phone, or a school laptop zoomed to 400 %, shows it without scrolling sideways. A
data table may scroll inside its own box (the criterion's exception for two-dimensional
content); the page itself may not. Screenshots: test-artifacts/browser/reflow-320-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.db import get_db
from app.lti.models import LtiUser
from tests.badges.support import awards, decide_attempt, process
from tests.browser.conftest import fresh_page
from tests.evidence.support import (
    FEEDBACK,
    HINGE,
    INSTRUCTOR,
    LEARNER,
    OTHER_LEARNER,
    add_activity,
    attempt_id,
    launch,
    start,
)
from tests.grading.support import claim, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

WIDTH = 320

# What sticks out past the viewport's right edge, outermost first (for the message).
OVERFLOW = """(width) => {
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 0.5) continue;
    if (el.closest(".table-wrap") && el.closest(".table-wrap") !== el) continue;
    if (out.some((o) => o.contains(el))) continue;
    out.push(el);
  }
  return {
    scroll: document.documentElement.scrollWidth,
    offenders: out.slice(0, 5).map((el) =>
      `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")}`
      + ` right=${Math.round(el.getBoundingClientRect().right)}`),
  };
}"""


def _pages(live: LiveServers) -> list[tuple[str, str]]:
    """(what, URL) of the pages of a learner and of an assessor, each with something on it."""
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    activity = add_activity(live, HINGE)
    # Jordan earned the hinge-question credential and keeps a draft of the feedback one.
    learner = launch(live, LEARNER, activity)
    with get_db(live.tool).begin() as session:
        user_id = session.scalars(select(LtiUser.id).where(LtiUser.email == LEARNER)).one()
    decide_attempt(live.tool, user_id, HINGE)
    process(live.tool)
    (award,) = awards(live.tool)
    draft = attempt_id(start(learner, FEEDBACK).text)
    # Priya submitted; Maria, the instructor, has claimed it to review.
    waiting = submitted(launch(live, OTHER_LEARNER, activity))
    instructor = launch(live, INSTRUCTOR, activity)
    review_url = claim(instructor, waiting).url

    def learners(path: str) -> str:
        return f"{live.tool_url}{path}?lt={learner.token}"

    def instructors(path: str) -> str:
        return f"{live.tool_url}{path}?lt={instructor.token}"

    return [
        ("the learner's activity page", learners("/activity")),
        ("the catalog", learners("/catalog")),
        ("a credential's page", learners(f"/catalog/credentials/{HINGE}")),
        ("a stack's page", learners("/catalog/stacks/formative-assessment-in-practice")),
        ("the workspace with a draft", learners(f"/work/{FEEDBACK}")),
        ("the workspace of an earned credential", learners(f"/work/{HINGE}")),
        (
            "a part's files page",
            learners(f"/work/attempts/{draft}/parts/feedback-samples/files"),
        ),
        ("the profile", learners("/profile")),
        ("My badges", learners("/my/badges")),
        ("the badge's public page", f"{live.tool_url}/badges/{award.public_id}"),
        ("the instructor's activity page", instructors("/activity")),
        ("the review queue", instructors("/review")),
        ("the review page", review_url),
        ("Class progress", instructors("/activity/progress")),
        ("Gradebook sync", instructors("/gradebook")),
        ("Who has opened it", instructors("/activity/people")),
    ]


def test_every_learner_and_assessor_page_reflows_at_320_px(
    browser: Browser, live: LiveServers, artifacts: Path
) -> None:
    pages = _pages(live)
    problems = []
    with fresh_page(browser) as page:
        page.set_viewport_size({"width": WIDTH, "height": 700})
        for what, url in pages:
            response = page.goto(url)
            assert response is not None and response.status == 200, (what, url)
            expect(page.locator("main h1").first).to_be_visible()
            found = page.evaluate(OVERFLOW, WIDTH)
            name = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")
            page.screenshot(path=str(artifacts / f"reflow-320-{name}.png"), full_page=True)
            if found["scroll"] > WIDTH:
                problems.append(f"{what} ({re.sub(r'lt=[^&]+', 'lt=…', url)}): {found}")
    assert not problems, "pages that scroll sideways at 320 px:\n" + "\n".join(problems)

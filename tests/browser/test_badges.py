"""Badges in a real browser (issue 11): the educator, inside the LMS's iframe, opens their
badge, makes a piece of evidence public, downloads the baked PNG, and copies the share link; the
link opened in a fresh browser (nobody signed in) says "Verified"; an operator revokes the badge
in the console with a reason, and the same link then says "Revoked" and why. axe-core on every
page; screenshots in test-artifacts/browser/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.admin import services as accounts
from app.badges import images
from app.db import get_db
from app.lti.models import LtiUser
from tests.badges.support import decide_attempt, process
from tests.browser.accessibility import assert_no_violations
from tests.browser.conftest import fresh_page
from tests.browser.frames import open_activity, shoot
from tests.browser.test_launch_in_iframe import act_as
from tests.evidence.support import HINGE, LEARNER, add_activity, launch
from tests.support.catalog import seed_sample_catalog

pytestmark = pytest.mark.browser

TITLE = "Questioning to Check for Understanding"
EMAIL = "olive@example.org"
PASSWORD = "a long password for olive"
REASON = "The classroom video was not the educator's own lesson."


def _earned(live) -> str:
    """The sample catalog, an activity, the educator's first launch, an earned decision and
    its badge issued by the processor; an operator account. Return the activity's title."""
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
        accounts.create_operator(
            session, accounts.CLI_ACTOR, email=EMAIL, name="Olive", password=PASSWORD
        )
    activity = add_activity(live, HINGE)
    launch(live, LEARNER, activity)
    with get_db(live.tool).begin() as session:
        user_id = session.scalars(select(LtiUser.id).where(LtiUser.email == LEARNER)).one()
    decide_attempt(live.tool, user_id, HINGE)
    process(live.tool)
    return activity


def test_an_educator_shares_a_badge_that_verifies_until_it_is_revoked(
    page: Page, browser: Browser, live, artifacts: Path, tmp_path: Path
) -> None:
    activity = _earned(live)
    act_as(page, live, "Jordan Lee")
    frame = open_activity(page, activity, TITLE)
    frame.get_by_role("link", name="Your badge").click()
    expect(frame.get_by_role("heading", level=1, name="My badges")).to_be_visible()
    card = frame.locator(".badge-card")
    expect(card.get_by_role("heading", level=2)).to_have_text(TITLE)
    assert_no_violations(frame, "My badges")
    shoot(page, frame, artifacts / "badges-1-mine.png")

    # Make the lesson video public; nothing else.
    card.get_by_label("Lesson video").check()
    card.get_by_role("button", name="Save what is public").click()
    expect(frame.get_by_role("status").first).to_contain_text("Saved.")
    assert_no_violations(frame, "My badges after saving the public evidence")

    # Download the baked PNG: it carries the credential.
    with page.expect_download() as downloading:
        frame.get_by_role("link", name="Badge image (PNG)").click()
    saved = tmp_path / "badge.png"
    downloading.value.save_as(saved)
    baked = images.unbake_png(saved.read_bytes())
    assert json.loads(baked["openbadgecredential"])["name"] == TITLE

    # The share link, opened by someone else in a fresh browser.
    share = frame.get_by_label("Link to its public page").input_value()
    with fresh_page(browser, bypass_csp=True) as stranger:
        stranger.goto(share)
        expect(stranger.get_by_role("heading", level=1)).to_have_text(TITLE)
        expect(stranger.locator("#verification")).to_contain_text("Verified")
        expect(stranger.locator(".checks")).to_contain_text("Signature: passed.")
        expect(stranger.get_by_role("link", name="Lesson video")).to_be_visible()
        assert_no_violations(stranger, "the badge's public page (verified)")
        stranger.screenshot(path=str(artifacts / "badges-2-verified.png"), full_page=True)

    # An operator revokes it in the console, with a reason.
    with fresh_page(browser, bypass_csp=True) as console:
        console.goto(f"{live.tool_url}/admin/sign-in")
        console.get_by_label("Email").fill(EMAIL)
        console.get_by_label("Password").fill(PASSWORD)
        console.get_by_role("button", name="Sign in").click()
        console.get_by_role("link", name="Badges").click()
        expect(console.get_by_role("heading", level=1)).to_have_text("Badges")
        assert_no_violations(console, "the console's badges")
        console.get_by_role("link", name="Revoke").click()
        console.get_by_role("button", name="Revoke the badge").click()
        expect(console.get_by_role("alert")).to_contain_text("Say why the badge is revoked.")
        assert_no_violations(console, "the revoke form refusing an empty reason")
        console.screenshot(path=str(artifacts / "badges-3-revoke-refused.png"), full_page=True)
        console.get_by_label("Reason, shown on the badge's public page").fill(REASON)
        console.get_by_role("button", name="Revoke the badge").click()
        expect(console.get_by_role("status")).to_contain_text("The badge is revoked.")
        console.screenshot(path=str(artifacts / "badges-4-console.png"), full_page=True)

    with fresh_page(browser, bypass_csp=True) as stranger:
        stranger.goto(share)
        expect(stranger.locator("#verification")).to_contain_text("Revoked")
        expect(stranger.locator("#verification")).to_contain_text(REASON)
        assert_no_violations(stranger, "the badge's public page (revoked)")
        stranger.screenshot(path=str(artifacts / "badges-5-revoked.png"), full_page=True)


def test_an_educator_keeps_their_name_out_of_later_badges_inside_the_lms_frame(
    page: Page, browser: Browser, live, artifacts: Path
) -> None:
    """Issue 23 item 6: in "My badges", inside the LMS's iframe, the
    educator chooses not to show their name; the badge they hold keeps it (a signed badge cannot
    change), the next one is issued without it, and its public page names nobody."""
    activity = _earned(live)
    act_as(page, live, "Jordan Lee")
    frame = open_activity(page, activity, TITLE)
    frame.get_by_role("link", name="Your badge").click()
    expect(frame.get_by_role("heading", level=1, name="My badges")).to_be_visible()
    choice = frame.get_by_role("group", name="On badges issued to you from now on")
    expect(choice.get_by_label("As each issuer decides", exact=False)).to_be_checked()
    expect(choice).to_contain_text("shows it")
    expect(frame.locator("#name-signed")).to_contain_text("cannot change afterwards")
    expect(frame.locator(".badge-card")).to_contain_text("This badge shows your name, Jordan Lee.")
    assert_no_violations(frame, "My badges with the choice of name")

    choice.get_by_label("Do not show my name").check()
    frame.get_by_role("button", name="Save my choice").click()
    expect(frame.get_by_role("status").first).to_contain_text("Saved.")
    expect(
        frame.get_by_role("group", name="On badges issued to you from now on").get_by_label(
            "Do not show my name"
        )
    ).to_be_checked()
    expect(frame.locator(".badge-card")).to_contain_text("This badge shows your name, Jordan Lee.")
    assert_no_violations(frame, "My badges after choosing not to show the name")
    shoot(page, frame, artifacts / "badges-6-name-choice.png")

    with get_db(live.tool).begin() as session:
        user_id = session.scalars(select(LtiUser.id).where(LtiUser.email == LEARNER)).one()
    decide_attempt(live.tool, user_id, "feedback-that-moves-learning-forward")
    process(live.tool)
    frame.goto(frame.url.split("#")[0])  # the page again, not a jump within it
    nameless = frame.locator(".badge-card", has_text="This badge does not show your name.")
    expect(nameless).to_have_count(1)
    share = nameless.get_by_label("Link to its public page").input_value()
    with fresh_page(browser, bypass_csp=True) as stranger:
        stranger.goto(share)
        expect(stranger.locator(".lead")).to_contain_text("whose name this badge does not show")
        expect(stranger.locator("body")).not_to_contain_text("Jordan Lee")
        expect(stranger.locator("#verification")).to_contain_text("Verified")
        assert_no_violations(stranger, "the public page of a badge without the name")

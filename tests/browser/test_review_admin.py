"""The console's review pages in a browser: an operator grants an assessor (a refusal first),
revokes the grant after confirming, and reads turnaround and calibration; every page passes
axe-core with no violation at all (issue 9)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.admin import services as accounts
from app.db import get_db
from app.lti.models import LtiUser, Registration
from tests.browser.accessibility import assert_no_violations
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

EMAIL = "olive@example.org"
PASSWORD = "a long password for olive"


def _setup(live: LiveServers) -> str:
    """An operator, the sample catalog, and a person the demo platform knows; return the
    platform's name."""
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
        accounts.create_operator(
            session, accounts.CLI_ACTOR, email=EMAIL, name="Olive", password=PASSWORD
        )
        registration = session.scalars(select(Registration)).first()
        assert registration is not None
        session.add(
            LtiUser(
                registration_id=registration.id,
                sub="assessor-1",
                email="sam.reid@example.edu",
                name="Sam Reid",
            )
        )
        return registration.name


def _check(page: Page, artifacts: Path, name: str, where: str) -> None:
    assert_no_violations(page, where)
    page.screenshot(path=str(artifacts / f"review-admin-{name}.png"), full_page=True)


def test_operator_grants_and_revokes_an_assessor_and_reads_the_figures(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    platform = _setup(live)
    page.goto(f"{live.tool_url}/admin/sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Assessors").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assessors")
    _check(page, artifacts, "1-assessors", "the assessors page")

    page.get_by_label("Organisation").select_option(
        label="Lakemont State University Institute for Teacher Learning"
    )
    page.get_by_label("Platform").select_option(label=platform)
    page.get_by_label("Their email").fill("nobody@example.edu")
    page.get_by_role("button", name="Grant").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Ask them to open Microcred from one of their courses once")
    _check(page, artifacts, "2-unknown", "the grant form with an unknown person")

    page.get_by_label("Their email").fill("sam.reid@example.edu")
    page.get_by_label("Lead reviewer").check()
    page.get_by_role("button", name="Grant").click()
    expect(page.get_by_role("status")).to_contain_text("Sam Reid <sam.reid@example.edu> can now")
    _check(page, artifacts, "3-granted", "the assessors page with a grant")

    page.get_by_role("link", name="Revoke Sam Reid").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Stop Sam Reid <sam.reid@example.edu> assessing"
    )
    _check(page, artifacts, "4-revoke", "the revoke confirmation")
    page.get_by_role("button", name="Yes, revoke").click()
    expect(page.get_by_role("status")).to_contain_text("no longer assesses")
    page.get_by_text("Revoked (1)").click()
    _check(page, artifacts, "5-revoked", "the assessors page with a revoked grant open")

    page.get_by_role("link", name="Turnaround").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review turnaround")
    _check(page, artifacts, "6-turnaround", "the turnaround page")

    page.get_by_role("link", name="Credentials").click()
    page.get_by_role("link").filter(has_text="Questioning to Check for Understanding").first.click()
    page.get_by_role("link", name="Calibration: how far its reviewers agree").click()
    expect(page.get_by_text("Not enough paired reviews yet.")).to_be_visible()
    _check(page, artifacts, "7-calibration", "the calibration page")

    page.get_by_role("link", name="Organisations").click()
    page.get_by_role(
        "link", name="Lakemont State University Institute for Teacher Learning"
    ).click()
    page.get_by_label("Review turnaround target in days").fill("0")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_role("alert")).to_contain_text("must be at least 1")
    _check(page, artifacts, "8-organisation", "the organisation form with a review setting error")

"""An organisation admin builds a stack in the console — first credential, another added and
moved, a milestone, a stale form refused, a credential removed — and gives the organisation its
image; every page passes axe-core with no violation at all (issue 6). Screenshots of each step
are kept in test-artifacts/browser/ (``stacks-*.png``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.catalog.authoring import add_author
from app.catalog.cli import CLI_RIGHTS
from app.catalog.models import Organisation
from app.db import get_db
from tests.browser.accessibility import assert_no_violations
from tests.browser.conftest import fresh_page
from tests.support.catalog import seed_sample_catalog
from tests.support.images import png
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

EMAIL = "ada@lakemont.example.org"
PASSWORD = "a long password for ada"
TITLE = "Questions and Feedback"
QUESTIONING = "Questioning to Check for Understanding"
FEEDBACK = "Feedback That Moves Learning Forward"
TALK_MOVES = "Productive Math Discourse: Talk Moves"


def _organisation_admin(live: LiveServers) -> None:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
        lakemont = session.scalars(
            select(Organisation).where(Organisation.slug == "lakemont-itl")
        ).one()
        add_author(
            session,
            CLI_RIGHTS,
            lakemont,
            email=EMAIL,
            name="Ada Brooks",
            role="admin",
            password=PASSWORD,
        )


def _sign_in(page: Page, live: LiveServers) -> None:
    page.goto(f"{live.tool_url}/admin/sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _check(page: Page, artifacts: Path, name: str, where: str) -> None:
    assert_no_violations(page, where)
    page.screenshot(path=str(artifacts / f"stacks-{name}.png"), full_page=True)


def test_an_organisation_admin_builds_a_stack_and_sets_the_image(
    page: Page, browser: Browser, live: LiveServers, artifacts: Path, tmp_path: Path
) -> None:
    _organisation_admin(live)
    _sign_in(page, live)

    page.get_by_role("link", name="Stacks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stacks")
    expect(page.get_by_role("link", name="Formative Assessment in Practice")).to_be_visible()
    _check(page, artifacts, "1-list", "the stack list")

    # A new stack: a mistake first (no first credential), shown in the summary and the field.
    page.get_by_role("link", name="New stack").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New stack")
    _check(page, artifacts, "2-new", "the new stack form")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Description").fill("Find out what students understand, then tell them.")
    page.get_by_role("button", name="Create the stack").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Choose the stack's first credential.")
    expect(page.get_by_label("Title")).to_have_value(TITLE)
    _check(page, artifacts, "3-new-error", "the new stack form with an error")
    page.get_by_label("First credential").select_option(label=QUESTIONING)
    page.get_by_role("button", name="Create the stack").click()
    expect(page.get_by_role("status")).to_contain_text("educators can see it in the catalog now")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)

    # Two more credentials; the last moved up.
    for title in (TALK_MOVES, FEEDBACK):
        page.get_by_label("Credential to add").select_option(label=title)
        page.get_by_role("button", name="Add to the stack").click()
        expect(page.get_by_role("status")).to_contain_text("Added at the end")
    page.get_by_role("button", name=f"Move up “{FEEDBACK}”").click()
    expect(page.get_by_role("status")).to_contain_text("Moved.")
    expect(page.locator("ol.entries > li h3")).to_have_text([QUESTIONING, FEEDBACK, TALK_MOVES])

    page.get_by_label("Milestone credential").select_option(
        label="Formative Assessment Practitioner"
    )
    page.get_by_role("button", name="Save the milestone").click()
    expect(page.get_by_role("status")).to_contain_text("The milestone is saved.")
    _check(page, artifacts, "4-stack", "the stack's page")

    # A second tab opened before the first one moves a credential: its move is refused.
    with fresh_page(browser, bypass_csp=True) as other:
        _sign_in(other, live)
        other.goto(page.url)
        page.get_by_role("button", name=f"Move down “{FEEDBACK}”").click()
        expect(page.get_by_role("status")).to_contain_text("Moved.")
        other.get_by_role("button", name=f"Move up “{FEEDBACK}”").click()
        expect(other.get_by_role("alert").first).to_contain_text(
            "This stack changed after you opened the page"
        )
        _check(other, artifacts, "5-stale", "the stack's page after a stale move")
    expect(page.locator("ol.entries > li h3")).to_have_text([QUESTIONING, TALK_MOVES, FEEDBACK])

    page.get_by_role("link", name=f"Remove “{TALK_MOVES}” from the stack").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("from the stack?")
    _check(page, artifacts, "6-remove", "the remove confirmation")
    page.get_by_role("button", name="Yes, remove it").click()
    expect(page.get_by_role("status")).to_contain_text("Removed from the stack")
    expect(page.locator("ol.entries > li h3")).to_have_text([QUESTIONING, FEEDBACK])

    page.get_by_role("link", name="Delete this stack…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Delete the stack")
    _check(page, artifacts, "7-delete", "the delete confirmation")
    page.get_by_role("link", name="Cancel").click()

    # The organisation's image: a file that is too small, then a good one.
    page.get_by_role("link", name="Organisations").click()
    page.get_by_role(
        "link", name="Lakemont State University Institute for Teacher Learning"
    ).click()
    small, seal = tmp_path / "small.png", tmp_path / "seal.png"
    small.write_bytes(png(64, 64))
    seal.write_bytes(png(400, 400, colour=(23, 58, 102)))
    page.get_by_label(re.compile("a PNG or SVG")).set_input_files(str(small))
    page.get_by_role("button", name="Save the image").click()
    expect(page.get_by_role("alert")).to_contain_text("The image is 64")
    _check(page, artifacts, "8-image-error", "the organisation page with an image error")
    page.get_by_label(re.compile("a PNG or SVG")).set_input_files(str(seal))
    page.get_by_role("button", name="Save the image").click()
    expect(page.get_by_role("status")).to_have_text("The image is saved.")
    expect(page.get_by_role("button", name="Remove the image")).to_be_visible()
    _check(page, artifacts, "9-organisation", "the organisation page with its image")

"""An author writes a credential in the console, publishes it, and an educator finds it in the
catalog inside the LMS; every authoring page passes axe-core with no violation at all (issue 6).
Screenshots of each step are kept in test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.catalog.authoring import add_author
from app.catalog.cli import CLI_RIGHTS
from app.catalog.models import Organisation
from app.db import get_db
from tests.browser.accessibility import assert_no_violations
from tests.browser.test_launch_in_iframe import act_as, open_activity
from tests.support.catalog import seed_sample_catalog
from tests.support.images import png
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

EMAIL = "lena@lakemont.example.org"
PASSWORD = "a long password for lena"
TITLE = "Exit Tickets That Change Tomorrow's Lesson"


def _author(live: LiveServers) -> None:
    from sqlalchemy import select

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
            name="Lena Ortiz",
            role="author",
            password=PASSWORD,
        )


def _check(page: Page, artifacts: Path, name: str, where: str) -> None:
    assert_no_violations(page, where)
    page.screenshot(path=str(artifacts / f"authoring-{name}.png"), full_page=True)


def test_author_writes_publishes_and_an_educator_finds_it(
    page: Page, live: LiveServers, artifacts: Path, tmp_path: Path
) -> None:
    _author(live)
    page.goto(f"{live.tool_url}/admin/sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # An author lands on the credentials they can edit: Lakemont's, not Riverbend's.
    expect(page.get_by_role("heading", level=1)).to_have_text("Credentials")
    expect(page.get_by_role("link", name="Platforms")).to_have_count(0)
    _check(page, artifacts, "1-list", "the author's credential list")

    page.get_by_role("link", name="New credential").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New credential")
    _check(page, artifacts, "2-new", "the new credential form")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_role("button", name="Create the draft").click()

    # The details: a mistake first, shown in the error summary and at the field.
    expect(page.get_by_role("heading", level=1)).to_have_text("Title, descriptions and settings")
    page.get_by_label("Short description").fill(
        "Design a two-question exit ticket and use the answers to plan the next lesson."
    )
    page.get_by_label("Competency").fill(
        "The educator designs **exit tickets** that reveal who is ready to move on, and "
        "regroups students the next day on that evidence."
    )
    page.get_by_label("Key method").fill(
        "A short check at the end of a lesson, sorted into three piles: got it, almost, not yet."
    )
    page.get_by_label("Estimated hours").fill("about six")
    page.get_by_role("button", name="Save").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Estimated hours must be a number")
    _check(page, artifacts, "3-details-error", "the details form with an error")
    page.get_by_label("Estimated hours").fill("6")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    _check(page, artifacts, "4-credential", "the credential's page")

    # Two parts, the second moved first; then a criterion for each.
    page.get_by_role("link", name="What to submit").click()
    for title, kinds in (
        ("Exit ticket and sorted responses", ("File upload",)),
        ("Reflection", ("Written answer",)),
    ):
        page.get_by_role("link", name="Add a part").click()
        page.get_by_label("Title").fill(title)
        page.get_by_label("Guidance").fill(f"Guidance for the {title.lower()}.")
        page.get_by_label("Written answer").set_checked("Written answer" in kinds)
        for kind in kinds:
            page.get_by_label(kind).check()
        _check(page, artifacts, "5-part-form", "the part form")
        page.get_by_role("button", name="Add").click()
        expect(page.get_by_role("status")).to_have_text("Added.")
    page.get_by_role("button", name="Move up part 2").click()
    expect(page.get_by_role("status")).to_have_text("Moved.")
    expect(page.locator("ol.entries > li h2").first).to_contain_text("Reflection")
    _check(page, artifacts, "6-parts", "the parts list")

    page.get_by_role("link", name="Back to the credential").click()
    page.get_by_role("link", name="Rubric").click()
    for title, part in (
        ("Sorted evidence", "Exit ticket and sorted responses"),
        ("Next-day plan", "Reflection"),
    ):
        page.get_by_role("link", name="Add a criterion").click()
        page.get_by_label("Title").fill(title)
        page.get_by_label(part).check()
        page.get_by_label("Met when").fill(f"The {title.lower()} is clear and specific.")
        page.get_by_role("button", name="Add").click()
        expect(page.get_by_role("status")).to_have_text("Added.")
    _check(page, artifacts, "7-rubric", "the rubric list")

    # The badge image, then the preview as educators will see it.
    page.get_by_role("link", name="Back to the credential").click()
    page.get_by_role("link", name="Badge image").click()
    badge = tmp_path / "exit-tickets.png"
    badge.write_bytes(png(400, 400))
    page.get_by_label("Upload a PNG or SVG").set_input_files(str(badge))
    page.get_by_role("button", name="Save the image").click()
    expect(page.get_by_role("status")).to_have_text("The badge image is saved.")
    expect(page.get_by_text("Ready to publish.")).to_be_visible()

    page.get_by_role("link", name="Preview as educators see it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("heading", name="How it is judged")).to_be_visible()
    _check(page, artifacts, "8-preview", "the preview")

    page.get_by_role("link", name=f"Back to {TITLE}").click()
    page.get_by_role("link", name="Publish version 1…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Publish version 1 of")
    _check(page, artifacts, "9-publish", "the publish confirmation")
    page.get_by_role("button", name="Yes, publish version 1").click()
    expect(page.get_by_role("status")).to_contain_text("educators now see version 1")
    _check(page, artifacts, "10-published", "the published credential")

    # An educator finds it in the catalog, inside the LMS.
    act_as(page, live, "Jordan Lee")
    frame = open_activity(page, "Microcred: welcome")
    tool = page.frame_locator("iframe.tool")
    tool.get_by_role("link", name="Browse micro-credentials").click()
    tool.get_by_label("Search").fill("exit tickets")
    tool.get_by_role("button", name="Show").click()
    # The search's page, not the whole catalog still on screen: a click on that one's link
    # races the search's navigation (and lost, under load).
    expect(tool.get_by_role("heading", level=2)).to_have_text("1 micro-credential")
    tool.get_by_role("link", name=TITLE).click()
    expect(tool.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(tool.get_by_text("Issued by")).to_be_visible()
    assert_no_violations(frame, "the new credential's catalog page")
    page.screenshot(path=str(artifacts / "authoring-11-educator-sees-it.png"), full_page=True)


def test_authoring_messages_read_as_written_and_the_only_part_is_chosen(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    """Issue 28 item 10: a criterion's form with one part has it chosen already; left empty,
    the form says what to do in sentences that name each field by its label."""
    _author(live)
    page.goto(f"{live.tool_url}/admin/sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="New credential").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_role("button", name="Create the draft").click()
    page.get_by_role("link", name="Back to the credential").click()

    page.get_by_role("link", name="What to submit").click()
    page.get_by_role("link", name="Add a part").click()
    page.get_by_label("Written answer").set_checked(False)
    page.get_by_role("button", name="Add").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Give this part a title, e.g. “Lesson plan”.")
    expect(summary).to_contain_text("Write the guidance: tell educators what to submit")
    expect(summary).to_contain_text("Tick at least one kind of accepted evidence")
    _check(page, artifacts, "messages-part", "the part form with its messages")
    page.get_by_label("Title").fill("Reflection")
    page.get_by_label("Guidance").fill("What happened, and what you will change.")
    page.get_by_label("Written answer").check()
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_have_text("Added.")

    page.get_by_role("link", name="Back to the credential").click()
    page.get_by_role("link", name="Rubric").click()
    page.get_by_role("link", name="Add a criterion").click()
    expect(page.get_by_label("Reflection")).to_be_checked()
    page.get_by_role("button", name="Add").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Give this criterion a title, e.g. “Every student responds”.")
    expect(summary).to_contain_text("Say under “Met when” what evidence meets this criterion.")
    expect(summary).not_to_contain_text("Judges the part")
    for machine_made in ("Enter the met when", "Choose judges the part", "Enter the title"):
        expect(page.locator("main")).not_to_contain_text(machine_made)
    _check(page, artifacts, "messages-criterion", "the criterion form with its messages")

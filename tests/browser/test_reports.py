"""The outcome reports in a browser (issue 24 part 1): an operator opens Reports from the
console's navigation, each report with its chart and table, filters one from its form (the
address keeps them) and downloads its CSV; an organisation admin's report. Every page passes
axe-core, charts included; screenshots (screen and print) in test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.admin import services as accounts
from app.catalog.models import Author
from app.db import get_db
from tests.browser.accessibility import assert_no_violations
from tests.reports.support import build_world
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

PASSWORD = "a long password for the reports"


def _account(live: LiveServers, email: str, *, admin_of: int | None = None) -> None:
    with get_db(live.tool).begin() as session:
        created = accounts.create_operator(
            session,
            accounts.CLI_ACTOR,
            email=email,
            name=email.split("@")[0].title(),
            password=PASSWORD,
            is_operator=admin_of is None,
        )
        if admin_of is not None:
            session.add(Author(operator_id=created.id, organisation_id=admin_of, role=Author.ADMIN))


def _sign_in(page: Page, live: LiveServers, email: str) -> None:
    page.goto(f"{live.tool_url}/admin/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _check(page: Page, artifacts: Path, name: str, where: str) -> None:
    assert_no_violations(page, where)
    page.screenshot(path=str(artifacts / f"reports-{name}.png"), full_page=True)


def test_an_operator_reads_filters_and_downloads_each_report(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    build_world(live.tool)
    _account(live, "olive@example.org")
    page.set_viewport_size({"width": 1500, "height": 900})
    _sign_in(page, live, "olive@example.org")

    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    _check(page, artifacts, "0-index", "the reports' index")

    page.get_by_role("link", name="Outcomes").click()
    chart = page.get_by_role("img", name="Outcomes per credential")
    expect(chart).to_be_visible()
    table = page.locator("table.report-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody tr").nth(1)).to_have_text("Questioning2410", use_inner_text=False)
    _check(page, artifacts, "1-outcomes", "the outcomes report")

    page.get_by_label("From", exact=True).fill("2025-01-01")
    page.get_by_label("To (included)", exact=True).fill("2025-01-31")
    page.get_by_label("A row for each", exact=True).select_option(label="platform")
    page.get_by_role("button", name="Show").click()
    assert "from=2025-01-01" in page.url and "by=platform" in page.url
    expect(page.get_by_role("img", name="Outcomes per platform")).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("outcomes-")
    lines = Path(download.value.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert lines == [
        "Platform,Earned,Submitted,Not yet,In progress",
        "District Moodle,1,2,1,0",
        "State Canvas,0,1,0,0",
    ]
    _check(page, artifacts, "2-outcomes-filtered", "the outcomes report per platform in January")

    page.get_by_label("From", exact=True).fill("2025-03-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("after it ends on 2025-01-31")
    _check(page, artifacts, "3-refused", "a refused period")

    for path, name, rows in (
        ("hours", "Continuing-education credit per educator", 3),
        ("criteria", "Share of decisions judging each criterion “not yet”", 6),
        ("timing", "Median days per credential", 3),
    ):
        page.goto(f"{live.tool_url}/admin/reports/{path}")
        expect(page.get_by_role("img", name=name)).to_be_visible()
        expect(table.locator("tbody tr")).to_have_count(rows)
        _check(page, artifacts, f"4-{path}", f"the {path} report")

    page.goto(f"{live.tool_url}/admin/reports/outcomes?by=month")
    page.emulate_media(media="print")
    expect(page.locator(".report-filters")).to_be_hidden()
    expect(page.get_by_role("img", name="Outcomes per month")).to_be_visible()
    page.screenshot(path=str(artifacts / "reports-5-print.png"), full_page=True)
    page.emulate_media(media="screen")


def test_an_organisation_admin_reports_on_their_organisation(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    world = build_world(live.tool)
    _account(live, "ana@lakemont.example.org", admin_of=world.organisations["lakemont"])
    _sign_in(page, live, "ana@lakemont.example.org")
    page.get_by_role("link", name="Reports", exact=True).click()
    page.get_by_role("link", name="Outcomes").click()
    page.get_by_label("A row for each", exact=True).select_option(label="stack")
    page.get_by_role("button", name="Show").click()
    table = page.locator("table.report-table")
    expect(table.locator("tbody th")).to_have_text(["Assessment for learning"])
    expect(page.get_by_label("Credential", exact=True).locator("option")).to_have_text(
        ["Every credential", "Feedback", "Questioning"]
    )
    _check(page, artifacts, "6-organisation-admin", "an organisation admin's outcomes")

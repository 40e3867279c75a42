"""The operator console in a real browser, without JavaScript of its own: an operator signs in,
adds a platform with the manual form (after its error summary), and approves a deployment the
development LMS launched from for the first time; every page is checked with axe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.admin import services
from app.db import get_db
from app.devlms.models import DevTool
from tests.browser.accessibility import assert_accessible
from tests.browser.test_launch_in_iframe import act_as
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

EMAIL = "ada@example.org"
PASSWORD = "correct horse battery staple"
NEW_DEPLOYMENT = "district-2"


def _create_operator(live: LiveServers) -> None:
    with get_db(live.tool).begin() as session:
        services.create_operator(
            session, services.CLI_ACTOR, email=EMAIL, name="Ada Lovelace", password=PASSWORD
        )


def _lms_installs_a_new_deployment(live: LiveServers) -> None:
    """As when a Canvas sub-account installs the tool: the LMS launches with a new id."""
    with get_db(live.devlms).begin() as session:
        session.scalars(select(DevTool)).one().deployment_id = NEW_DEPLOYMENT


def _launch(page: Page, live: LiveServers):
    act_as(page, live, "Jordan Lee")
    page.get_by_role("link", name="Teaching with Evidence").click()
    page.get_by_role("link", name="Microcred: welcome", exact=True).click()
    return page.frame_locator("iframe.tool")


def test_operator_signs_in_adds_a_platform_and_approves_a_deployment(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    _create_operator(live)
    _lms_installs_a_new_deployment(live)
    tool = _launch(page, live)
    expect(tool.get_by_text(f"deployment {NEW_DEPLOYMENT} is not approved yet")).to_be_visible()

    # Sign in: the console sends a signed-out visitor to the sign-in page and back.
    page.goto(f"{live.tool_url}/admin/platforms")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the operator console")
    assert_accessible(page, "the console's sign-in page")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Platforms")
    expect(page.get_by_text("Signed in as Ada Lovelace")).to_be_visible()
    assert_accessible(page, "the console's platform list")

    # The manual form: an empty submission shows the error summary, focused, linking to fields.
    page.get_by_role("link", name="Add a platform").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a platform")
    page.get_by_role("button", name="Add the platform").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(
        summary.get_by_role("link", name="Enter the client ID the LMS gave Microcred.")
    ).to_be_visible()
    assert_accessible(page, "the manual registration form with errors")
    page.screenshot(path=str(artifacts / "operator-console-form-errors.png"), full_page=True)
    summary.get_by_role("link", name="Enter a name, e.g. District Moodle.").click()
    expect(page.get_by_label("Name", exact=True)).to_be_focused()

    page.get_by_label("Name", exact=True).fill("District Moodle")
    page.get_by_label("Issuer (platform ID)").fill("https://moodle.example.edu")
    page.get_by_label("Client ID").fill("AbC123")
    page.get_by_label("OIDC authentication URL").fill("https://moodle.example.edu/mod/lti/auth.php")
    page.get_by_label("Access token URL").fill("https://moodle.example.edu/mod/lti/token.php")
    page.get_by_label("Public keyset (JWKS) URL").fill(
        "https://moodle.example.edu/mod/lti/certs.php"
    )
    page.get_by_label("Moodle").check()
    page.get_by_label("Deployment IDs to approve now").fill("1")
    page.get_by_role("button", name="Add the platform").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("District Moodle")
    expect(page.get_by_role("status")).to_have_text("The platform is registered.")
    assert_accessible(page, "a platform's page after the manual form")

    # The development LMS's new deployment waits on its platform's page.
    page.get_by_role("navigation", name="Operator console").get_by_role(
        "link", name="Platforms"
    ).click()
    row = page.get_by_role("row", name=re.compile("Development LMS"))
    expect(row.get_by_role("cell", name="1 waiting")).to_be_visible()
    row.get_by_role("link", name="Development LMS").click()
    deployments = page.get_by_role("table", name="Deployments of Development LMS")
    pending = deployments.get_by_role("row", name=re.compile(NEW_DEPLOYMENT))
    expect(pending).to_contain_text("Waiting for a decision")
    assert_accessible(page, "a platform's page with a pending deployment")
    pending.get_by_role("button", name=f"Approve deployment {NEW_DEPLOYMENT}").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Deployment {NEW_DEPLOYMENT} is approved: launches from it are accepted."
    )
    expect(deployments.get_by_role("row", name=re.compile(NEW_DEPLOYMENT))).to_contain_text(
        "Approved"
    )
    assert_accessible(page, "a platform's page after approving a deployment")
    page.screenshot(path=str(artifacts / "operator-console-platform.png"), full_page=True)

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="deployment.approved")).to_be_visible()
    assert_accessible(page, "the audit log")

    # The launch that was refused now works.
    tool = _launch(page, live)
    expect(tool.get_by_role("heading", level=1)).to_have_text("Welcome, Jordan Lee")


def test_operator_issues_a_registration_link_and_schedules_a_key_rotation(
    page: Page, live: LiveServers, artifacts: Path
) -> None:
    _create_operator(live)
    page.goto(f"{live.tool_url}/admin/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Registration links").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration links")
    page.get_by_label("Which LMS is it for?").fill("Northside district Moodle")
    page.get_by_role("button", name="Issue the link").click()
    link = page.get_by_label("Registration link")
    expect(link).to_have_value(re.compile(rf"^{re.escape(live.tool_url)}/lti/register/[\w-]+$"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.tool_url)
    page.get_by_role("button", name="Copy the link").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link.input_value()
    expect(page.get_by_label("Which LMS is it for?")).to_have_value("")  # ready for the next
    assert_accessible(page, "the console's registration links page with a new link")
    page.screenshot(path=str(artifacts / "operator-console-registration-link.png"), full_page=True)

    # The link really registers: the LMS admin's side (the consent page) opens with it.
    response = page.request.get(
        link.input_value(),
        params={"openid_configuration": f"{live.devlms_url}/x", "registration_token": "t"},
    )
    assert response.status == 200 and "Register Microcred" in response.text()

    page.get_by_role("link", name="Keys").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Keys")
    page.get_by_role("button", name="Publish the next key").click()
    expect(page.get_by_role("status")).to_contain_text("The next key is published")
    expect(page.get_by_text("Next: published, not signing yet")).to_be_visible()
    assert_accessible(page, "the console's keys page during a rotation")
    page.screenshot(path=str(artifacts / "operator-console-keys.png"), full_page=True)


OPTIONS_LOOK = """() => [...document.querySelectorAll("input[type=radio], input[type=checkbox]")]
  .map((input) => {
    const label = document.querySelector(`label[for="${input.id}"]`);
    const i = input.getBoundingClientRect(), l = label.getBoundingClientRect();
    const style = getComputedStyle(label);
    return {
      id: input.id,
      beside: l.left >= i.right && l.top < i.bottom && i.top < l.bottom,
      boxed: style.borderTopStyle !== "none" && parseFloat(style.borderTopWidth) > 0,
      small: i.width >= 12 && i.width <= 24,
    };
  })"""


@pytest.mark.parametrize("page_name", ["Registration links", "Keys"])
def test_console_options_read_as_options_not_as_text_fields(
    page: Page, live: LiveServers, artifacts: Path, page_name: str
) -> None:
    """Issue 28 item 4: the review page's large Met / Not yet boxes leaked into every option
    list, so a radio's label looked like an empty text field beside it."""
    _create_operator(live)
    page.goto(f"{live.tool_url}/admin/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=page_name, exact=True).click()
    # The click starts a navigation; reading the options before it lands reads the old page.
    expect(page.get_by_role("heading", level=1)).to_have_text(page_name)
    options = page.evaluate(OPTIONS_LOOK)
    assert options, "no options on the page"
    for option in options:
        assert option == {**option, "beside": True, "boxed": False, "small": True}, option
    first = page.locator("input[type=radio], input[type=checkbox]").first
    first.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # by keyboard: the focus must show on the option itself
    expect(first).to_be_focused()
    expect(first).to_have_css("outline-style", "solid")
    slug = page_name.lower().replace(" ", "-")
    page.screenshot(path=str(artifacts / f"console-options-{slug}.png"), full_page=True)

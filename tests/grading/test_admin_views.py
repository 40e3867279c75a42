"""The console's review pages (issue 9): assessor grants for operators and organisation
admins, each organisation's review settings on its profile, turnaround for operators, and a
credential's calibration for whoever authors it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event, select

from app.audit.models import AuditEvent
from app.catalog.models import Organisation
from app.db import get_db
from app.grading.models import Review
from tests.admin.console import check_html
from tests.catalog.authoring_support import account, add_organisation, post, text_of
from tests.grading.admin_support import (
    add_attempt,
    add_credential,
    add_person,
    add_platform,
    add_review,
    days_ago,
    decide,
    grants,
)


@pytest.fixture
def world(app) -> dict[str, Any]:
    add_organisation(app, "lakemont", "Lakemont Institute")
    add_organisation(app, "riverbend", "Riverbend Network")
    moodle, moodle_uuid = add_platform(app, "District Moodle")
    return {
        "moodle": moodle,
        "moodle_uuid": moodle_uuid,
        "sam": add_person(app, moodle, "sam-1", "sam@district.example", "Sam Reid"),
    }


@pytest.fixture
def operator(app, world):
    return account(app, "olive@example.org", operator=True)


@pytest.fixture
def lakemont_admin(app, world):
    return account(app, "ana@lakemont.example.org", memberships={"lakemont": "admin"})


@pytest.fixture
def lakemont_author(app, world):
    return account(app, "lena@lakemont.example.org", memberships={"lakemont": "author"})


def _grant(client, world, organisation="lakemont", **fields: str) -> Any:
    data = {"organisation": organisation, "platform": world["moodle_uuid"], **fields}
    return post(client, "/admin/assessors", data)


def _audit(app, prefix: str) -> list[AuditEvent]:
    with get_db(app).begin() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.startswith(prefix))
                .order_by(AuditEvent.id)
            )
        )


def _nav(html: str) -> list[str]:
    found = re.search(r'<nav class="console-nav".*?</nav>', html, re.S)
    assert found
    return re.findall(r">([^<>]+)</a>", found.group(0))


# --- Who sees what ------------------------------------------------------------------------------


def test_the_navigation_offers_assessors_to_operators_and_organisation_admins(
    operator, lakemont_admin, lakemont_author
):
    assert {"Assessors", "Turnaround"} <= set(_nav(operator.get("/admin/catalog/").text))
    admin_nav = _nav(lakemont_admin.get("/admin/catalog/").text)
    assert "Assessors" in admin_nav and "Turnaround" not in admin_nav
    author_nav = _nav(lakemont_author.get("/admin/catalog/").text)
    assert "Assessors" not in author_nav and "Turnaround" not in author_nav


def test_an_author_who_is_no_admin_is_refused_the_assessors_page(app, lakemont_author, world):
    page = lakemont_author.get("/admin/assessors")
    assert page.status_code == 403
    assert "Only operators and an organisation's admins manage its assessors" in text_of(page.text)
    assert _grant(lakemont_author, world, email="sam@district.example").status_code == 403
    assert grants(app) == []


def test_an_organisation_admin_sees_and_manages_only_their_organisations(
    app, lakemont_admin, world
):
    page = lakemont_admin.get("/admin/assessors")
    assert page.status_code == 200
    check_html(page.text)
    text = text_of(page.text)
    assert "Lakemont Institute" in text and "Riverbend Network" not in text
    refused = _grant(lakemont_admin, world, "riverbend", email="sam@district.example")
    assert refused.status_code == 403
    assert "Only operators and Riverbend Network's admins manage its assessors" in text_of(
        refused.text
    )
    assert grants(app) == []


def test_an_operator_sees_every_organisation(operator):
    text = text_of(operator.get("/admin/assessors").text)
    assert "Lakemont Institute" in text and "Riverbend Network" in text


# --- Granting and revoking ----------------------------------------------------------------------


def test_an_organisation_admin_grants_a_lead_reviewer(app, lakemont_admin, world):
    response = _grant(lakemont_admin, world, email="SAM@district.example", lead="1")
    assert response.status_code == 303
    page = lakemont_admin.get(response.headers["Location"])
    text = text_of(page.text)
    assert "Sam Reid <sam@district.example> can now assess Lakemont Institute's credentials." in (
        text
    )
    assert "sam@district.example District Moodle Yes by ana@lakemont.example.org" in text
    check_html(page.text)
    [grant] = grants(app)
    assert grant.lead is True and grant.granted_by == "ana@lakemont.example.org"
    [audited] = _audit(app, "assessor.")
    assert (audited.action, audited.actor, audited.target) == (
        "assessor.granted",
        "ana@lakemont.example.org",
        "organisation:lakemont",
    )


def test_a_person_who_never_launched_is_refused_with_a_message(app, operator, world):
    response = _grant(operator, world, email="new@district.example")
    assert response.status_code == 400
    text = text_of(response.text)
    assert "There is a problem" in text
    assert (
        "Nobody with the email new@district.example has opened Microcred from District Moodle "
        "yet. Ask them to open Microcred from one of their courses once, then grant again."
    ) in text
    assert 'value="new@district.example"' in response.text  # what was typed stays
    check_html(response.text)
    assert grants(app) == [] and _audit(app, "assessor.") == []


def test_a_shared_email_asks_for_the_lms_user_id(app, operator, world):
    add_person(app, world["moodle"], "sam-2", "sam@district.example", "Sam Reid")
    response = _grant(operator, world, email="sam@district.example")
    assert response.status_code == 400
    assert "2 people on District Moodle have the email sam@district.example. Give the LMS " \
        "user id" in text_of(response.text)  # fmt: skip
    assert 'id="sub-error"' in response.text
    check_html(response.text)
    assert _grant(operator, world, email="sam@district.example", sub="sam-2").status_code == 303
    assert grants(app)[0].user_id != world["sam"]


def test_the_grant_form_names_each_missing_field(app, operator, world):
    response = post(operator, "/admin/assessors", {"organisation": "", "platform": ""})
    assert response.status_code == 400
    text = text_of(response.text)
    assert "Choose the organisation whose credentials they will assess." in text
    assert "Choose the platform they open Microcred from." in text
    assert "Enter their email as their LMS sends it, or their LMS user id." in text
    check_html(response.text)


def test_revoking_asks_for_confirmation_then_keeps_the_grant_revoked(app, operator, world):
    _grant(operator, world, email="sam@district.example")
    grant_id = grants(app)[0].id
    confirm = operator.get(f"/admin/assessors/{grant_id}/revoke")
    assert confirm.status_code == 200
    check_html(confirm.text)
    assert "Stop Sam Reid <sam@district.example> assessing Lakemont Institute's" in text_of(
        confirm.text
    )
    assert grants(app)[0].revoked_at is None  # the page alone changes nothing
    done = post(operator, f"/admin/assessors/{grant_id}/revoke")
    assert done.status_code == 303
    page = operator.get(done.headers["Location"])
    text = text_of(page.text)
    assert "no longer assesses Lakemont Institute's credentials" in text
    assert "Revoked (1)" in text
    check_html(page.text)
    assert grants(app)[0].revoked_at is not None
    assert [e.action for e in _audit(app, "assessor.")] == ["assessor.granted", "assessor.revoked"]
    # Granting again restores it.
    assert _grant(operator, world, email="sam@district.example").status_code == 303
    assert grants(app)[0].revoked_at is None
    assert _audit(app, "assessor.")[-1].action == "assessor.regranted"


def test_an_organisation_admin_cannot_revoke_another_organisations_grant(
    app, operator, lakemont_admin, world
):
    _grant(operator, world, "riverbend", email="sam@district.example")
    grant_id = grants(app)[0].id
    assert lakemont_admin.get(f"/admin/assessors/{grant_id}/revoke").status_code == 403
    assert post(lakemont_admin, f"/admin/assessors/{grant_id}/revoke").status_code == 403
    assert grants(app)[0].revoked_at is None


def test_revoking_an_unknown_grant_is_not_found(operator):
    assert operator.get("/admin/assessors/999/revoke").status_code == 404


# --- The organisation's review settings ---------------------------------------------------------

PROFILE = {
    "name": "Lakemont Institute",
    "url": "https://lakemont.example.org",
    "email": "badges@lakemont.org",
    "description": "",
}


def _organisation(app, slug: str = "lakemont") -> Organisation:
    with get_db(app).begin() as session:
        found = session.scalars(select(Organisation).where(Organisation.slug == slug)).one()
        session.expunge(found)
        return found


def test_an_organisation_admin_sets_blind_review_and_the_turnaround_target(app, lakemont_admin):
    page = lakemont_admin.get("/admin/catalog/organisations/lakemont")
    text = text_of(page.text)
    assert "Blind review: assessors do not see educators' names, emails or courses" in text
    assert "Review turnaround target in days" in text
    check_html(page.text)
    response = post(
        lakemont_admin,
        "/admin/catalog/organisations/lakemont",
        {**PROFILE, "blind_review": "1", "turnaround_days": "7"},
    )
    assert response.status_code == 303
    found = _organisation(app)
    assert (found.blind_review, found.turnaround_days) == (True, 7)
    [audited] = _audit(app, "organisation.updated")
    assert audited.details == {
        "blind_review": {"from": False, "to": True},
        "turnaround_days": {"from": 14, "to": 7},
    }


def test_an_empty_turnaround_target_means_the_default(app, operator):
    post(operator, "/admin/catalog/organisations/lakemont", {**PROFILE, "turnaround_days": "30"})
    post(operator, "/admin/catalog/organisations/lakemont", {**PROFILE, "turnaround_days": ""})
    assert _organisation(app).turnaround_days == 14


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Review turnaround target in days must be at least 1."),
        ("91", "Review turnaround target in days must be at most 90."),
        ("two", "Review turnaround target in days must be a whole number"),
        ("2.5", "Review turnaround target in days must be a whole number"),
    ],
)
def test_a_bad_turnaround_target_is_refused_with_a_message(app, operator, value, message):
    response = post(
        operator,
        "/admin/catalog/organisations/lakemont",
        {**PROFILE, "blind_review": "1", "turnaround_days": value},
    )
    assert response.status_code == 400
    assert message in text_of(response.text)
    check_html(response.text)
    found = _organisation(app)
    assert (found.blind_review, found.turnaround_days) == (False, 14)


def test_a_plain_author_cannot_change_the_review_settings(app, lakemont_author):
    page = text_of(lakemont_author.get("/admin/catalog/organisations/lakemont").text)
    assert "Blind review No" in page and "Review turnaround target 14 days" in page
    response = post(
        lakemont_author,
        "/admin/catalog/organisations/lakemont",
        {**PROFILE, "blind_review": "1", "turnaround_days": "3"},
    )
    assert response.status_code == 403
    assert _organisation(app).blind_review is False


# --- Turnaround ---------------------------------------------------------------------------------


def test_turnaround_is_for_operators_only(operator, lakemont_admin, lakemont_author):
    page = operator.get("/admin/turnaround")
    assert page.status_code == 200
    check_html(page.text)
    assert "Lakemont Institute" in text_of(page.text)
    for client in (lakemont_admin, lakemont_author):
        assert client.get("/admin/turnaround").status_code == 403


def _add_busy_organisation(app, world, slug: str) -> None:
    add_organisation(app, slug, slug.title())
    credential = add_credential(app, slug, f"{slug}-credential")
    for n, age in enumerate((2, 30)):
        educator = add_person(app, world["moodle"], f"{slug}-{n}")
        add_attempt(app, world["moodle"], educator, credential, submitted_at=days_ago(age))
    educator = add_person(app, world["moodle"], f"{slug}-decided")
    attempt = add_attempt(app, world["moodle"], educator, credential, submitted_at=days_ago(9))
    review = add_review(app, attempt, world["sam"], Review.FIRST, {"purpose": True})
    decide(app, attempt, review, days_ago(4))


def test_the_turnaround_page_sends_as_many_statements_for_many_organisations(app, operator, world):
    engine = get_db(app).engine
    sent = [0]

    def count(*_args: Any) -> None:
        sent[0] += 1

    def statements() -> int:
        operator.get("/admin/turnaround")  # warm-up
        sent[0] = 0
        event.listen(engine, "before_cursor_execute", count)
        try:
            page = operator.get("/admin/turnaround")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert page.status_code == 200
        return sent[0]

    _add_busy_organisation(app, world, "first")
    few = statements()
    for n in range(6):
        _add_busy_organisation(app, world, f"more-{n}")
    many = statements()
    assert many == few
    text = text_of(operator.get("/admin/turnaround").text)
    assert "More-5 14 2 1 30.0 1 5.0 5.0" in text


# --- Calibration --------------------------------------------------------------------------------


def test_calibration_is_linked_from_the_credential_and_open_to_its_authors(
    app, world, operator, lakemont_author
):
    add_credential(app, "lakemont", "hinge")
    add_credential(app, "riverbend", "river")
    credential_page = lakemont_author.get("/admin/catalog/credentials/hinge")
    assert 'href="/admin/catalog/credentials/hinge/calibration"' in credential_page.text
    page = lakemont_author.get("/admin/catalog/credentials/hinge/calibration")
    assert page.status_code == 200
    check_html(page.text)
    text = text_of(page.text)
    assert "Not enough paired reviews yet." in text
    assert "Cohen's kappa is the agreement beyond what chance alone would give" in text
    refused = lakemont_author.get("/admin/catalog/credentials/river/calibration")
    assert refused.status_code == 403
    assert operator.get("/admin/catalog/credentials/river/calibration").status_code == 200
    assert operator.get("/admin/catalog/credentials/nothing/calibration").status_code == 404


def test_calibration_page_shows_agreement_and_reviewers(app, world, lakemont_admin):
    credential = add_credential(app, "lakemont", "hinge", review={"second_review": True})
    bea = add_person(app, world["moodle"], "bea", "bea@district.example", "Bea Cole")
    for n, (first, second) in enumerate(((True, True), (False, False), (True, False))):
        educator = add_person(app, world["moodle"], f"educator-{n}")
        attempt = add_attempt(app, world["moodle"], educator, credential)
        add_review(app, attempt, world["sam"], Review.FIRST, {"purpose": first})
        add_review(app, attempt, bea, Review.SECOND, {"purpose": second})
    page = lakemont_admin.get("/admin/catalog/credentials/hinge/calibration")
    check_html(page.text)
    text = text_of(page.text)
    # Pairs (T,T) (F,F) (T,F): p_o = 2/3, p_e = 2/3 · 1/3 + 1/3 · 2/3 = 4/9, kappa = 0.4.
    assert "Clear purpose 3 67% 0.40" in text
    assert "Sam Reid District Moodle 3 67%" in text and "Bea Cole District Moodle 3 33%" in text
    assert "Not enough paired reviews yet" not in text

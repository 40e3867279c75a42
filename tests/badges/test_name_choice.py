"""Whether a badge names its earner (issue 23 item 6): the signed credential carries the name
beside the hashed email only when the educator's choice says so, or, without a choice, when the
issuing organisation's setting "Name in badges" does (shown by default). A signed credential
cannot change, so the choice is made before issue, or changed for badges issued later."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from app.catalog.models import Organisation
from app.db import get_db
from app.lti.models import LtiUser
from tests.badges.support import (
    EMAIL,
    QUESTIONING,
    add_educator,
    awards,
    decide_attempt,
    earn,
    load_sample,
    process,
)
from tests.evidence.support import HINGE, LEARNER, add_activity, launch
from tests.support.catalog import seed_sample_catalog

NAME = "Ana Teacher"


def _identifiers(award) -> list[dict]:
    return award.credential_json["credentialSubject"]["identifier"]


def _names(award) -> list[str]:
    return [i["identityHash"] for i in _identifiers(award) if i["identityType"] == "name"]


def _organisation_shows_names(app, shown: bool, slug: str = "lakemont-itl") -> None:
    with get_db(app).begin() as session:
        organisation = session.scalars(select(Organisation).where(Organisation.slug == slug)).one()
        organisation.badge_name_shown = shown


def _choose(app, user_id: int, choice: bool | None) -> None:
    with get_db(app).begin() as session:
        session.get_one(LtiUser, user_id).name_in_badges = choice


def _earn_with(app, *, organisation_shows: bool, choice: bool | None, **educator):
    load_sample(app)
    _organisation_shows_names(app, organisation_shows)
    _registration, user_id = add_educator(app, **educator)
    _choose(app, user_id, choice)
    attempt_id = decide_attempt(app, user_id, QUESTIONING)
    process(app)
    (award,) = awards(app, attempt_id=attempt_id)
    return award


# --- the defaults and the choice, at issue ------------------------------------------------------


def test_by_default_an_organisation_shows_the_name_and_the_badge_carries_it(app):
    award = earn(app)
    assert _names(award) == [NAME]
    assert award.recipient_name == NAME
    with get_db(app).begin() as session:
        assert all(o.badge_name_shown for o in session.scalars(select(Organisation)))


def test_an_organisation_that_does_not_show_names_issues_a_badge_without_one(app):
    award = _earn_with(app, organisation_shows=False, choice=None)
    assert _names(award) == []
    assert [i["identityType"] for i in _identifiers(award)] == ["emailAddress"]
    assert award.recipient_name is None
    assert NAME not in str(award.credential_json)


def test_the_educators_choice_not_to_show_their_name_wins_over_the_default(app):
    award = _earn_with(app, organisation_shows=True, choice=False)
    assert _names(award) == []
    assert award.recipient_name is None
    assert NAME not in str(award.credential_json)


def test_the_educators_choice_to_show_their_name_wins_over_the_default(app):
    award = _earn_with(app, organisation_shows=False, choice=True)
    assert _names(award) == [NAME]
    assert award.recipient_name == NAME


def test_a_nameless_credential_still_proves_its_recipient_by_the_hashed_email(app):
    import hashlib

    award = _earn_with(app, organisation_shows=True, choice=False)
    (hashed,) = _identifiers(award)
    expected = hashlib.sha256((EMAIL + hashed["salt"]).encode()).hexdigest()
    assert hashed["identityHash"] == "sha256$" + expected
    assert hashed["hashed"] is True


def test_without_a_name_from_the_lms_the_badge_names_nobody_rather_than_the_email(app):
    """The name identifier is not hashed: a name made up from the email (or the LMS user id),
    as the pages show when the LMS sends no name, would publish the address beside its hash."""
    award = _earn_with(app, organisation_shows=True, choice=None, name=None)
    assert _names(award) == []
    assert EMAIL not in str(award.credential_json)
    assert "educator-1" not in str(award.credential_json)


def test_a_milestone_follows_the_choice_too(app):
    load_sample(app)
    _registration, user_id = add_educator(app)
    _choose(app, user_id, False)
    for slug in (
        "questioning-to-check-for-understanding",
        "feedback-that-moves-learning-forward",
        "data-informed-small-group-instruction",
    ):
        decide_attempt(app, user_id, slug)
    process(app)
    found = awards(app)
    assert any(a.stack_id is not None for a in found)
    assert all(_names(a) == [] and a.recipient_name is None for a in found)


# --- what the public and the console show -------------------------------------------------------


def test_the_public_page_of_a_nameless_badge_names_nobody_and_says_so(app, client):
    award = _earn_with(app, organisation_shows=True, choice=False)
    html = unescape(client.get(f"/badges/{award.public_id}").get_data(as_text=True))
    assert NAME not in html and EMAIL not in html
    assert "whose name this badge does not show" in html
    assert "Verified" in html
    assert "None" not in re.sub(r"<script.*?</script>", "", html, flags=re.S)


def test_the_console_still_says_whose_nameless_badge_it_is(app):
    from app.admin.services import CLI_ACTOR
    from app.badges import services
    from app.catalog.authoring import Rights

    award = _earn_with(app, organisation_shows=False, choice=None)
    operator = Rights(actor=CLI_ACTOR, is_operator=True, roles={})
    with get_db(app).begin() as session:
        rows, total = services.console_awards(session, operator, q="ana teacher")
    assert total == 1
    (row,) = rows
    assert row.public_id == award.public_id
    assert NAME in row.recipient and "not on the badge" in row.recipient


# --- the educator's choice, on "My badges" -----------------------------------------------------


@pytest.fixture
def activity(live) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    return add_activity(live, HINGE)


def _user_id(live, email: str = LEARNER) -> int:
    with get_db(live.tool).begin() as session:
        return session.scalars(select(LtiUser.id).where(LtiUser.email == email)).one()


def _choice_on(html: str) -> str | None:
    found = re.search(r'name="name_in_badges" value="(\w+)" checked', html)
    return found[1] if found else None


def test_my_badges_offers_the_choice_before_any_badge_and_says_a_badge_cannot_change(
    live, activity
):
    educator = launch(live, LEARNER, activity)
    html = unescape(educator.get("/my/badges").text)
    assert "Your name on your badges" in html
    assert _choice_on(html) == "default"
    assert "cannot change" in html
    assert "Lakemont" in html  # whose default it is, and what it is


def test_the_choice_saved_before_issue_keeps_the_name_out_of_the_badge(live, activity):
    educator = launch(live, LEARNER, activity)
    saved = educator.post("/my/badges/name", name_in_badges="hidden")
    assert saved.status_code == 200 and "/my/badges" in saved.url
    assert "Saved. Badges issued to you from now on" in saved.text
    assert "The badge's public page shows the evidence" not in saved.text
    assert _choice_on(saved.text) == "hidden"
    decide_attempt(live.tool, _user_id(live), HINGE)
    process(live.tool)
    (award,) = awards(live.tool, user_id=_user_id(live))
    assert _names(award) == []
    page = unescape(educator.get("/my/badges").text)
    assert "does not show your name" in page


def test_a_changed_choice_applies_to_later_badges_and_leaves_issued_ones_as_signed(live, activity):
    educator = launch(live, LEARNER, activity)
    decide_attempt(live.tool, _user_id(live), HINGE)
    process(live.tool)
    (first,) = awards(live.tool, user_id=_user_id(live))
    assert _names(first) != []
    educator.post("/my/badges/name", name_in_badges="hidden")
    (again,) = awards(live.tool, user_id=_user_id(live))
    assert again.credential_json == first.credential_json
    page = unescape(educator.get("/my/badges").text)
    assert "shows your name" in page and "badges issued from now on" in page
    decide_attempt(live.tool, _user_id(live), "feedback-that-moves-learning-forward")
    process(live.tool)
    later = [a for a in awards(live.tool, user_id=_user_id(live)) if a.id != first.id]
    assert [_names(a) for a in later] == [[]]


def test_going_back_to_the_default_follows_the_organisation_again(live, activity):
    educator = launch(live, LEARNER, activity)
    educator.post("/my/badges/name", name_in_badges="shown")
    educator.post("/my/badges/name", name_in_badges="default")
    with get_db(live.tool).begin() as session:
        assert session.get_one(LtiUser, _user_id(live)).name_in_badges is None


def test_an_unknown_choice_is_refused_with_a_message_and_nothing_changes(live, activity):
    educator = launch(live, LEARNER, activity)
    educator.post("/my/badges/name", name_in_badges="hidden")
    refused = educator.post("/my/badges/name", name_in_badges="sometimes")
    assert refused.status_code == 400
    assert "Choose" in unescape(refused.text)
    with get_db(live.tool).begin() as session:
        assert session.get_one(LtiUser, _user_id(live)).name_in_badges is False


def test_the_choice_needs_the_launch_session_in_the_body(live, activity):
    educator = launch(live, LEARNER, activity)
    refused = educator.user.http.post(
        f"{educator.base}/my/badges/name?lt={educator.token}",
        data={"name_in_badges": "hidden"},
        timeout=30,
    )
    assert refused.status_code in (401, 403)
    with get_db(live.tool).begin() as session:
        assert session.get_one(LtiUser, _user_id(live)).name_in_badges is None


# --- the organisation's setting, in the console ------------------------------------------------

PROFILE = {
    "name": "Lakemont Institute",
    "url": "https://lakemont.example.org",
    "email": "badges@lakemont.org",
    "description": "",
}


@pytest.fixture
def lakemont(app) -> None:
    from tests.catalog.authoring_support import add_organisation

    add_organisation(app, "lakemont", "Lakemont Institute")


def _lakemont(app) -> Organisation:
    with get_db(app).begin() as session:
        found = session.scalars(select(Organisation).where(Organisation.slug == "lakemont")).one()
        session.expunge(found)
        return found


def test_an_organisation_admin_sets_names_not_shown_in_its_badges_by_default(app, lakemont):
    from app.audit.models import AuditEvent
    from tests.admin.console import check_html
    from tests.catalog.authoring_support import account, post

    admin = account(app, "lee@lakemont.org", memberships={"lakemont": "admin"})
    page = admin.get("/admin/catalog/organisations/lakemont")
    check_html(page.text)
    assert "Names in badges" in unescape(page.text)
    assert re.search(r'name="badge_name_shown" value="shown" checked', page.text)
    saved = post(
        admin, "/admin/catalog/organisations/lakemont", {**PROFILE, "badge_name_shown": "hidden"}
    )
    assert saved.status_code == 303
    assert _lakemont(app).badge_name_shown is False
    again = admin.get("/admin/catalog/organisations/lakemont").text
    assert re.search(r'name="badge_name_shown" value="hidden" checked', again)
    with get_db(app).begin() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "organisation.updated")
        ).one()
        assert event.details == {"badge_name_shown": {"from": True, "to": False}}


def test_a_new_organisation_shows_names_in_its_badges_unless_told_otherwise(app):
    from tests.catalog.authoring_support import account, post

    operator = account(app, "op@example.org", operator=True)
    form = operator.get("/admin/catalog/organisations/new").text
    assert re.search(r'name="badge_name_shown" value="shown" checked', form)
    made = post(operator, "/admin/catalog/organisations/new", {**PROFILE, "slug": "lakemont"})
    assert made.status_code == 303, made.text
    assert _lakemont(app).badge_name_shown is True


def test_an_unknown_setting_is_refused_with_a_message(app, lakemont):
    from tests.catalog.authoring_support import account, post, text_of

    operator = account(app, "op@example.org", operator=True)
    refused = post(
        operator, "/admin/catalog/organisations/lakemont", {**PROFILE, "badge_name_shown": "x"}
    )
    assert refused.status_code == 400
    assert "names in badges" in text_of(refused.text).lower()
    assert _lakemont(app).badge_name_shown is True


def test_a_plain_author_sees_the_setting_and_cannot_change_it(app, lakemont):
    from tests.catalog.authoring_support import account, post, text_of

    author = account(app, "kim@lakemont.org", memberships={"lakemont": "author"})
    page = text_of(author.get("/admin/catalog/organisations/lakemont").text)
    assert "Names in badges Shown" in page
    refused = post(
        author, "/admin/catalog/organisations/lakemont", {**PROFILE, "badge_name_shown": "hidden"}
    )
    assert refused.status_code == 403
    assert _lakemont(app).badge_name_shown is True

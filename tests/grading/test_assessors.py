"""Assessor grants (issue 9): a person a platform knows may be granted to assess an
organisation's credentials across courses and platforms, by an operator or one of the
organisation's admins; grants are revoked, not deleted, and every change is audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select

from app.admin.services import Actor
from app.audit.models import AuditEvent
from app.catalog.authoring import Rights
from app.catalog.models import Organisation
from app.db import get_db
from app.grading import assessors
from app.tenancy import scope_to_platform
from tests.catalog.authoring_support import add_organisation
from tests.grading.admin_support import add_person, add_platform, grants

OPERATOR = Rights(actor=Actor("olive@example.org"), is_operator=True, roles={})


@pytest.fixture
def world(app) -> dict[str, Any]:
    """Two organisations, two platforms, and people who have launched from them."""
    lakemont = add_organisation(app, "lakemont", "Lakemont Institute")
    riverbend = add_organisation(app, "riverbend", "Riverbend Network")
    moodle, moodle_uuid = add_platform(app, "District Moodle")
    canvas, canvas_uuid = add_platform(app, "State Canvas")
    return {
        "lakemont": lakemont,
        "riverbend": riverbend,
        "moodle": moodle,
        "moodle_uuid": moodle_uuid,
        "canvas": canvas,
        "canvas_uuid": canvas_uuid,
        "sam": add_person(app, moodle, "sam-1", "Sam.Reid@district.example", "Sam Reid"),
        "kim_canvas": add_person(app, canvas, "kim-9", "kim@state.example", "Kim Lee"),
    }


def _grant(app, organisation: str, platform: int, rights: Rights = OPERATOR, **person: Any):
    with get_db(app).begin() as session:
        found = session.scalars(select(Organisation).where(Organisation.slug == organisation)).one()
        registration = assessors.find_registration(session, str(platform))
        return assessors.grant(session, rights, found, registration, **person)


def _actions(app) -> list[tuple[str, str, dict]]:
    with get_db(app).begin() as session:
        return [
            (e.action, e.actor, e.details)
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_a_person_the_platform_knows_is_granted_and_the_grant_audited(app, world):
    result = _grant(app, "lakemont", world["moodle"], email="sam.reid@district.example", lead=True)
    assert result.outcome == "granted"
    [grant] = grants(app)
    assert (grant.organisation_id, grant.user_id, grant.registration_id) == (
        world["lakemont"],
        world["sam"],
        world["moodle"],
    )
    assert grant.lead is True and grant.granted_by == "olive@example.org"
    assert grant.revoked_at is None
    assert _actions(app) == [
        (
            "assessor.granted",
            "olive@example.org",
            {"person": "Sam Reid <Sam.Reid@district.example>", "platform": "District Moodle",
             "lead": True},
        )
    ]  # fmt: skip


def test_someone_who_never_opened_microcred_there_is_refused_with_what_to_do(app, world):
    # Kim launched from Canvas only: on Moodle nobody knows them yet.
    with pytest.raises(assessors.PersonNotKnown) as refused:
        _grant(app, "lakemont", world["moodle"], email="kim@state.example")
    assert refused.value.status == 400
    assert refused.value.message == (
        "Nobody with the email kim@state.example has opened Microcred from District Moodle yet. "
        "Ask them to open Microcred from one of their courses once, then grant again."
    )
    assert refused.value.field == "email"
    assert grants(app) == []


def test_an_email_two_people_share_on_the_platform_asks_for_the_lms_user_id(app, world):
    add_person(app, world["moodle"], "sam-2", "sam.reid@district.example", "Sam Reid (old)")
    with pytest.raises(assessors.EmailShared) as refused:
        _grant(app, "lakemont", world["moodle"], email="sam.reid@district.example")
    assert "2 people on District Moodle have the email" in refused.value.message
    assert "Give the LMS user id" in refused.value.message
    assert refused.value.field == "sub"
    assert grants(app) == []
    # The LMS user id settles it (the email, if also given, is not used).
    result = _grant(
        app, "lakemont", world["moodle"], email="sam.reid@district.example", sub="sam-1"
    )
    assert result.outcome == "granted" and grants(app)[0].user_id == world["sam"]


def test_an_unknown_lms_user_id_is_refused(app, world):
    with pytest.raises(assessors.PersonNotKnown) as refused:
        _grant(app, "lakemont", world["moodle"], sub="nobody")
    assert "Nobody with the LMS user id “nobody”" in refused.value.message
    assert refused.value.field == "sub"


def test_granting_an_active_grant_again_changes_only_whether_it_is_a_lead(app, world):
    _grant(app, "lakemont", world["moodle"], sub="sam-1")
    changed = _grant(app, "lakemont", world["moodle"], sub="sam-1", lead=True)
    same = _grant(app, "lakemont", world["moodle"], sub="sam-1", lead=True)
    assert (changed.outcome, same.outcome) == ("lead-changed", "unchanged")
    [grant] = grants(app)
    assert grant.lead is True
    actions = _actions(app)
    assert [a for a, _, _ in actions] == ["assessor.granted", "assessor.lead_changed"]
    assert actions[1][2]["lead"] == {"from": False, "to": True}


def test_a_revoked_grant_is_kept_and_granting_again_restores_it(app, world):
    _grant(app, "lakemont", world["moodle"], sub="sam-1", lead=True)
    grant_id = grants(app)[0].id
    with get_db(app).begin() as session:
        assessors.revoke(session, OPERATOR, grant_id)
    [revoked] = grants(app)
    assert revoked.revoked_at is not None
    with get_db(app).begin() as session:
        assert assessors.granted_organisations(session, world["moodle"], world["sam"]) == {}
    again = _grant(app, "lakemont", world["moodle"], sub="sam-1")
    assert again.outcome == "regranted"
    [restored] = grants(app)
    assert restored.id == grant_id and restored.revoked_at is None and restored.lead is False
    assert [a for a, _, _ in _actions(app)] == [
        "assessor.granted",
        "assessor.revoked",
        "assessor.regranted",
    ]


def test_revoking_a_revoked_grant_is_not_found(app, world):
    _grant(app, "lakemont", world["moodle"], sub="sam-1")
    grant_id = grants(app)[0].id
    with get_db(app).begin() as session:
        assessors.revoke(session, OPERATOR, grant_id)
    with get_db(app).begin() as session, pytest.raises(assessors.NotFound):
        assessors.revoke(session, OPERATOR, grant_id)


def test_only_an_admin_of_the_organisation_may_grant(app, world):
    author = Rights(Actor("ann@x.example"), False, {world["lakemont"]: "author"})
    other_admin = Rights(Actor("ben@x.example"), False, {world["riverbend"]: "admin"})
    own_admin = Rights(Actor("cat@x.example"), False, {world["lakemont"]: "admin"})
    for rights in (author, other_admin):
        with pytest.raises(assessors.NotAnOrganisationAdmin) as refused:
            _grant(app, "lakemont", world["moodle"], rights, sub="sam-1")
        assert refused.value.status == 403
    assert grants(app) == []
    assert _grant(app, "lakemont", world["moodle"], own_admin, sub="sam-1").outcome == "granted"
    assert grants(app)[0].granted_by == "cat@x.example"


def test_an_organisation_admin_manages_only_their_organisations(app, world):
    own_admin = Rights(Actor("cat@x.example"), False, {world["lakemont"]: "admin"})
    author = Rights(Actor("ann@x.example"), False, {world["lakemont"]: "author"})
    with get_db(app).begin() as session:
        mine = assessors.manageable_organisations(session, own_admin)
        everyone = assessors.manageable_organisations(session, OPERATOR)
        with pytest.raises(assessors.NotAnOrganisationAdmin):
            assessors.manageable_organisations(session, author)
    assert [o.slug for o in mine] == ["lakemont"]
    assert [o.slug for o in everyone] == ["lakemont", "riverbend"]


def test_granted_organisations_lists_active_grants_with_lead_in_one_statement(app, world):
    _grant(app, "lakemont", world["moodle"], sub="sam-1", lead=True)
    _grant(app, "riverbend", world["moodle"], sub="sam-1")
    _grant(app, "lakemont", world["canvas"], sub="kim-9")
    statements: list[str] = []
    engine = get_db(app).engine

    def count(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    with get_db(app).begin() as session:
        # As the lead's queue calls it: inside the assessor's launch, scoped to their platform.
        scope_to_platform(session, world["moodle"])
        event.listen(engine, "before_cursor_execute", count)
        try:
            found = assessors.granted_organisations(session, world["moodle"], world["sam"])
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert found == {world["lakemont"]: True, world["riverbend"]: False}
    assert len(statements) == 1
    with get_db(app).begin() as session:
        scope_to_platform(session, world["moodle"])  # another platform's session still finds it
        assert assessors.granted_organisations(session, world["canvas"], world["kim_canvas"]) == {
            world["lakemont"]: False
        }


def test_a_platform_is_found_by_its_registration_id_or_uuid(app, world):
    with get_db(app).begin() as session:
        assert assessors.find_registration(session, str(world["canvas"])).id == world["canvas"]
        assert assessors.find_registration(session, world["canvas_uuid"]).id == world["canvas"]
        with pytest.raises(assessors.NotFound):
            assessors.find_registration(session, "no-such-platform")


# --- The command line ---------------------------------------------------------------------------


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["grading", *args])


def test_cli_grants_by_email_and_lists_the_grant(app, world):
    result = _cli(
        app, "grant", "lakemont", "--platform", str(world["moodle"]), "--email",
        "sam.reid@district.example", "--lead",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "Sam Reid <Sam.Reid@district.example> is now a lead reviewer of Lakemont" in result.output
    )
    [grant] = grants(app)
    assert grant.granted_by == "cli" and grant.lead is True
    assert _actions(app)[0][:2] == ("assessor.granted", "cli")
    listing = _cli(app, "grants")
    assert listing.exit_code == 0
    assert "lakemont\tSam Reid <Sam.Reid@district.example>\tDistrict Moodle\tsub=sam-1\t" \
        "active lead\tgranted by cli" in listing.output  # fmt: skip
    assert _cli(app, "grants", "riverbend").output.strip() == "No assessor grants."


def test_cli_grants_by_lms_user_id_and_platform_uuid_then_revokes(app, world):
    granted = _cli(app, "grant", "riverbend", "--platform", world["canvas_uuid"], "--sub", "kim-9")
    assert granted.exit_code == 0, granted.output
    assert "is now an assessor of Riverbend Network" in granted.output
    revoked = _cli(app, "revoke", "riverbend", "--platform", world["canvas_uuid"], "--sub", "kim-9")
    assert revoked.exit_code == 0, revoked.output
    assert "Kim Lee <kim@state.example> no longer assesses Riverbend Network's" in revoked.output
    assert grants(app)[0].revoked_at is not None
    assert "revoked 20" in _cli(app, "grants", "riverbend").output
    again = _cli(app, "revoke", "riverbend", "--platform", world["canvas_uuid"], "--sub", "kim-9")
    assert again.exit_code == 1 and "has no active grant for Riverbend Network" in again.output


def test_cli_refuses_an_unknown_person_with_what_to_do(app, world):
    result = _cli(
        app, "grant", "lakemont", "--platform", str(world["moodle"]), "--email", "new@x.example"
    )
    assert result.exit_code == 1
    assert "has opened Microcred from District Moodle yet" in result.output
    assert grants(app) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grant", "nowhere", "--platform", "1", "--sub", "s"], "There is no organisation"),
        (["grant", "lakemont", "--platform", "999", "--sub", "s"], "There is no platform “999”"),
        (["grant", "lakemont", "--platform", "1"], "Give one of --email or --sub."),
        (["grant", "lakemont", "--platform", "1", "--sub", "a", "--email", "b"], "Give one of"),
    ],
)
def test_cli_says_what_is_wrong_with_its_arguments(app, world, args, message):
    result = _cli(app, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert grants(app) == []

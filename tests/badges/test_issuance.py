"""Issuing badges from the outbox: an earned decision becomes a signed OB 3.0 credential for the
educator, once; not yet issues nothing; a completed stack earns its milestone (issue 11)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from app.badges import identity, proofs
from app.badges.issuance import Signer
from app.badges.models import Award, IssuerKey
from app.badges.processing import build, issue_badges
from app.badges.services import site_of
from app.db import get_db
from app.outbox.models import OutboxEvent
from app.outbox.processing import Settings
from tests.badges.support import (
    EMAIL,
    add_educator,
    awards,
    decide_attempt,
    earn,
    load_sample,
    process,
)

STACK = [
    "questioning-to-check-for-understanding",
    "feedback-that-moves-learning-forward",
    "data-informed-small-group-instruction",
]
MILESTONE = "formative-assessment-practitioner"


def _events(app) -> list[OutboxEvent]:
    with get_db(app).begin() as session:
        return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def test_an_earned_decision_issues_one_signed_credential(app):
    award = earn(app)
    document = award.credential_json
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert document["issuer"]["id"] == "did:web:127.0.0.1%3A5000:issuers:lakemont-itl"
    assert document["credentialSubject"]["achievement"]["name"].startswith("Questioning")
    assert document["id"] == f"http://127.0.0.1:5000/badges/{award.public_id}"
    with get_db(app).begin() as session:
        result = proofs.verify(document, identity.resolver(session, site_of(app)))
    assert result.ok, result.reason


def test_the_recipient_is_the_salted_hash_of_the_email_never_the_address(app):
    award = earn(app)
    (hashed, named) = award.credential_json["credentialSubject"]["identifier"]
    assert hashed["identityType"] == "emailAddress"
    assert hashed["hashed"] is True
    expected = hashlib.sha256((EMAIL + hashed["salt"]).encode()).hexdigest()
    assert hashed["identityHash"] == "sha256$" + expected
    assert named == {
        "type": "IdentityObject",
        "identityType": "name",
        "hashed": False,
        "identityHash": "Ana Teacher",
    }
    assert EMAIL not in str(award.credential_json)


def test_each_award_has_its_own_salt(app):
    first = earn(app)
    second = earn(app, sub="educator-2", email="bo@example.edu", name="Bo")
    assert first.recipient_salt != second.recipient_salt


def test_the_email_is_hashed_lower_cased_as_validators_compare_it(app):
    award = earn(app, email="Ana.Teacher@Example.EDU")
    expected = hashlib.sha256(("ana.teacher@example.edu" + award.recipient_salt).encode())
    assert award.recipient_hash == "sha256$" + expected.hexdigest()


def test_without_an_email_the_lms_user_id_is_hashed_instead(app):
    award = earn(app, email=None)
    (hashed, _named) = award.credential_json["credentialSubject"]["identifier"]
    assert hashed["identityType"] == "systemId"
    assert award.recipient_type == "systemId"


def test_the_name_on_the_badge_is_the_one_the_educator_chose(app):
    load_sample(app)
    _registration, user_id = add_educator(app)
    with get_db(app).begin() as session:
        from app.lti.models import LtiUser

        session.get_one(LtiUser, user_id).badge_name = "Dr Ana Teacher-Ruiz"
    attempt_id = decide_attempt(app, user_id)
    process(app)
    (award,) = awards(app, attempt_id=attempt_id)
    assert award.recipient_name == "Dr Ana Teacher-Ruiz"


def test_not_yet_issues_nothing_and_the_event_is_done(app):
    load_sample(app)
    _registration, user_id = add_educator(app)
    decide_attempt(app, user_id, earned=False)
    counters = process(app).counters
    assert awards(app) == []
    assert counters.issued == 0
    assert all(e.processed_at is not None for e in _events(app))


def test_an_event_handled_twice_issues_once(app):
    award = earn(app)
    with get_db(app).begin() as session:
        for event in session.scalars(select(OutboxEvent)):
            event.processed_at = None
    process(app)
    assert [a.id for a in awards(app)] == [award.id]


def test_the_first_badge_of_an_issuer_makes_its_key_and_later_ones_reuse_it(app):
    first = earn(app)
    second = earn(app, sub="educator-2", email="bo@example.edu")
    assert first.issuer_key_id == second.issuer_key_id
    with get_db(app).begin() as session:
        keys = session.scalars(select(IssuerKey)).all()
    assert [k.state for k in keys] == [IssuerKey.ACTIVE]


def test_awards_get_distinct_status_list_indexes(app):
    found = [earn(app, sub=f"educator-{n}", email=f"e{n}@example.edu") for n in range(5)]
    indexes = {(a.status_list_id, a.status_index) for a in found}
    assert len(indexes) == 5
    entry = found[0].credential_json["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry"
    assert entry["statusListIndex"] == str(found[0].status_index)


def test_completing_a_stack_earns_its_milestone(app):
    load_sample(app)
    _registration, user_id = add_educator(app)
    for slug in STACK[:2]:
        decide_attempt(app, user_id, slug)
    process(app)
    assert len(awards(app)) == 2
    decide_attempt(app, user_id, STACK[2])
    counters = process(app).counters
    assert counters.issued == 2
    milestone = [a for a in awards(app) if a.stack_id is not None]
    assert len(milestone) == 1
    assert milestone[0].credential.slug == MILESTONE
    assert milestone[0].attempt_id is None
    narrative = milestone[0].credential_json["evidence"][0]["narrative"]
    assert "completing every credential of its stack" in narrative


def test_a_milestone_is_earned_once(app):
    load_sample(app)
    _registration, user_id = add_educator(app)
    for slug in [*STACK, STACK[0]]:
        decide_attempt(app, user_id, slug)
    process(app)
    assert len([a for a in awards(app) if a.stack_id is not None]) == 1


def test_a_revoked_credential_does_not_count_towards_a_milestone(app):
    load_sample(app)
    _registration, user_id = add_educator(app)
    decide_attempt(app, user_id, STACK[0])
    process(app)
    with get_db(app).begin() as session:
        from app.db import utcnow

        award = session.scalars(select(Award).execution_options(all_platforms=True)).one()
        award.revoked_at = utcnow()
    for slug in STACK[1:]:
        decide_attempt(app, user_id, slug)
    process(app)
    assert [a for a in awards(app) if a.stack_id is not None] == []


def test_a_failing_issue_is_retried_then_marked_failed_with_its_error(app):
    """The issuer key cannot be decrypted (the secret key was changed): the event keeps its
    error, is retried, and after the last try is marked failed — nothing issued, nothing lost."""
    earn(app)  # the issuer's key, made with the app's secret
    _registration, other = add_educator(app, sub="educator-2", email="bo@example.edu")
    attempt = decide_attempt(app, other)
    processor = build(app)
    processor.settings = Settings(max_tries=2, retry_base_seconds=0, retry_cap_seconds=0)
    processor.handler = issue_badges(Signer(site_of(app), identity.issuer_key_cipher("x" * 64)))
    processor.run(until_idle=True)
    event = [e for e in _events(app) if e.attempt_id == attempt][-1]
    assert event.failed_at is not None
    assert event.tries == 2
    assert "InvalidToken" in (event.last_error or "")
    assert awards(app, attempt_id=attempt) == []
    assert (processor.counters.retried, processor.counters.failed) == (1, 1)

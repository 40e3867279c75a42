"""The decision as its educator reads it (issue 9, "Outcome"): criteria in the rubric's order
with their parts, a decision that does not match the rubric read without failing, and the
previous attempt's "not yet" on the workspace of the next attempt."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.exchange import import_catalog
from app.catalog.models import Credential, CredentialVersion
from app.db import get_db
from app.evidence import services
from app.evidence.models import Attempt
from app.lti.models import LtiUser, Registration
from tests.catalog.test_exchange import catalog, version
from tests.evidence.support import record_decision

# The rubric's order is neither the parts' order nor the keys' alphabetical order.
CRITERIA = [
    {"key": "plan", "part": "artifact", "title": "Planned question", "pass_descriptor": "P."},
    {"key": "purpose", "part": "overview", "title": "Purpose", "pass_descriptor": "Why."},
    {"key": "clarity", "part": "overview", "title": "Clarity", "pass_descriptor": "Clear."},
]


@pytest.fixture
def session(app: Any) -> Iterator[Session]:
    with get_db(app).begin() as session:
        document = catalog()
        document["credentials"][0]["versions"] = [version(criteria=CRITERIA)]
        import_catalog(session, document)
        registration = Registration(
            name="alpha",
            issuer="https://alpha.example",
            client_id="c",
            auth_login_url="https://alpha.example/auth",
            auth_token_url="https://alpha.example/token",
            key_set_url="https://alpha.example/jwks",
        )
        session.add(registration)
        session.flush()
        session.add(LtiUser(registration_id=registration.id, sub="educator"))
        session.flush()
        yield session


def _attempt(session: Session, number: int = 1, state: str = Attempt.SUBMITTED) -> Attempt:
    user = session.scalars(select(LtiUser).where(LtiUser.sub == "educator")).one()
    credential = session.scalars(
        select(Credential).where(Credential.slug == "formative-questioning")
    ).one()
    version_row = session.scalars(
        select(CredentialVersion).where(CredentialVersion.credential_id == credential.id)
    ).one()
    attempt = Attempt(
        registration_id=user.registration_id,
        user_id=user.id,
        credential_id=credential.id,
        version_id=version_row.id,
        number=number,
        state=state,
    )
    session.add(attempt)
    session.flush()
    return attempt


def _judged(**met: bool) -> dict[str, dict[str, Any]]:
    return {key: {"met": value, "comment": f"On {key}."} for key, value in met.items()}


def test_an_undecided_attempt_has_no_decision(session):
    attempt = _attempt(session)
    assert services.decision_of(session, attempt.id) is None


def test_criteria_come_in_the_rubrics_order_with_their_parts(session):
    attempt = _attempt(session)
    # The stored mapping lists them in another order than the rubric.
    record_decision(
        session,
        attempt,
        Attempt.NOT_YET,
        _judged(clarity=True, purpose=False, plan=True),
        feedback="  A good start.  ",
    )
    decision = services.decision_of(session, attempt.id)
    assert decision is not None
    assert [c.key for c in decision.criteria] == ["plan", "purpose", "clarity"]
    plan = decision.criteria[0]
    assert (plan.title, plan.part_key, plan.part_title, plan.pass_descriptor) == (
        "Planned question",
        "artifact",
        "Lesson plan",
        "P.",
    )
    assert (plan.met, plan.comment) == (True, "On plan.")
    assert decision.outcome == Attempt.NOT_YET and not decision.earned
    assert decision.feedback == "A good start."
    assert decision.attempt_number == 1


def test_criteria_not_met_come_first_for_not_yet(session):
    attempt = _attempt(session)
    record_decision(
        session, attempt, Attempt.NOT_YET, _judged(plan=True, purpose=True, clarity=False)
    )
    decision = services.decision_of(session, attempt.id)
    assert decision is not None
    assert [c.key for c in decision.not_met] == ["clarity"]
    assert [c.key for c in decision.not_met_first] == ["clarity", "plan", "purpose"]
    assert [c.key for c in decision.not_met_in("overview")] == ["clarity"]
    assert decision.not_met_in("artifact") == ()


def test_a_rubric_criterion_the_decision_does_not_mention_is_left_out(session):
    attempt = _attempt(session)
    record_decision(session, attempt, Attempt.EARNED, _judged(plan=True, clarity=True))
    decision = services.decision_of(session, attempt.id)
    assert decision is not None
    assert [c.key for c in decision.criteria] == ["plan", "clarity"]


def test_a_judgement_of_a_criterion_outside_the_rubric_is_kept_last(session):
    attempt = _attempt(session)
    judged: dict[str, Any] = _judged(plan=False, purpose=True, clarity=True)
    judged["retired"] = {"met": False, "comment": "Still worth reading."}
    judged["malformed"] = "not a judgement"  # stored JSON is not checked on the way in
    record_decision(session, attempt, Attempt.NOT_YET, judged)
    decision = services.decision_of(session, attempt.id)
    assert decision is not None
    assert [c.key for c in decision.criteria] == ["plan", "purpose", "clarity", "retired"]
    retired = decision.criteria[-1]
    assert (retired.title, retired.part_key, retired.comment) == (
        "retired",
        None,
        "Still worth reading.",
    )


def test_a_met_value_other_than_true_reads_as_not_met(session):
    attempt = _attempt(session)
    record_decision(
        session,
        attempt,
        Attempt.NOT_YET,
        {"plan": {"met": None}, "purpose": {"met": "yes", "comment": None}, "clarity": {}},
    )
    decision = services.decision_of(session, attempt.id)
    assert decision is not None
    assert [(c.key, c.met, c.comment) for c in decision.criteria] == [
        ("plan", False, ""),
        ("purpose", False, ""),
        ("clarity", False, ""),
    ]


def test_the_workspace_of_a_decided_attempt_carries_its_decision(session):
    attempt = _attempt(session)
    record_decision(session, attempt, Attempt.EARNED, _judged(plan=True, purpose=True))
    ws = services.workspace(session, attempt)
    assert ws.decision is not None and ws.decision.earned
    assert ws.previous_decision is None


def test_the_next_attempt_carries_the_previous_attempts_feedback(session):
    first = _attempt(session)
    record_decision(
        session, first, Attempt.NOT_YET, _judged(plan=False, purpose=True, clarity=False)
    )
    second = _attempt(session, number=2, state=Attempt.DRAFT)
    ws = services.workspace(session, second)
    assert ws.decision is None
    assert ws.previous_decision is not None
    assert ws.previous_decision.attempt_id == first.id
    assert [c.key for c in ws.previous_decision.not_met] == ["plan", "clarity"]


def test_once_the_next_attempt_is_decided_the_previous_feedback_steps_back(session):
    first = _attempt(session)
    record_decision(session, first, Attempt.NOT_YET, _judged(plan=False))
    second = _attempt(session, number=2)
    record_decision(session, second, Attempt.EARNED, _judged(plan=True))
    ws = services.workspace(session, second)
    assert ws.decision is not None and ws.decision.attempt_id == second.id
    assert ws.previous_decision is None

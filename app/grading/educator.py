"""What an educator is told about the review of their submission while they wait: how far the
reviews have come (one of two, waiting for a lead) and how long reviews usually take.

The expected time is never made up: it is how long this issuer's decisions took lately (the
median over the last ``turnaround.WINDOW_DAYS`` days, once there are enough of them to say
"usually"), else the target the issuer states for the credential (its own, or its
organisation's), which the page calls a target, not a forecast.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.models import Credential, CredentialVersion, Organisation
from app.db import utcnow
from app.evidence.models import Attempt
from app.grading import rules, turnaround
from app.grading.models import Decision, Review
from app.grading.services import next_round, reviews_of

ROUND_NAMES = {Review.FIRST: "first", Review.SECOND: "second", Review.LEAD: "lead"}
MIN_DECISIONS = 5
"""Fewer decisions than this say nothing about what is usual: the stated target is shown."""


@dataclass(frozen=True)
class Expectation:
    """How long reviews take, in days, and where the number comes from."""

    days: float
    observed: bool
    """``True``: the median time from submission to decision of the issuer's recent decisions;
    ``False``: the issuer's stated target."""
    issuer: str

    @property
    def whole_days(self) -> int:
        return max(1, round(self.days))


@dataclass(frozen=True)
class ReviewProgress:
    """Where a submitted attempt's review stands, as its educator may know it (no names)."""

    reviews_needed: int
    """1, or 2 when the credential asks for two independent reviews."""
    reviews_done: int
    waiting_for: str
    """The review it waits for: ``first``, ``second`` or ``lead``."""
    being_reviewed: bool
    """Someone holds it now (a live claim on the round it waits for)."""
    expectation: Expectation


def review_progress(session: Session, attempt: Attempt) -> ReviewProgress | None:
    """Return where a waiting attempt's review stands (``None`` for a draft or a decision)."""
    if attempt.state not in Attempt.WAITING:
        return None
    now = utcnow()
    version = session.get(CredentialVersion, attempt.version_id)
    organisation = session.scalars(
        select(Organisation)
        .join(Credential, Credential.organisation_id == Organisation.id)
        .where(Credential.id == attempt.credential_id)
    ).one()
    assert version is not None  # an attempt's version is never deleted (RESTRICT)
    settings = rules.settings_of(version, organisation)
    reviews = reviews_of(session, [attempt.id])[attempt.id]
    waiting_for = next_round(settings, version.content, reviews) or Review.LEAD
    claim = next((r for r in reviews if r.round == waiting_for and r.state == Review.CLAIMED), None)
    return ReviewProgress(
        reviews_needed=2 if settings.second_review else 1,
        reviews_done=sum(1 for r in reviews if r.state == Review.SUBMITTED),
        waiting_for=ROUND_NAMES[waiting_for],
        being_reviewed=claim is not None
        and claim.expires_at.replace(tzinfo=None) > now.replace(tzinfo=None),
        expectation=expectation(session, organisation, settings, now),
    )


def expectation(
    session: Session,
    organisation: Organisation,
    settings: rules.ReviewSettings,
    now: datetime | None = None,
) -> Expectation:
    """How long this issuer's reviews usually take: recent decisions on its credentials (on the
    caller's platform), else its stated target."""
    now = now or utcnow()
    took = [
        max(0.0, (decided_at - submitted_at).total_seconds() / turnaround.DAY)
        for submitted_at, decided_at in session.execute(
            select(Attempt.submitted_at, Decision.decided_at)
            .join(Attempt, Attempt.id == Decision.attempt_id)
            .join(Credential, Credential.id == Attempt.credential_id)
            .where(
                Credential.organisation_id == organisation.id,
                Decision.decided_at >= now - timedelta(days=turnaround.WINDOW_DAYS),
                Attempt.submitted_at.is_not(None),
            )
        )
        if submitted_at is not None
    ]
    if len(took) >= MIN_DECISIONS:
        return Expectation(statistics.median(took), True, organisation.name)
    return Expectation(float(settings.turnaround_days), False, organisation.name)

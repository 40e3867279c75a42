"""Calibration: how far a credential's reviewers agree with one another.

When a credential asks for two independent reviews, each submission is judged twice (rounds 1
and 2) by different assessors who do not see each other's judgement. Every criterion both
reviews judged gives a *pair* of met / not-yet judgements, and both outcomes give a pair of
earned / not-yet. Over the pairs we report the percent agreement and Cohen's kappa, the
agreement beyond what chance would give if each reviewer judged at their own overall rate:

    kappa = (p_o - p_e) / (1 - p_e)

with ``p_o`` the share of pairs that agree and ``p_e`` the agreement expected by chance
(Cohen 1960, "A coefficient of agreement for nominal scales", Educational and Psychological
Measurement 20(1)). Pairs are counted across the credential's versions and all platforms; the
lead's round 3 is a settlement, not an independent judgement, and is left out.

Also what the outcome reports read of the rubric's judgements (``criterion_tallies``): how often
each criterion's standing judgement was "not yet", which tells authors which parts of a rubric
educators find hardest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.catalog.models import CredentialVersion
from app.evidence.models import Attempt
from app.grading.models import Decision, Review
from app.lti.models import LtiUser, Registration
from app.tenancy import ALL_PLATFORMS

Pair = tuple[bool, bool]


def percent_agreement(pairs: Sequence[Pair]) -> float | None:
    """Return the share of pairs whose two judgements agree (``None`` for no pairs)."""
    if not pairs:
        return None
    return sum(1 for a, b in pairs if a == b) / len(pairs)


def cohen_kappa(pairs: Sequence[Pair]) -> float | None:
    """Return Cohen's kappa for two raters' yes/no judgements of the same items.

    ``None`` when it is undefined (no pairs). When both raters gave one and the same answer
    throughout, chance alone predicts their agreement: kappa's formula divides zero by zero,
    and we return 1.0 because they did agree on every item."""
    n = len(pairs)
    if n == 0:
        return None
    agree = sum(1 for a, b in pairs if a == b)
    first_yes = sum(1 for a, _ in pairs if a)
    second_yes = sum(1 for _, b in pairs if b)
    # Exact fractions: textbook values come out exact, and p_e == 1 is detected exactly.
    observed = Fraction(agree, n)
    expected = Fraction(first_yes * second_yes + (n - first_yes) * (n - second_yes), n * n)
    if expected == 1:
        return 1.0
    return float((observed - expected) / (1 - expected))


@dataclass(frozen=True)
class Agreement:
    """Agreement over one set of pairs."""

    pairs: int
    percent: float | None
    kappa: float | None

    @classmethod
    def of(cls, pairs: Sequence[Pair]) -> Agreement:
        return cls(len(pairs), percent_agreement(pairs), cohen_kappa(pairs))


@dataclass(frozen=True)
class CriterionAgreement:
    key: str
    title: str
    agreement: Agreement


@dataclass(frozen=True)
class ReviewerSummary:
    name: str
    platform: str
    reviews: int
    met_share: float | None
    """Of the criteria this reviewer judged, the share judged met."""


@dataclass(frozen=True)
class Calibration:
    criteria: list[CriterionAgreement]
    outcome: Agreement
    reviewers: list[ReviewerSummary]

    @property
    def has_pairs(self) -> bool:
        return self.outcome.pairs > 0 or any(c.agreement.pairs for c in self.criteria)


def _titles(session: Session, credential_id: int) -> list[tuple[str, str]]:
    """Return (key, title) of every criterion the credential's versions have had: the latest
    version's criteria in its order, then older ones'; a title from the latest version that
    has the criterion."""
    contents = session.scalars(
        select(CredentialVersion.content)
        .where(CredentialVersion.credential_id == credential_id)
        .order_by(CredentialVersion.number.desc())
    )
    titles: dict[str, str] = {}
    for content in contents:
        for criterion in (content or {}).get("criteria", []):
            key = criterion.get("key")
            if key and key not in titles:
                titles[key] = criterion.get("title") or key
    return list(titles.items())


def _met(judgement: Any) -> bool | None:
    value = judgement.get("met") if isinstance(judgement, dict) else None
    return value if isinstance(value, bool) else None


def calibration(session: Session, credential_id: int) -> Calibration:
    """Return the credential's agreement per criterion, on outcomes, and per reviewer (three
    statements)."""
    titles = _titles(session, credential_id)
    reviews = session.execute(
        select(
            Review.attempt_id,
            Review.round,
            Review.reviewer_id,
            Review.criteria,
            Review.outcome,
        )
        .join(Attempt, Attempt.id == Review.attempt_id)
        .where(
            Attempt.credential_id == credential_id,
            Review.state == Review.SUBMITTED,
            Review.round.in_((Review.FIRST, Review.SECOND)),
        )
        .execution_options(**{ALL_PLATFORMS: True})
    ).all()

    by_attempt: dict[int, dict[int, Any]] = defaultdict(dict)
    judged: dict[int, list[bool]] = defaultdict(list)
    done: dict[int, int] = defaultdict(int)
    for review in reviews:
        by_attempt[review.attempt_id][review.round] = review
        done[review.reviewer_id] += 1
        for judgement in (review.criteria or {}).values():
            met = _met(judgement)
            if met is not None:
                judged[review.reviewer_id].append(met)

    criterion_pairs: dict[str, list[Pair]] = defaultdict(list)
    outcome_pairs: list[Pair] = []
    for rounds in by_attempt.values():
        first, second = rounds.get(Review.FIRST), rounds.get(Review.SECOND)
        if first is None or second is None:
            continue
        for key, judgement in (first.criteria or {}).items():
            a, b = _met(judgement), _met((second.criteria or {}).get(key))
            if a is not None and b is not None:
                criterion_pairs[key].append((a, b))
        if first.outcome and second.outcome:
            outcome_pairs.append((first.outcome == Review.EARNED, second.outcome == Review.EARNED))

    known = dict(titles)
    keys = [key for key, _ in titles] + sorted(k for k in criterion_pairs if k not in known)
    criteria = [
        CriterionAgreement(key, known.get(key, key), Agreement.of(criterion_pairs[key]))
        for key in keys
    ]

    people = session.execute(
        select(LtiUser.id, LtiUser.name, LtiUser.email, LtiUser.sub, Registration.name)
        .join(Registration, Registration.id == LtiUser.registration_id)
        .where(LtiUser.id.in_(list(done) or [-1]))
        .execution_options(**{ALL_PLATFORMS: True})
    ).all()
    reviewers = [
        ReviewerSummary(
            name=name or email or f"LMS user id {sub}",
            platform=platform,
            reviews=done[user_id],
            met_share=(sum(judged[user_id]) / len(judged[user_id]) if judged[user_id] else None),
        )
        for user_id, name, email, sub, platform in people
    ]
    reviewers.sort(key=lambda r: (-r.reviews, r.name.lower()))
    return Calibration(criteria, Agreement.of(outcome_pairs), reviewers)


# --- Which criteria educators find hardest (the outcome reports) ---------------------------------


@dataclass(frozen=True)
class CriterionTally:
    """How often one criterion of one credential was judged in the decisions of a period, and
    how often "not yet"."""

    credential_id: int
    key: str
    judged: int
    not_yet: int


def criterion_tallies(
    session: Session,
    credential_ids: Collection[int],
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    registration_id: int | None = None,
) -> list[CriterionTally]:
    """Count, per credential and criterion, the decisions of ``[since, until)`` that judged it
    and those that judged it not met: the judgement that stands (the decision's), not each
    reviewer's. One statement; each decision's criteria are counted here, as their keys live
    in a JSON column that SQLite and PostgreSQL unpack differently."""
    conditions: list[ColumnElement[bool]] = [
        Attempt.credential_id.in_(list(credential_ids) or [-1])
    ]
    if registration_id is not None:
        conditions.append(Decision.registration_id == registration_id)
    if since is not None:
        conditions.append(Decision.decided_at >= since)
    if until is not None:
        conditions.append(Decision.decided_at < until)
    rows = session.execute(
        select(Attempt.credential_id, Decision.criteria)
        .join(Attempt, Attempt.id == Decision.attempt_id)
        .where(*conditions)
        .execution_options(**{ALL_PLATFORMS: True})
    )
    judged: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for credential_id, criteria in rows:
        for key, judgement in (criteria or {}).items():
            met = _met(judgement)
            if met is None:
                continue
            counts = judged[(credential_id, key)]
            counts[0] += 1
            counts[1] += 0 if met else 1
    return [
        CriterionTally(credential_id, key, counts[0], counts[1])
        for (credential_id, key), counts in sorted(judged.items())
    ]

"""Review turnaround per issuer organisation, for operators: how much is waiting now and how
much of it is overdue, and how long decisions took over the last 90 days.

A submission's target is its credential version's ``content["review"]["turnaround_days"]``
when the version sets one, else its organisation's ``turnaround_days``. The console acts for
no single platform, so the figures cover every platform. Three statements whatever the number
of organisations; medians and 90th percentiles are computed here from (organisation, seconds)
rows, which keeps the SQL the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.models import Credential, CredentialVersion, Organisation
from app.db import utcnow
from app.evidence.models import Attempt
from app.grading.models import Decision
from app.tenancy import ALL_PLATFORMS

WINDOW_DAYS = 90
"""How far back decisions are counted."""
DAY = 86400.0


@dataclass(frozen=True)
class OrganisationTurnaround:
    """One organisation's figures (days as decimals)."""

    slug: str
    name: str
    target_days: int
    """The organisation's own target (a credential version may set another)."""
    waiting: int
    overdue: int
    oldest_waiting_days: float | None
    decided: int
    """Decisions in the last ``WINDOW_DAYS`` days."""
    median_days: float | None
    p90_days: float | None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Return the value below which ``fraction`` of ``values`` lie, interpolating linearly
    between the closest ranks (``None`` for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def turnaround(session: Session, now: datetime | None = None) -> list[OrganisationTurnaround]:
    """Return every organisation's turnaround figures, by name (three statements)."""
    now = now or utcnow()
    organisations = session.execute(
        select(
            Organisation.id, Organisation.slug, Organisation.name, Organisation.turnaround_days
        ).order_by(Organisation.name)
    ).all()
    waiting = session.execute(
        select(
            Credential.organisation_id,
            Attempt.submitted_at,
            CredentialVersion.content[("review", "turnaround_days")].as_integer(),
        )
        .join(Credential, Credential.id == Attempt.credential_id)
        .join(CredentialVersion, CredentialVersion.id == Attempt.version_id)
        .where(Attempt.state.in_(Attempt.WAITING), Attempt.submitted_at.is_not(None))
        .execution_options(**{ALL_PLATFORMS: True})
    ).all()
    decisions = session.execute(
        select(Credential.organisation_id, Attempt.submitted_at, Decision.decided_at)
        .join(Attempt, Attempt.id == Decision.attempt_id)
        .join(Credential, Credential.id == Attempt.credential_id)
        .where(
            Decision.decided_at >= now - timedelta(days=WINDOW_DAYS),
            Attempt.submitted_at.is_not(None),
        )
        .execution_options(**{ALL_PLATFORMS: True})
    ).all()

    targets = {row.id: row.turnaround_days for row in organisations}
    ages: dict[int, list[float]] = defaultdict(list)
    late: dict[int, int] = defaultdict(int)
    for organisation_id, submitted_at, version_target in waiting:
        age = (now - submitted_at).total_seconds() / DAY
        ages[organisation_id].append(age)
        if age > (version_target or targets[organisation_id]):
            late[organisation_id] += 1
    took: dict[int, list[float]] = defaultdict(list)
    for organisation_id, submitted_at, decided_at in decisions:
        if submitted_at is not None:  # always, by the query; said for the type checker
            seconds = (decided_at - submitted_at).total_seconds()
            took[organisation_id].append(max(0.0, seconds / DAY))

    return [
        OrganisationTurnaround(
            slug=row.slug,
            name=row.name,
            target_days=row.turnaround_days,
            waiting=len(ages[row.id]),
            overdue=late[row.id],
            oldest_waiting_days=max(ages[row.id]) if ages[row.id] else None,
            decided=len(took[row.id]),
            median_days=statistics.median(took[row.id]) if took[row.id] else None,
            p90_days=percentile(took[row.id], 0.9),
        )
        for row in organisations
    ]

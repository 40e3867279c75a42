"""What the outcome reports count of educators' attempts, grouped in SQL by the attempt's own
columns (platform, credential, the course link it was started from, the version, the month).

The reports (``app.reports``) name the groups (organisations, courses, stacks) from the other
features' public functions; here nothing but ``evidence_attempt`` is read, in one statement per
question whatever the number of attempts, and only the groups come back.

Each question is asked of a set of credentials (the reader's scope: an organisation admin's
organisations' credentials), optionally one platform, and a period ``[since, until)`` of UTC
times on the date that the question is about: when an attempt was begun, submitted or decided.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.evidence.models import Attempt
from app.tenancy import ALL_PLATFORMS

ALL = {ALL_PLATFORMS: True}

EARNED = "earned"
"""Decided "earned" in the period."""
NOT_YET = "not_yet"
"""Decided "not yet" in the period."""
SUBMITTED = "submitted"
"""Submitted in the period (whatever has happened to the attempt since)."""
IN_PROGRESS = "in_progress"
"""Begun in the period and not submitted yet: a draft now."""
OUTCOMES = (EARNED, SUBMITTED, NOT_YET, IN_PROGRESS)


@dataclass(frozen=True)
class Period:
    """UTC times ``[since, until)``; either end may be open."""

    since: datetime | None = None
    until: datetime | None = None

    def holds(self, column: Any) -> ColumnElement[bool]:
        conditions = [column.is_not(None)]
        if self.since is not None:
            conditions.append(column >= self.since)
        if self.until is not None:
            conditions.append(column < self.until)
        return and_(*conditions)


@dataclass(frozen=True)
class Tally:
    """How many attempts of one group had one outcome in the period."""

    outcome: str
    """One of ``OUTCOMES``."""
    registration_id: int
    credential_id: int
    resource_link_id: int | None
    """The course link the attempt was first opened from (``None``: the catalog)."""
    month: str | None
    """``YYYY-MM`` (UTC) of the date counted, when asked ``by_month``."""
    count: int


def _month(session: Session, column: InstrumentedAttribute[Any]) -> Any:
    # Dates are stored in UTC; PostgreSQL's timestamptz is shown in the session's time zone, so
    # it is turned to UTC first. SQLite stores the UTC time as text.
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _scope(credential_ids: Collection[int], registration_id: int | None) -> list[Any]:
    conditions: list[Any] = [Attempt.credential_id.in_(list(credential_ids) or [-1])]
    if registration_id is not None:
        conditions.append(Attempt.registration_id == registration_id)
    return conditions


def outcome_tallies(
    session: Session,
    credential_ids: Collection[int],
    period: Period,
    *,
    registration_id: int | None = None,
    by_month: bool = False,
) -> list[Tally]:
    """Count each outcome of the period per platform, credential, course link (and month):
    one statement, its rows as many as the groups."""
    questions = (
        (EARNED, Attempt.decided_at, Attempt.state == Attempt.EARNED),
        (SUBMITTED, Attempt.submitted_at, None),
        (NOT_YET, Attempt.decided_at, Attempt.state == Attempt.NOT_YET),
        (IN_PROGRESS, Attempt.created_at, Attempt.state == Attempt.DRAFT),
    )
    selects = []
    for outcome, date, condition in questions:
        month = _month(session, date) if by_month else literal(None)
        where = [*_scope(credential_ids, registration_id), period.holds(date)]
        if condition is not None:
            where.append(condition)
        selects.append(
            select(
                literal(outcome).label("outcome"),
                Attempt.registration_id,
                Attempt.credential_id,
                Attempt.started_resource_link_id,
                month.label("month"),
                func.count().label("count"),
            )
            .where(*where)
            .group_by(
                Attempt.registration_id,
                Attempt.credential_id,
                Attempt.started_resource_link_id,
                *((month,) if by_month else ()),
            )
        )
    rows = session.execute(union_all(*selects).execution_options(**ALL)).all()
    return [Tally(*row) for row in rows]


@dataclass(frozen=True)
class Earned:
    """How many credentials one educator earned at one version in the period."""

    user_id: int
    registration_id: int
    credential_id: int
    version_id: int
    count: int


def earned_by_educator(
    session: Session,
    credential_ids: Collection[int],
    period: Period,
    *,
    registration_id: int | None = None,
) -> list[Earned]:
    """Count the credentials each educator earned in the period, per version (the version
    carries the credit): one statement."""
    rows = session.execute(
        select(
            Attempt.user_id,
            Attempt.registration_id,
            Attempt.credential_id,
            Attempt.version_id,
            func.count(),
        )
        .where(
            *_scope(credential_ids, registration_id),
            Attempt.state == Attempt.EARNED,
            period.holds(Attempt.decided_at),
        )
        .group_by(
            Attempt.user_id, Attempt.registration_id, Attempt.credential_id, Attempt.version_id
        )
        .execution_options(**ALL)
    ).all()
    return [Earned(*row) for row in rows]


@dataclass(frozen=True)
class Times:
    """One attempt's dates, for the time it took to submit and to be decided."""

    registration_id: int
    credential_id: int
    resource_link_id: int | None
    started_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None


def attempt_times(
    session: Session,
    credential_ids: Collection[int],
    period: Period,
    *,
    registration_id: int | None = None,
) -> list[Times]:
    """The dates of every attempt submitted or decided in the period: one statement (a row per
    attempt, since medians are taken of them)."""
    rows = session.execute(
        select(
            Attempt.registration_id,
            Attempt.credential_id,
            Attempt.started_resource_link_id,
            Attempt.created_at,
            Attempt.submitted_at,
            Attempt.decided_at,
        )
        .where(
            *_scope(credential_ids, registration_id),
            period.holds(Attempt.submitted_at) | period.holds(Attempt.decided_at),
        )
        .execution_options(**ALL)
    ).all()
    return [Times(*row) for row in rows]

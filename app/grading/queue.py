"""The review queue: the submissions a reviewer may review, oldest first, filtered.

One page costs a fixed number of statements whatever the data's size (bench/review.py counts
them): the page's attempts with their educators, credentials and courses in one query, their
reviews in one, the distinct versions' rubrics and settings in one, the total in one, and the
filter choices in two.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from app import inputs
from app.catalog.models import (
    Credential,
    CredentialVersion,
    Organisation,
    Stack,
    StackItem,
)
from app.db import utcnow
from app.evidence.models import Attempt
from app.grading import rules
from app.grading.models import Review
from app.grading.services import ALL, Reviewer, Standing, in_scope, reviews_of, standing
from app.linking.models import LinkedCredential
from app.lti.models import LtiContext, LtiResourceLink, LtiUser

PAGE_SIZE = 50
WAITED_CHOICES = (0, 3, 7, 14, 30)
"""The "waiting at least" filter's choices, in days."""


@dataclass(frozen=True)
class Filters:
    credential: str | None = None
    """A credential's slug."""
    stack: str | None = None
    """A stack's slug: submissions at any of its credentials."""
    this_course: bool = False
    """Only the launch's course (for assessors who also review across courses)."""
    waited_days: int = 0
    """Only submissions waiting at least this many days."""
    page: int = 1

    @classmethod
    def parse(cls, fields: inputs.Fields) -> Filters:
        """Read filters from query arguments (or the "next" form). A value of the wrong kind
        is refused, naming it (a slug longer than any, which would also come back in the
        redirect's address); a number of days that is not a choice is ignored."""
        waited = fields.optional_integer("waited", maximum=max(WAITED_CHOICES)) or 0
        return cls(
            credential=fields.optional_text("credential", max_length=inputs.SLUG_CHARS),
            stack=fields.optional_text("stack", max_length=inputs.SLUG_CHARS),
            this_course=fields.text("course", max_length=inputs.SLUG_CHARS) == "this",
            waited_days=waited if waited in WAITED_CHOICES else 0,
            page=fields.page(),
        )

    def query_args(self, **changes: object) -> dict[str, Any]:
        """Return these filters as query arguments, with ``changes`` applied."""
        values: dict[str, Any] = {
            "credential": self.credential,
            "stack": self.stack,
            "course": "this" if self.this_course else None,
            "waited": self.waited_days or None,
            "page": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class Entry:
    attempt_id: int
    number: int
    credential_title: str
    credential_slug: str
    educator: str | None
    """``None`` in blind review."""
    email: str | None
    course: str | None
    submitted_at: datetime
    waited_days: int
    overdue: bool
    turnaround_days: int
    blind: bool
    standing: Standing


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Queue:
    entries: list[Entry]
    total: int
    filters: Filters
    pages: int
    credentials: list[Choice]
    stacks: list[Choice]
    course_title: str | None
    """The launch's course, when the reviewer teaches it."""
    reviews_across_courses: bool

    @property
    def any_blind(self) -> bool:
        """Some submission listed is reviewed blind (the page says what that means)."""
        return any(e.blind for e in self.entries)


def _filtered(reviewer: Reviewer, filters: Filters, now: datetime) -> ColumnElement[bool]:
    conditions = [
        Attempt.state.in_(Attempt.WAITING),
        in_scope(reviewer, this_course_only=filters.this_course),
    ]
    if filters.credential:
        conditions.append(
            Attempt.credential_id
            == select(Credential.id).where(Credential.slug == filters.credential).scalar_subquery()
        )
    if filters.stack:
        conditions.append(
            Attempt.credential_id.in_(
                select(StackItem.credential_id)
                .join(Stack, Stack.id == StackItem.stack_id)
                .where(Stack.slug == filters.stack)
            )
        )
    if filters.waited_days:
        conditions.append(Attempt.submitted_at <= now - timedelta(days=filters.waited_days))
    return and_(*conditions)


def _count(session: Session, where: ColumnElement[bool]) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Attempt).where(where).execution_options(**ALL)
        )
        or 0
    )


def waiting_count(session: Session, reviewer: Reviewer, filters: Filters) -> int:
    """Count the submissions the queue would list with ``filters`` (the activity page's "N
    submissions waiting for review", which must agree with the queue it links to)."""
    return _count(session, _filtered(reviewer, filters, utcnow()))


def waiting_by_credential(session: Session, reviewer: Reviewer, filters: Filters) -> dict[int, int]:
    """Count the submissions the queue would list with ``filters``, per credential id (a
    course's overview, whose numbers must agree with the queue each links to): one statement."""
    rows = session.execute(
        select(Attempt.credential_id, func.count())
        .where(_filtered(reviewer, filters, utcnow()))
        .group_by(Attempt.credential_id)
        .execution_options(**ALL)
    )
    return {credential_id: count for credential_id, count in rows}


def queue(session: Session, reviewer: Reviewer, filters: Filters) -> Queue:
    """Return one page of the reviewer's queue, oldest submission first."""
    now = utcnow()
    where = _filtered(reviewer, filters, now)
    total = _count(session, where)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(filters.page, pages)
    Educator = aliased(LtiUser)
    rows = session.execute(
        select(Attempt, Educator, Credential.slug, Credential.organisation_id, LtiContext.title)
        .join(Educator, Educator.id == Attempt.user_id)
        .join(Credential, Credential.id == Attempt.credential_id)
        .outerjoin(LtiResourceLink, LtiResourceLink.id == Attempt.started_resource_link_id)
        .outerjoin(LtiContext, LtiContext.id == LtiResourceLink.context_id)
        .where(where)
        .order_by(Attempt.submitted_at, Attempt.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
        .execution_options(**ALL)
    ).all()
    attempt_ids = [row[0].id for row in rows]
    reviews = reviews_of(session, attempt_ids)
    version_ids = {row[0].version_id for row in rows}
    versions = {
        v.id: v
        for v in session.scalars(
            select(CredentialVersion).where(CredentialVersion.id.in_(version_ids or {-1}))
        )
    }
    organisations = {
        o.id: o
        for o in session.scalars(
            select(Organisation).where(Organisation.id.in_({row[3] for row in rows} or {-1}))
        )
    }
    entries = []
    for attempt, educator, slug, organisation_id, course in rows:
        version = versions[attempt.version_id]
        organisation = organisations[organisation_id]
        settings = rules.settings_of(version, organisation)
        lead = bool(reviewer.grants.get(organisation_id)) or (
            reviewer.course_lead and attempt.registration_id == reviewer.registration_id
        )
        submitted = attempt.submitted_at or attempt.created_at
        waited = rules.waiting(submitted, settings, now)
        entries.append(
            Entry(
                attempt_id=attempt.id,
                number=attempt.number,
                credential_title=version.title,
                credential_slug=slug,
                educator=None if settings.blind else educator.display_name,
                email=None if settings.blind else educator.email,
                course=None if settings.blind else course,
                submitted_at=submitted,
                waited_days=waited.days,
                overdue=waited.overdue,
                turnaround_days=settings.turnaround_days,
                blind=settings.blind,
                standing=standing(
                    reviewer,
                    settings,
                    version.content,
                    reviews[attempt.id],
                    lead=lead,
                    now=now,
                ),
            )
        )
    credentials, stacks = _choices(session, reviewer)
    return Queue(
        entries=entries,
        total=total,
        filters=replace(filters, page=page),
        pages=pages,
        credentials=credentials,
        stacks=stacks,
        course_title=reviewer.course_title,
        reviews_across_courses=bool(reviewer.grants),
    )


def _choices(session: Session, reviewer: Reviewer) -> tuple[list[Choice], list[Choice]]:
    """The credentials (and stacks holding them) this reviewer reviews: those linked in their
    course and those of the organisations they assess for."""
    linked = (
        select(LinkedCredential.credential_id)
        .join(LtiResourceLink, LtiResourceLink.id == LinkedCredential.resource_link_id)
        .where(LtiResourceLink.context_id == (reviewer.context_id or -1))
    )
    ids = select(Credential.id).where(
        or_(
            Credential.id.in_(linked),
            Credential.organisation_id.in_(list(reviewer.grants) or [-1]),
        )
    )
    latest = (
        select(CredentialVersion.credential_id, func.max(CredentialVersion.number).label("n"))
        .where(
            CredentialVersion.credential_id.in_(ids),
            CredentialVersion.status != CredentialVersion.DRAFT,
        )
        .group_by(CredentialVersion.credential_id)
        .subquery()
    )
    credentials = [
        Choice(slug, title)
        for slug, title in session.execute(
            select(Credential.slug, CredentialVersion.title)
            .join(CredentialVersion, CredentialVersion.credential_id == Credential.id)
            .join(
                latest,
                and_(
                    latest.c.credential_id == CredentialVersion.credential_id,
                    latest.c.n == CredentialVersion.number,
                ),
            )
            .order_by(CredentialVersion.title)
            .execution_options(**ALL)
        )
    ]
    stacks = [
        Choice(slug, title)
        for slug, title in session.execute(
            select(Stack.slug, Stack.title)
            .where(
                exists(
                    select(StackItem.id).where(
                        StackItem.stack_id == Stack.id, StackItem.credential_id.in_(ids)
                    )
                )
            )
            .order_by(Stack.title)
            .execution_options(**ALL)
        )
    ]
    return credentials, stacks


def next_available(session: Session, reviewer: Reviewer, filters: Filters) -> list[int]:
    """Return the oldest submissions (a handful) that nobody else is reviewing and this
    reviewer has not reviewed: candidates for "Review the next submission"."""
    now = utcnow()
    busy = exists(
        select(Review.id).where(
            Review.attempt_id == Attempt.id,
            Review.state == Review.CLAIMED,
            Review.expires_at > now,
            Review.reviewer_id != reviewer.user_id,
        )
    )
    reviewed = exists(
        select(Review.id).where(
            Review.attempt_id == Attempt.id,
            Review.reviewer_id == reviewer.user_id,
            Review.state == Review.SUBMITTED,
        )
    )
    return list(
        session.scalars(
            select(Attempt.id)
            .where(_filtered(reviewer, filters, now), ~busy, ~reviewed)
            .order_by(Attempt.submitted_at, Attempt.id)
            .limit(20)
            .execution_options(**ALL)
        )
    )

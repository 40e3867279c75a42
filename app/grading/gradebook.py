"""What each course's gradebook should say about an educator's credential, kept with the event
that changes it (LTI-CHECKLIST G; STYLE.md "Durable side effects").

A submission, a decision and a resubmission set the *desired* score of every gradebook column
that asks for the attempt's credential for this educator — the line item of each course link
bound to the credential that the educator has opened — in the caller's transaction: one
``ScoreDelivery`` row per (line item, educator), its ``version`` raised. The worker
(``app/grading/worker.py``) sends the latest version; nothing here calls the LMS.

- submitted: ``Submitted`` + ``PendingManual`` and no score (Moodle clears the grade for anything
  but ``FullyGraded``; Canvas would apply a score sent with ``PendingManual``);
- decided: ``Completed`` + ``FullyGraded``, the score (the column's points when earned, 0 for
  "not yet": a micro-credential is earned or not, there is no partial credit) and a comment.

The educator's attempt belongs to one platform, and so do the courses they opened: the same
person on another LMS is another user there (the platforms share no identity), with their own
attempts and their own gradebook rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.evidence.models import Attempt
from app.grading.models import Decision, ScoreDelivery
from app.linking.models import LinkedCredential, LinkVisit
from app.lti import runtime
from app.lti.models import LineItem, Registration
from app.lti.platforms import SCOPE_LINEITEM, SCOPE_SCORE, plugin
from app.outbox.models import OutboxEvent
from app.tenancy import ALL_PLATFORMS

ALL = {ALL_PLATFORMS: True}
DEFAULT_POINTS = 100.0
COMMENT_MAX = 2000
EARNED = "earned"


@dataclass(frozen=True)
class Column:
    """A gradebook column that asks for a credential: its line item and its points."""

    line_item_id: int
    score_maximum: float


def columns_for(
    session: Session, registration_id: int, user_id: int, credential_id: int
) -> list[Column]:
    """The line items of the links bound to ``credential_id`` that the educator has opened,
    where the platform lets the tool send scores and the link can have a column."""
    rows = session.execute(
        select(LineItem, LinkedCredential.score_maximum)
        .join(LinkedCredential, LinkedCredential.resource_link_id == LineItem.resource_link_id)
        .join(
            LinkVisit,
            (LinkVisit.resource_link_id == LineItem.resource_link_id)
            & (LinkVisit.user_id == user_id),
        )
        .where(
            LineItem.registration_id == registration_id,
            LinkedCredential.credential_id == credential_id,
        )
        .order_by(LineItem.id)
        .execution_options(**ALL)
    ).all()
    return [
        Column(item.id, _points(item, points))
        for item, points in rows
        if SCOPE_SCORE in (item.scopes or ())
        and item.no_column is None
        and (item.url or SCOPE_LINEITEM in item.scopes)
    ]


def _points(item: LineItem, linked: float | None) -> float:
    return float(linked or item.score_maximum or DEFAULT_POINTS)


SUBMISSION_PATH = "/submissions/"
"""Where the tool shows a submission to whoever launches it there (app/grading/views.py)."""


def submission_url(attempt_id: int) -> str:
    """The tool's address of a submission, which an LMS's grading view may launch (Canvas's
    SpeedGrader): its reviewers review it there, its educator sees their work."""
    return f"{runtime().settings.base_url}{SUBMISSION_PATH}{attempt_id}"


def submitted_body(
    family: str | None, submitted_at: datetime, submission_url: str | None = None
) -> dict[str, Any]:
    """The score of a submission awaiting review: progress only, no score."""
    return {
        "activityProgress": "Submitted",
        "gradingProgress": "PendingManual",
        **plugin(family).score_extensions(
            submitted_at, new_submission=True, submission_url=submission_url
        ),
    }


def decided_body(
    family: str | None,
    points: float,
    *,
    outcome: str,
    criteria_met: int,
    criteria_total: int,
    feedback: str,
    submitted_at: datetime | None,
) -> dict[str, Any]:
    """The score of a decision: full points when earned, 0 for "not yet", and a comment."""
    earned = outcome == EARNED
    return {
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "scoreGiven": points if earned else 0.0,
        "scoreMaximum": points,
        "comment": decision_comment(earned, criteria_met, criteria_total, feedback),
        **plugin(family).score_extensions(submitted_at, new_submission=False),
    }


def decision_comment(earned: bool, met: int, total: int, feedback: str) -> str:
    """The gradebook comment: the outcome in words, then the reviewer's feedback."""
    head = (
        f"Earned: {met} of {total} criteria met."
        if earned
        else f"Not yet: {met} of {total} criteria met. You can revise and resubmit."
    )
    text = f"{head}\n\n{feedback.strip()}" if feedback.strip() else head
    return text if len(text) <= COMMENT_MAX else text[: COMMENT_MAX - 1] + "…"


def schedule(session: Session, attempt: Attempt, kind: str, payload: Mapping[str, Any]) -> int:
    """Set the desired score of every column asking for the attempt's credential (the outbox
    event ``kind`` of ``attempt``, in the caller's transaction); return how many."""
    columns = columns_for(session, attempt.registration_id, attempt.user_id, attempt.credential_id)
    if not columns:
        return 0
    family = _family(session, attempt.registration_id)
    now = utcnow()
    for column in columns:
        body = _body(session, family, column, attempt, kind, payload)
        _set_desired(session, attempt, column.line_item_id, body, now)
    return len(columns)


def _family(session: Session, registration_id: int) -> str | None:
    return session.scalar(
        select(Registration.platform_family).where(Registration.id == registration_id)
    )


def _body(
    session: Session,
    family: str | None,
    column: Column,
    attempt: Attempt,
    kind: str,
    payload: Mapping[str, Any],
) -> dict[str, Any]:
    if kind == OutboxEvent.SUBMITTED:
        return submitted_body(family, attempt.submitted_at or utcnow(), submission_url(attempt.id))
    return decided_body(
        family,
        column.score_maximum,
        outcome=str(payload["outcome"]),
        criteria_met=int(payload["criteria_met"]),
        criteria_total=int(payload["criteria_total"]),
        feedback=str(payload.get("feedback", "")),
        submitted_at=attempt.submitted_at,
    )


def _set_desired(
    session: Session, attempt: Attempt, line_item_id: int, body: dict[str, Any], now: datetime
) -> ScoreDelivery:
    """Make ``body`` the cell's latest version (a row lock orders two writers of one cell)."""
    for round_ in range(3):
        row = session.scalars(
            select(ScoreDelivery)
            .where(
                ScoreDelivery.line_item_id == line_item_id, ScoreDelivery.user_id == attempt.user_id
            )
            .with_for_update()
            .execution_options(**ALL)
        ).first()
        if row is not None:
            row.body = body
            row.attempt_id = attempt.id
            row.version = row.version + 1
            row.status = ScoreDelivery.PENDING
            row.desired_at = now
            row.available_at = now
            row.tries = 0
            row.last_error = None
            session.flush()
            return row
        try:
            with session.begin_nested():
                row = ScoreDelivery(
                    registration_id=attempt.registration_id,
                    line_item_id=line_item_id,
                    user_id=attempt.user_id,
                    attempt_id=attempt.id,
                    body=body,
                    version=1,
                    sent_version=0,
                    status=ScoreDelivery.PENDING,
                    desired_at=now,
                    available_at=now,
                )
                session.add(row)
            return row
        except IntegrityError:
            if round_ == 2:
                raise
    raise AssertionError("unreachable")


def catch_up(session: Session, registration_id: int, user_id: int, credential_id: int) -> int:
    """Give a column the educator just reached (a second course's link) the state their
    credential already has: the latest decision, or the pending submission after it.

    Only columns without a row are set; those with one are kept current by ``schedule``.
    Returns how many were set."""
    # At every launch of a course activity: the common case — nothing submitted yet — costs
    # one indexed query.
    attempt = session.scalars(
        select(Attempt)
        .where(
            Attempt.user_id == user_id,
            Attempt.credential_id == credential_id,
            Attempt.submitted_at.is_not(None),
        )
        .order_by(Attempt.number.desc())
        .limit(1)
        .execution_options(**ALL)
    ).first()
    if attempt is None:
        return 0
    columns = columns_for(session, registration_id, user_id, credential_id)
    if not columns:
        return 0
    have = set(
        session.scalars(
            select(ScoreDelivery.line_item_id)
            .where(
                ScoreDelivery.user_id == user_id,
                ScoreDelivery.line_item_id.in_([c.line_item_id for c in columns]),
            )
            .execution_options(**ALL)
        )
    )
    missing = [c for c in columns if c.line_item_id not in have]
    if not missing:
        return 0
    family = _family(session, registration_id)
    now = utcnow()
    decision = session.scalars(
        select(Decision).where(Decision.attempt_id == attempt.id).execution_options(**ALL)
    ).first()
    for column in missing:
        if decision is None:
            body = submitted_body(family, attempt.submitted_at or now, submission_url(attempt.id))
        else:
            judged = decision.criteria or {}
            body = decided_body(
                family,
                column.score_maximum,
                outcome=decision.outcome,
                criteria_met=sum(1 for j in judged.values() if j.get("met")),
                criteria_total=len(judged),
                feedback=decision.feedback,
                submitted_at=attempt.submitted_at,
            )
        _set_desired(session, attempt, column.line_item_id, body, now)
    return len(missing)

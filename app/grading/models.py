"""Review: who may assess, the reviews of a submitted attempt, the decision, and the events a
decision (or a submission) leaves for the worker to deliver.

A submitted attempt is reviewed in rounds: round 1, round 2 when the credential asks for a
second independent review, round 3 by a lead reviewer when the two disagree. A round has at most
one review (a unique constraint), and a review in progress is a *claim* that expires: two
assessors never work on the same submission at once, and an abandoned claim frees itself.

Every row belongs to the educator's platform (the attempt's ``registration_id``), even when the
assessor launched from another platform under a tool-side grant: the submission's data stays
with the platform it came from, and a cross-platform assessor's queries say so explicitly.

Side effects that must reach other systems are written in the same transaction as the
submission or decision that causes them (STYLE.md, "Durable side effects"): an ``OutboxEvent``
(``app.outbox``; badge issuance reads it) and the desired score of each gradebook column
(``ScoreDelivery`` here; the worker sends it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.tenancy import PlatformOwned


class AssessorGrant(PlatformOwned, Base):
    """A person (as one platform knows them) designated to assess an organisation's credentials
    across courses and platforms, granted by an operator or an organisation admin."""

    __tablename__ = "grading_assessor_grant"
    __table_args__ = (
        UniqueConstraint(
            "organisation_id", "user_id", name="uq_grading_assessor_grant_organisation_user"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The assessor's platform."""
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_organisation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    lead: Mapped[bool] = mapped_column(Boolean, default=False)
    """A lead reviewer settles disagreements between two independent reviews."""
    granted_by: Mapped[str] = mapped_column(String(320))
    """Who granted it (an operator's or organisation admin's email, or ``cli``)."""
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class Review(PlatformOwned, Base):
    """One assessor's judgement of one submitted attempt, in one round: a claim while in
    progress (its draft autosaved), then submitted."""

    __tablename__ = "grading_review"
    __table_args__ = (
        UniqueConstraint("attempt_id", "round", name="uq_grading_review_attempt_round"),
        Index("ix_grading_review_reviewer_state", "reviewer_id", "state"),
    )

    FIRST = 1
    SECOND = 2
    LEAD = 3

    CLAIMED = "claimed"
    """In progress: the reviewer holds the submission until ``expires_at``."""
    SUBMITTED = "submitted"

    EARNED = "earned"
    NOT_YET = "not_yet"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The educator's platform (the attempt's)."""
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_attempt.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer, default=FIRST)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="RESTRICT"))
    """The assessor (an ``lti_user`` of any platform)."""
    state: Mapped[str] = mapped_column(String(16), default=CLAIMED)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Per criterion key: ``{"met": true | false | null, "comment": "…"}``."""
    feedback: Mapped[str] = mapped_column(Text, default="")
    """Overall feedback to the educator."""
    outcome: Mapped[str | None] = mapped_column(String(16))
    """``earned`` or ``not_yet``, computed by the credential's passing rule on submission."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Raised by every draft save; a save quoting an older number is a conflict."""
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    """Until when the claim holds; after it, another assessor may take the submission over."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column()


class Decision(PlatformOwned, Base):
    """The outcome of a submitted attempt, as the educator sees it."""

    __tablename__ = "grading_decision"
    __table_args__ = (UniqueConstraint("attempt_id", name="uq_grading_decision_attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The educator's platform (the attempt's)."""
    attempt_id: Mapped[int] = mapped_column(ForeignKey("evidence_attempt.id", ondelete="CASCADE"))
    review_id: Mapped[int] = mapped_column(ForeignKey("grading_review.id", ondelete="RESTRICT"))
    """The review whose judgement stands (the only one, the agreeing first, or the lead's)."""
    outcome: Mapped[str] = mapped_column(String(16))
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Per criterion key: ``{"met": bool, "comment": "…"}`` as the educator sees it."""
    feedback: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoreDelivery(PlatformOwned, Base):
    """What one learner's cell of one gradebook column should say, and whether it does.

    One row per (line item, learner): the *desired* score (``body``, set in the transaction of
    the submission or decision that changes it, its ``version`` raised) and the last version the
    platform accepted (``sent_version``). The worker sends only the latest desired state, one
    send per row at a time (a lease), with a timestamp later than every earlier one for the row
    and never in the same second (Moodle compares whole seconds): an older score is never sent
    after a newer one, and a newer decision made while a send is in flight is sent next.
    """

    __tablename__ = "grading_score_delivery"
    __table_args__ = (
        UniqueConstraint("line_item_id", "user_id", name="uq_grading_score_delivery_item_user"),
        Index(
            "ix_grading_score_delivery_due",
            "available_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    PENDING = "pending"
    """The platform does not have the latest version yet (being sent, or waiting to retry)."""
    DELIVERED = "delivered"
    """The platform accepted the latest version."""
    FAILED = "failed"
    """The platform refused it for a reason retrying cannot fix, or kept failing; ``last_error``
    says why in plain words. A person may retry it."""
    OVERRIDDEN = "overridden"
    """The platform took the score but its gradebook shows a teacher's grade instead
    (``lms_score_given``), and re-sending cannot change it: Moodle keeps an override against
    every later score, Canvas keeps a teacher's grade from a score sent with
    ``prioritize_non_tool_grade``. Not sent again until a person asks or a new decision comes."""
    NO_COLUMN = "no_column"
    """The link can have no gradebook column in the LMS (``LineItem.no_column`` says why):
    nothing can be sent."""

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The platform of the gradebook (tenant scoping)."""
    line_item_id: Mapped[int] = mapped_column(
        ForeignKey("lti_line_item.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_attempt.id", ondelete="SET NULL"), index=True
    )
    """The attempt whose submission or decision the desired state reports."""
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The desired score without ``userId`` and ``timestamp`` (added at each send)."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    sent_version: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    desired_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When the desired state was set (the decision or submission time)."""
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    """Not sent before this time (retry back-off, ``Retry-After``)."""
    tries: Mapped[int] = mapped_column(Integer, default=0)
    """Failed sends of the current version."""
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column()
    """A worker is sending it until then; after that another may (the first one died)."""
    last_timestamp: Mapped[datetime | None] = mapped_column()
    """The ``timestamp`` of the last score sent for this cell (accepted or not)."""
    last_status: Mapped[int | None] = mapped_column(Integer)
    """The HTTP status of the last send (``None`` when no answer came)."""
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column()
    resent_version: Mapped[int | None] = mapped_column(Integer)
    """The version reconciliation queued again because the LMS's gradebook did not show it. If
    the LMS accepted that version and still shows another grade, the grade there is a
    teacher's, and no further send can change it."""
    lms_score_given: Mapped[float | None] = mapped_column(Float)
    """The teacher's grade the LMS's gradebook showed when reconciliation found one
    (``OVERRIDDEN``), out of ``lms_score_maximum``."""
    lms_score_maximum: Mapped[float | None] = mapped_column(Float)
    decision_delivered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The LMS took a decided score of the tool's for this cell (any version): a later decision
    must replace it there (``Platform.regrade``), not be kept out by it."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

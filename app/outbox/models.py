"""The outbox's table: events written with the change that causes them, processed later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.tenancy import PlatformOwned


class OutboxEvent(PlatformOwned, Base):
    """Something that happened and must reach another system: written in the same transaction
    as its cause (which also sets the gradebook's desired scores, sent by the score worker), then
    handed by the outbox processor (``app.outbox.processing``) to badge issuance, with bounded
    retries."""

    __tablename__ = "grading_outbox_event"
    __table_args__ = (Index("ix_grading_outbox_event_pending", "processed_at", "available_at"),)

    SUBMITTED = "submitted"
    """An attempt was submitted (gradebook: Submitted / PendingManual)."""
    DECIDED = "decided"
    """A decision was made (gradebook: Completed / FullyGraded with the score; badge if earned)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_attempt.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    """Not handled before this time (retry back-off)."""
    tries: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column()
    failed_at: Mapped[datetime | None] = mapped_column()
    """Set when the last allowed try failed (``last_error`` says why); an operator may retry."""

"""The audit log's table: one row per change, kept in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class AuditEvent(Base):
    """One change made through the console, the CLI or Dynamic Registration: who, when, what."""

    __tablename__ = "admin_audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    """An operator's email, ``cli``, or ``dynamic-registration``."""
    operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_operator.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(64))
    """What happened, e.g. ``registration.created``, ``deployment.approved``, ``key.rotated``."""
    target: Mapped[str] = mapped_column(String(255), default="")
    """What it happened to, e.g. ``registration:<uuid>``."""
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Before/after values and context; never secrets."""

"""The operator console's tables: tool operators and the audit log of what they changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Operator(Base):
    """A console account: a person who runs this Microcred instance, or who authors
    credentials for an issuer organisation; signs in with email and password, not LTI."""

    __tablename__ = "admin_operator"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    """Lower-cased; the sign-in name."""
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    """Argon2id hash (argon2-cffi's encoded form, parameters included)."""
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_operator: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """Full powers over this instance. Without them the account only authors for the
    organisations it belongs to (``catalog_author``)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column()


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

"""The operator console's table: tool operators (the audit log of what they change is in
``app.audit``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, true
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

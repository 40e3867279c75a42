"""The privacy table: an educator's export too large to build while they wait."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.tenancy import PlatformOwned


class ExportRequest(PlatformOwned, Base):
    """An educator asked for their records and the worker builds the zip (``app.privacy.
    building``): queued, building (with how far it has come), ready until ``expires_at`` (the
    zip in the evidence store under ``storage_key``), then expired (the zip deleted)."""

    __tablename__ = "privacy_export"

    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    """Files and badges written into the zip so far, of ``total``."""
    total: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column()
    """While building: the worker's hold on it, renewed with each step; a worker that stopped
    mid-build lets it lapse, and another takes the request up again."""

"""An educator's work on a micro-credential: attempts, and the evidence in each part.

Progress belongs to the educator — a person as one platform knows them (``lti_user``) — not to
a course: the same credential launched from a second course opens the same attempt. An attempt
is made against one credential version and stays with it; the next attempt (after "not yet")
starts from the previous one's answers, links and files.

Text answers carry a ``version`` number that every save must quote (optimistic concurrency):
two tabs never silently overwrite each other. Files are stored by a random key in the evidence
store (local disk or S3-compatible), never under a name the educator chose; an upload in
progress records how many bytes have arrived so that it can resume.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Credential, CredentialVersion
from app.db import Base, utcnow
from app.evidence import captions
from app.tenancy import PlatformOwned


class Attempt(PlatformOwned, Base):
    """One try at a credential by one educator, from first draft to a decision."""

    __tablename__ = "evidence_attempt"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "credential_id", "number", name="uq_evidence_attempt_user_credential_number"
        ),
        Index("ix_evidence_attempt_state_submitted_at", "state", "submitted_at"),
        # The review queue: waiting attempts in submission order, without sorting them all.
        Index(
            "ix_evidence_attempt_waiting",
            "submitted_at",
            "id",
            postgresql_where=text("state IN ('submitted', 'in_review')"),
            sqlite_where=text("state IN ('submitted', 'in_review')"),
        ),
    )

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    NOT_YET = "not_yet"
    EARNED = "earned"
    STATES = (DRAFT, SUBMITTED, IN_REVIEW, NOT_YET, EARNED)
    OPEN = (DRAFT,)
    """States in which the educator may still change the evidence."""
    WAITING = (SUBMITTED, IN_REVIEW)
    """States in which the attempt waits for a decision."""

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The platform this row belongs to (tenant scoping)."""
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_credential.id", ondelete="RESTRICT"), index=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_credential_version.id", ondelete="RESTRICT"), index=True
    )
    """The credential version this attempt is made against (its parts and rubric)."""
    number: Mapped[int] = mapped_column(Integer)
    """1 for the first attempt, n + 1 for the one opened after attempt n's "not yet"."""
    state: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    changes_note: Mapped[str] = mapped_column(Text, default="")
    """What the educator changed since the previous attempt (attempts after the first)."""
    started_resource_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_resource_link.id", ondelete="SET NULL")
    )
    """The course link it was first opened from, if any (the self-directed catalog has none)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When any of its evidence last changed."""
    submitted_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()

    credential: Mapped[Credential] = relationship()
    version: Mapped[CredentialVersion] = relationship()


class Answer(PlatformOwned, Base):
    """The text an educator wrote for one part of an attempt."""

    __tablename__ = "evidence_answer"
    __table_args__ = (
        UniqueConstraint("attempt_id", "part_key", name="uq_evidence_answer_attempt_part"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The platform this row belongs to (tenant scoping)."""
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_attempt.id", ondelete="CASCADE"), index=True
    )
    part_key: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Raised by every save; a save quoting an older number is a conflict, not an overwrite."""
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvidenceLink(PlatformOwned, Base):
    """A web address offered as evidence for one part (a video, a shared document…)."""

    __tablename__ = "evidence_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The platform this row belongs to (tenant scoping)."""
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_attempt.id", ondelete="CASCADE"), index=True
    )
    part_key: Mapped[str] = mapped_column(String(80))
    url: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvidenceFile(PlatformOwned, Base):
    """A file uploaded as evidence for one part: complete, or still arriving in chunks."""

    __tablename__ = "evidence_file"

    UPLOADING = "uploading"
    COMPLETE = "complete"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The platform this row belongs to (tenant scoping)."""
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_attempt.id", ondelete="CASCADE"), index=True
    )
    part_key: Mapped[str] = mapped_column(String(80))
    storage_key: Mapped[str] = mapped_column(String(128), index=True)
    """Where the bytes are in the evidence store: random, never from the educator's file name.
    A file carried over to a later attempt shares its key; the bytes go when no row uses them."""
    name: Mapped[str] = mapped_column(String(255))
    """The educator's file name, cleaned (no path, no control characters), for display only."""
    media_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    """Decided by sniffing the content, never from the name or the browser's claim."""
    size: Mapped[int] = mapped_column(BigInteger)
    """The size announced when the upload began."""
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    """Bytes stored so far; equal to ``size`` once complete."""
    sha256: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=UPLOADING)
    upload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Store-specific progress of an unfinished upload (e.g. an S3 multipart upload id and the
    parts so far); ``None`` once complete."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column()
    description: Mapped[str | None] = mapped_column(Text)
    """An image's description or a recording's transcript, by the educator, for an assessor
    who cannot see or hear it; a recording's may be WebVTT captions (``app.evidence.captions``)."""

    @property
    def has_captions(self) -> bool:
        """A recording whose transcript is WebVTT: a player shows it as captions."""
        return (
            self.description is not None
            and self.media_type.startswith(("audio/", "video/"))
            and captions.is_webvtt(self.description)
        )

    @property
    def description_text(self) -> str | None:
        """The description or transcript to read (captions without their timings)."""
        if self.description is not None and self.has_captions:
            return captions.transcript(self.description)
        return self.description

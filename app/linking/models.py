"""Which credential a course's link stands for, and who has opened it.

A link (an LTI resource link: an assignment or a module item) gets its credential from the
Deep Linking item that created it (its custom parameters) or from an instructor who chose one
at its first launch. The binding is stored per resource link, so that a copied course — new
resource link ids, the same custom parameters — finds its credential again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Credential
from app.db import Base, utcnow
from app.tenancy import PlatformOwned


class LinkedCredential(PlatformOwned, Base):
    """A course link bound to a micro-credential (and how its version is chosen)."""

    __tablename__ = "linking_linked_credential"
    __table_args__ = (
        UniqueConstraint("resource_link_id", name="uq_linking_linked_credential_resource_link"),
    )

    CUSTOM = "custom"
    """Bound from the link's custom parameters (Deep Linking, or a course copy of such a link)."""
    CHOSEN = "chosen"
    """Bound by an instructor who chose the credential at the link's first launch."""
    COPIED = "copied"
    """Bound as the link it was copied from, named by the LMS's resource link history."""

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The platform this row belongs to (tenant scoping)."""
    resource_link_id: Mapped[int] = mapped_column(
        ForeignKey("lti_resource_link.id", ondelete="CASCADE")
    )
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_credential.id", ondelete="RESTRICT"), index=True
    )
    version_number: Mapped[int | None] = mapped_column(Integer)
    """A pinned version; ``None`` follows the latest published version."""
    score_maximum: Mapped[float | None] = mapped_column(Float)
    """The points the gradebook column was created with, when the tool made it."""
    source: Mapped[str] = mapped_column(String(16), default=CUSTOM)
    bound_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="SET NULL")
    )
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)

    credential: Mapped[Credential] = relationship()


class LinkVisit(PlatformOwned, Base):
    """A person who opened a course link: when first and last (the instructor's view)."""

    __tablename__ = "linking_link_visit"
    __table_args__ = (
        UniqueConstraint("resource_link_id", "user_id", name="uq_linking_link_visit_link_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The platform this row belongs to (tenant scoping)."""
    resource_link_id: Mapped[int] = mapped_column(
        ForeignKey("lti_resource_link.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    roles: Mapped[str] = mapped_column(String(255), default="")
    """Role labels at the last visit, e.g. ``Learner``."""
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

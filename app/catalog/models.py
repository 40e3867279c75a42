"""The catalog's tables: issuer organisations, credentials and their versions, stacks, badge
images, and who may author for an organisation.

A credential is a stable identity (its slug); what it asks of educators lives in its versions.
A version's content is one JSON document (the catalog format's ``version`` object, validated
by ``catalog.schema.json``): published versions are immutable, so the document is written once
and read whole. The fields the catalog searches and sorts by are copied into columns.
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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class Organisation(Base):
    """An issuer: the organisation that vouches for its credentials (the badge's issuer)."""

    __tablename__ = "catalog_organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(1024))
    email: Mapped[str] = mapped_column(String(320))
    description: Mapped[str] = mapped_column(Text, default="")
    """Markdown."""
    image_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_image.id", ondelete="SET NULL")
    )
    blind_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Reviewers of every credential of this organisation see no names, emails or course."""
    turnaround_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    """The review turnaround target: submissions waiting longer are flagged overdue."""
    badge_name_shown: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """Whether its badges carry the earner's name (beside the hashed email) when the earner has
    not chosen (``LtiUser.name_in_badges``)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    image: Mapped[Image | None] = relationship()


class Image(Base):
    """A badge or issuer image (PNG, or SVG after sanitising), addressed by its digest."""

    __tablename__ = "catalog_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    media_type: Mapped[str] = mapped_column(String(32))
    """``image/png`` or ``image/svg+xml``."""
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Credential(Base):
    """A micro-credential's identity; its content is in its versions."""

    __tablename__ = "catalog_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    """Stable across versions; used in URLs, Deep Linking custom parameters and badges."""
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_organisation.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    versions: Mapped[list[CredentialVersion]] = relationship(
        back_populates="credential", order_by="CredentialVersion.number"
    )


class CredentialVersion(Base):
    """One version of a credential: a draft, or an immutable published (later retired) one."""

    __tablename__ = "catalog_credential_version"
    __table_args__ = (
        UniqueConstraint("credential_id", "number", name="uq_catalog_credential_version_number"),
        Index("ix_catalog_credential_version_status_title", "status", "title"),
    )

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_credential.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """Counts a draft's saves, so an author's save over someone else's newer one is refused."""
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The catalog format's ``version`` object without number, status, dates and image."""
    image_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_image.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200))
    """Copied from the content, for search and sorting."""
    short_description: Mapped[str] = mapped_column(String(500))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    estimated_hours: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()
    retired_at: Mapped[datetime | None] = mapped_column()

    credential: Mapped[Credential] = relationship(back_populates="versions")
    image: Mapped[Image | None] = relationship()


class Stack(Base):
    """A pathway: credentials in order, and optionally a milestone credential for completing it."""

    __tablename__ = "catalog_stack"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_organisation.id", ondelete="RESTRICT")
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    milestone_credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_credential.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    items: Mapped[list[StackItem]] = relationship(
        order_by="StackItem.position", cascade="all, delete-orphan"
    )
    milestone: Mapped[Credential | None] = relationship()


class StackItem(Base):
    __tablename__ = "catalog_stack_item"
    __table_args__ = (
        UniqueConstraint("stack_id", "credential_id", name="uq_catalog_stack_item_credential"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stack_id: Mapped[int] = mapped_column(ForeignKey("catalog_stack.id", ondelete="CASCADE"))
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_credential.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)

    credential: Mapped[Credential] = relationship()


class Author(Base):
    """A console account that may author for one organisation (``author``) or also manage its
    authors (``admin``)."""

    __tablename__ = "catalog_author"
    __table_args__ = (
        UniqueConstraint("operator_id", "organisation_id", name="uq_catalog_author_membership"),
    )

    AUTHOR = "author"
    ADMIN = "admin"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("admin_operator.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_organisation.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(16), default=AUTHOR)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PublishedVersionChanged(Exception):
    """Code tried to change a published or retired version's content."""


@event.listens_for(CredentialVersion, "before_update")
def _published_versions_are_immutable(_mapper: Any, _connection: Any, target: Any) -> None:
    # Every later submission and review points at the version it was made against, so what
    # a published version asks must never change; only its status may (published → retired).
    state = inspect(target)
    was = state.attrs.status.history.deleted
    previous_status = was[0] if was else target.status
    if previous_status == CredentialVersion.DRAFT:
        return
    for name in (
        "content",
        "title",
        "short_description",
        "tags",
        "estimated_hours",
        "image_id",
        "revision",
    ):
        if state.attrs[name].history.has_changes():
            raise PublishedVersionChanged(
                f"version {target.number} is {previous_status}: its {name} cannot change"
            )
    if target.status == CredentialVersion.DRAFT:
        raise PublishedVersionChanged(f"version {target.number} cannot become a draft again")

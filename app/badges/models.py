"""The badges' tables: issuer signing keys, revocation status lists, and awards.

An award is one earned credential as issued: the signed OB 3.0 credential is stored whole and
never changes (it is what the earner downloads and what verifiers check); the OB 2.0 assertion,
badge class and issuer are built from the award and the catalog when asked for, because a hosted
OB 2.0 assertion is verified by fetching it, not by a signature. Revocation sets the award's
bit in its issuer's status list and makes the OB 2.0 assertion answer ``410 Gone``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Credential, CredentialVersion, Organisation
from app.db import Base, utcnow
from app.tenancy import PlatformOwned


class IssuerKey(Base):
    """An Ed25519 key pair of an issuer organisation; the private half is encrypted at rest.

    The active key signs new credentials. Rotation makes a new key active and keeps the old one
    published in the organisation's DID document (state ``previous``), so everything it signed
    still verifies; withdrawing a key (it leaked) unpublishes it, and what it signed stops
    verifying — which is the point."""

    __tablename__ = "badges_issuer_key"
    __table_args__ = (
        # At most one active key per organisation.
        Index(
            "uq_badges_issuer_key_active",
            "organisation_id",
            unique=True,
            postgresql_where=text("state = 'active'"),
            sqlite_where=text("state = 'active'"),
        ),
    )

    ACTIVE = "active"
    PREVIOUS = "previous"
    WITHDRAWN = "withdrawn"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_organisation.id", ondelete="RESTRICT"), index=True
    )
    public_multibase: Mapped[str] = mapped_column(String(64), unique=True)
    """The public key as a Multikey value (``z6Mk…``); also the fragment of its key id."""
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    """The raw 32-byte private key, encrypted with a key derived from the app secret (Fernet)."""
    state: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    """``active`` (signs), ``previous`` (published, signs nothing) or ``withdrawn``."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column()
    """When a newer key took over signing."""
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship()


class StatusList(Base):
    """An issuer's revocation list: a W3C Bitstring Status List, served as a signed
    ``BitstringStatusListCredential``. Each award holds one random index in one list; the bits
    set are the revoked awards' indexes (computed from the awards when the list is signed)."""

    __tablename__ = "badges_status_list"

    REVOCATION = "revocation"
    SIZE = 131072
    """Bits per list: the specification's minimum, so one index says little about an earner
    (https://www.w3.org/TR/vc-bitstring-status-list/#bitstring-encoding)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_organisation.id", ondelete="RESTRICT"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16), default=REVOCATION)
    size: Mapped[int] = mapped_column(Integer, default=SIZE)
    used: Mapped[int] = mapped_column(Integer, default=0)
    """Indexes handed out; a full list (``used == size``) is followed by a new one."""
    revision: Mapped[int] = mapped_column(Integer, default=1)
    """Raised by every revocation (and reinstatement); the signed copy is of one revision."""
    signed: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The last signed ``BitstringStatusListCredential``, of ``signed_revision``."""
    signed_revision: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class Award(PlatformOwned, Base):
    """One credential earned by one educator, as issued (OB 3.0 and OB 2.0)."""

    __tablename__ = "badges_award"
    __table_args__ = (
        UniqueConstraint("attempt_id", name="uq_badges_award_attempt"),
        UniqueConstraint(
            "status_list_id", "status_index", name="uq_badges_award_status_list_index"
        ),
        # A stack's milestone is earned once per educator.
        Index(
            "uq_badges_award_user_stack",
            "user_id",
            "stack_id",
            unique=True,
            postgresql_where=text("stack_id IS NOT NULL"),
            sqlite_where=text("stack_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    """Random and unguessable; names the award in its public URLs."""
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="RESTRICT"), index=True
    )
    """The earner's platform. RESTRICT: an issued credential must never vanish from its
    status list (a deleted award's credential would verify as not revoked)."""
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="RESTRICT"), index=True)
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_credential.id", ondelete="RESTRICT"), index=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_credential_version.id", ondelete="RESTRICT")
    )
    """The version earned (its criteria are the badge's)."""
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_organisation.id", ondelete="RESTRICT"), index=True
    )
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_attempt.id", ondelete="RESTRICT")
    )
    """The attempt whose decision earned it; none for a stack's milestone."""
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("grading_decision.id", ondelete="RESTRICT")
    )
    stack_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_stack.id", ondelete="RESTRICT")
    )
    """For a milestone: the stack whose completion earned it."""
    issuer_key_id: Mapped[int] = mapped_column(
        ForeignKey("badges_issuer_key.id", ondelete="RESTRICT")
    )
    status_list_id: Mapped[int] = mapped_column(
        ForeignKey("badges_status_list.id", ondelete="RESTRICT")
    )
    status_index: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime | None] = mapped_column()
    recipient_name: Mapped[str | None] = mapped_column(String(255))
    """The name on the badge when it was issued; ``None``: issued without the earner's name
    (their choice, or their issuer's default)."""
    recipient_type: Mapped[str] = mapped_column(String(16))
    """``email`` (the hash is of the email address) or ``systemId`` (of the LMS's user id, when
    the LMS shared no email)."""
    recipient_salt: Mapped[str] = mapped_column(String(64))
    recipient_hash: Mapped[str] = mapped_column(String(80))
    """``sha256$`` + hex SHA-256 of identity + salt (OB 2.0 and OB 3.0 alike)."""
    credential_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The signed OB 3.0 ``OpenBadgeCredential``, exactly as issued."""
    public_evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """What the earner chose to show: ``[{"kind": "answer" | "link" | "file", "id": n}]``."""
    revoked_at: Mapped[datetime | None] = mapped_column()
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(320))

    credential: Mapped[Credential] = relationship()
    version: Mapped[CredentialVersion] = relationship()
    organisation: Mapped[Organisation] = relationship()
    status_list: Mapped[StatusList] = relationship()
    issuer_key: Mapped[IssuerKey] = relationship()

"""The LTI tables: registrations, deployments, tool keys, short-lived state, and what launches
tell us about users, contexts and resource links.

One table per LTI concept, each with a named unique constraint (see STYLE.md).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.tenancy import PlatformOwned


class Registration(Base):
    """A platform (an LMS) that has registered this tool: one (issuer, client_id) pair."""

    __tablename__ = "lti_registration"
    __table_args__ = (
        UniqueConstraint("issuer", "client_id", name="uq_lti_registration_issuer_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    """Stable public identifier, for URLs that must name a registration."""
    name: Mapped[str] = mapped_column(String(200))
    """What operators call this platform, e.g. "District Moodle"."""
    issuer: Mapped[str] = mapped_column(String(255))
    """The platform's ``iss``: exactly as it appears in its id_tokens."""
    client_id: Mapped[str] = mapped_column(String(255))
    """The client id the platform gave this tool."""
    auth_login_url: Mapped[str] = mapped_column(String(1024))
    """OIDC authorization endpoint (Canvas: on its SSO host, never derived from the issuer)."""
    auth_token_url: Mapped[str] = mapped_column(String(1024))
    """OAuth2 token endpoint for AGS and NRPS access tokens."""
    auth_audience: Mapped[str | None] = mapped_column(String(1024))
    """``aud`` for our client assertions when it is not the token URL."""
    key_set_url: Mapped[str] = mapped_column(String(1024))
    """The platform's JWKS URL."""
    platform_family: Mapped[str] = mapped_column(String(32), default="generic")
    """``moodle``, ``canvas`` or ``generic``: which quirks apply."""
    auto_approve_deployments: Mapped[bool] = mapped_column(Boolean, default=False)
    """Approve a new deployment id on first sight instead of holding it pending."""
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    """Launches and service calls are accepted; an operator can switch a platform off."""
    source: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")
    """How it was registered: ``dynamic`` (LTI Dynamic Registration), ``manual`` (console),
    ``cli`` or ``demo``."""
    frame_origins: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    """Origins that frame the tool for this platform, learned from signed launches (a hosted
    Canvas's course pages live on the school's domain, not on the issuer's)."""
    course_page_origins: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    """Origins an operator says the platform's course pages are on (a vanity domain, a portal):
    they may frame the tool before any launch from there has been signed."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(back_populates="registration")


class Deployment(PlatformOwned, Base):
    """One deployment of the tool inside a registration (Canvas: per account, course, copy)."""

    __tablename__ = "lti_deployment"
    __table_args__ = (
        UniqueConstraint(
            "registration_id", "deployment_id", name="uq_lti_deployment_registration_deployment"
        ),
    )

    PENDING = "pending"
    ACTIVE = "active"
    REFUSED = "refused"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE")
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    """The platform's ``deployment_id`` claim."""
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    """``pending`` until an operator approves it, then ``active`` (or ``refused``)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()

    registration: Mapped[Registration] = relationship(back_populates="deployments")

    @property
    def is_active(self) -> bool:
        return self.status == self.ACTIVE


class ToolKey(Base):
    """An RS256 key pair of the tool; the private half is encrypted at rest.

    A key is published in the JWKS from creation until ``retires_at``; it signs from
    ``signs_from`` until a newer key's ``signs_from`` arrives. Rotation schedules both times
    ahead, so platforms that cache the JWKS see a new key before it signs anything and keep
    the old one while tokens it signed may still be checked."""

    __tablename__ = "lti_tool_key"

    ACTIVE = "active"
    RETIRED = "retired"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    """RFC 7638 thumbprint of the public key; the ``kid`` in our JWKS and JWT headers."""
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    """PKCS#8 PEM encrypted with a key derived from the secret key (Fernet)."""
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    """``active`` (follows its schedule) or ``retired`` (withdrawn now, e.g. compromised)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    signs_from: Mapped[datetime] = mapped_column(default=utcnow)
    """When this key starts signing (after the overlap window that publishes it first)."""
    retires_at: Mapped[datetime | None] = mapped_column()
    """When this key leaves the JWKS (set when a newer key is scheduled)."""


class LtiState(Base):
    """Short-lived LTI values (OIDC state, nonces, launch data, cached platform keys)."""

    __tablename__ = "lti_state"
    __table_args__ = (Index("ix_lti_state_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column()


class LtiUser(PlatformOwned, Base):
    """A person as one platform knows them (``sub``); profile claims as of the last launch."""

    __tablename__ = "lti_user"
    __table_args__ = (
        UniqueConstraint("registration_id", "sub", name="uq_lti_user_registration_sub"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE")
    )
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    given_name: Mapped[str | None] = mapped_column(String(255))
    family_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    badge_name: Mapped[str | None] = mapped_column(String(120))
    """The name the person wants on their badges, if not the LMS's."""
    name_in_badges: Mapped[bool | None] = mapped_column(Boolean)
    """Whether the badges issued to them carry their name; ``None``: as the issuing
    organisation's setting says (``Organisation.badge_name_shown``)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def lms_name(self) -> str | None:
        """The person's name as the LMS gave it, if it gave one."""
        full = " ".join(p for p in (self.given_name, self.family_name) if p)
        return self.name or full or None

    @property
    def display_name(self) -> str:
        """The person's name as the LMS gave it, else their email, else their LMS user id."""
        return self.lms_name or self.email or f"User {self.sub}"


class LtiContext(PlatformOwned, Base):
    """A course (LTI context) within one deployment."""

    __tablename__ = "lti_context"
    __table_args__ = (
        UniqueConstraint("deployment_id", "context_id", name="uq_lti_context_deployment_context"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The platform this row belongs to (tenant scoping)."""
    deployment_id: Mapped[int] = mapped_column(ForeignKey("lti_deployment.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    label: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LtiResourceLink(PlatformOwned, Base):
    """A placement of the tool in a course (a link or an assignment)."""

    __tablename__ = "lti_resource_link"
    __table_args__ = (
        UniqueConstraint(
            "context_id", "resource_link_id", name="uq_lti_resource_link_context_link"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The platform this row belongs to (tenant scoping)."""
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RegistrationLink(Base):
    """A one-time Dynamic Registration URL an operator issues to one LMS admin.

    Only a digest of the token is stored; the URL is shown once, when it is issued."""

    __tablename__ = "lti_registration_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 (hex) of the secret token in the URL."""
    label: Mapped[str] = mapped_column(String(200))
    """Whom or what it is for, e.g. "Northside district Moodle"; becomes the platform's name."""
    auto_approve_deployments: Mapped[bool] = mapped_column(Boolean, default=True)
    """Carried to the registration it creates: approve deployment ids on first sight."""
    created_by: Mapped[str] = mapped_column(String(320))
    """Who issued it (an operator's email, or ``cli``)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    """When a platform completed a registration with it; it cannot be used again."""
    revoked_at: Mapped[datetime | None] = mapped_column()
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="SET NULL")
    )
    """The registration it created."""


class LineItem(PlatformOwned, Base):
    """A resource link's gradebook column, as the platform's AGS claim names it (LTI AGS 2.0
    §3.2, https://www.imsglobal.org/spec/lti-ags/v2p0/#assignment-and-grade-service-claim).

    Recorded at every launch of the link that carries the claim. ``url`` is the line item the
    scores go to: the claim's ``lineitem`` (a column Deep Linking or the instructor created), or
    one the tool found or created through ``lineitems_url`` when the claim names none.
    """

    __tablename__ = "lti_line_item"
    __table_args__ = (UniqueConstraint("resource_link_id", name="uq_lti_line_item_resource_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )
    """The platform this row belongs to (tenant scoping)."""
    resource_link_id: Mapped[int] = mapped_column(
        ForeignKey("lti_resource_link.id", ondelete="CASCADE")
    )
    url: Mapped[str | None] = mapped_column(String(1024))
    """The line item's URL (scores go to ``{url}/scores``); ``None`` until one is known."""
    lineitems_url: Mapped[str | None] = mapped_column(String(1024))
    """The context's line items container, to find or create a column when ``url`` is absent."""
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The AGS scopes the platform granted in the last launch's claim."""
    label: Mapped[str | None] = mapped_column(String(255))
    score_maximum: Mapped[float | None] = mapped_column(Float)
    """The column's points as the platform reported them, when the tool has read them."""
    no_column: Mapped[str | None] = mapped_column(Text)
    """Why the LMS can give this link no gradebook column, in words an instructor can act on
    (a Canvas module item launched without ``lineitem``; an LMS that refused to create one
    with 404 or 412); ``None``: it has one, or the tool may create one."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

"""One-time Dynamic Registration URLs (LTI-CHECKLIST D: "The registration URL an admin pastes is
one-time and expires (an operator issues it)").

The token in the URL is shown once, when issued; only its SHA-256 is stored. A link is claimed
(atomically) before the platform is contacted, so two admins pasting the same URL cannot both
register; a failed attempt releases it for another try.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.lti.models import RegistrationLink

DEFAULT_LIFETIME = timedelta(days=7)
MAX_LIFETIME = timedelta(days=90)
# A claim older than this is an attempt that died mid-way (a crashed worker): usable again.
CLAIM_TIMEOUT = timedelta(minutes=5)


class LinkUnusable(Exception):
    """The link cannot register a platform; ``reason`` is one of the class constants."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"
    BUSY = "busy"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedLink:
    link: RegistrationLink
    token: str

    def url(self, base_url: str) -> str:
        return registration_url(base_url, self.token)


def registration_url(base_url: str, token: str) -> str:
    """The URL an LMS admin pastes into the LMS's "register a tool" screen."""
    return f"{base_url}/lti/register/{token}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session,
    *,
    label: str,
    created_by: str,
    lifetime: timedelta = DEFAULT_LIFETIME,
    auto_approve_deployments: bool = True,
    now: datetime | None = None,
) -> IssuedLink:
    """Create a link (uncommitted); the token is returned once and never stored."""
    label = " ".join(label.split())
    if not label:
        raise ValueError("Give the link a label: the name of the LMS it is for.")
    if len(label) > 200:
        raise ValueError("Keep the label to 200 characters.")
    if lifetime <= timedelta(0) or lifetime > MAX_LIFETIME:
        raise ValueError("A registration link lives between a minute and 90 days.")
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    link = RegistrationLink(
        token_digest=digest(token),
        label=label,
        auto_approve_deployments=auto_approve_deployments,
        created_by=created_by,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(link)
    session.flush()
    return IssuedLink(link=link, token=token)


def state(link: RegistrationLink, now: datetime) -> str:
    """``open``, ``used``, ``revoked`` or ``expired``, for lists and checks."""
    if link.revoked_at is not None:
        return "revoked"
    if link.registration_id is not None:
        return "used"
    if link.expires_at <= now:
        return "expired"
    return "open"


def find_usable(session: Session, token: str, *, now: datetime | None = None) -> RegistrationLink:
    """Return the open link for a token, or raise ``LinkUnusable`` saying why not."""
    now = now or utcnow()
    link = session.scalars(
        select(RegistrationLink).where(RegistrationLink.token_digest == digest(token))
    ).first()
    if link is None:
        raise LinkUnusable(LinkUnusable.UNKNOWN)
    current = state(link, now)
    if current == "revoked":
        raise LinkUnusable(LinkUnusable.REVOKED)
    if current == "used":
        raise LinkUnusable(LinkUnusable.USED)
    if current == "expired":
        raise LinkUnusable(LinkUnusable.EXPIRED)
    return link


def claim(session: Session, link: RegistrationLink, *, now: datetime | None = None) -> None:
    """Mark the link in use, atomically, and commit; raise ``LinkUnusable(BUSY)`` if another
    attempt holds it."""
    now = now or utcnow()
    result = session.execute(
        update(RegistrationLink)
        .where(
            RegistrationLink.id == link.id,
            RegistrationLink.registration_id.is_(None),
            RegistrationLink.revoked_at.is_(None),
            (RegistrationLink.used_at.is_(None)) | (RegistrationLink.used_at < now - CLAIM_TIMEOUT),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if getattr(result, "rowcount", 0) != 1:
        raise LinkUnusable(LinkUnusable.BUSY)
    session.refresh(link)


def release(session: Session, link: RegistrationLink) -> None:
    """Give a claimed link back after a failed attempt (committed)."""
    session.rollback()
    session.execute(
        update(RegistrationLink)
        .where(RegistrationLink.id == link.id, RegistrationLink.registration_id.is_(None))
        .values(used_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def revoke(session: Session, link_id: int, *, now: datetime | None = None) -> RegistrationLink:
    """Withdraw an unused link (uncommitted)."""
    link = session.get(RegistrationLink, link_id)
    if link is None:
        raise LookupError(f"no registration link {link_id}")
    if link.registration_id is not None:
        raise ValueError("This link has already registered a platform; it cannot be revoked.")
    link.revoked_at = link.revoked_at or now or utcnow()
    return link


def list_links(session: Session) -> list[RegistrationLink]:
    """Every link, newest first."""
    return list(
        session.scalars(
            select(RegistrationLink).order_by(
                RegistrationLink.created_at.desc(), RegistrationLink.id.desc()
            )
        )
    )

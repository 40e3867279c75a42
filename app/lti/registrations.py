"""Registering platforms and their deployments (the operator's side of LTI-CHECKLIST D)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict
from app.lti.models import Deployment, Registration


def register_platform(
    session: Session,
    *,
    name: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    auth_audience: str | None = None,
    platform_family: str = "generic",
    active_deployment_ids: Iterable[str] = (),
    source: str = "cli",
) -> Registration:
    """Create or update the registration for (issuer, client_id) and approve deployments.

    ``source`` says how a new registration was made (``cli``, ``demo``); an update keeps it.

    Flushes; the caller commits, so that what records the change (the audit log) is written in
    the same transaction."""
    registration = find_by_issuer_and_client_id(session, issuer, client_id)
    if registration is None:
        registration = Registration(issuer=issuer, client_id=client_id, source=source)
        session.add(registration)
    registration.name = name
    registration.auth_login_url = auth_login_url
    registration.auth_token_url = auth_token_url
    registration.key_set_url = key_set_url
    registration.auth_audience = auth_audience
    registration.platform_family = platform_family
    session.flush()
    for deployment_id in active_deployment_ids:
        set_deployment_status(session, registration, deployment_id, Deployment.ACTIVE)
    return registration


def set_deployment_status(
    session: Session, registration: Registration, deployment_id: str, status: str
) -> Deployment:
    """Record an operator's decision on a deployment (creating the row if unseen)."""
    deployment = session.scalars(
        select(Deployment).where(
            Deployment.registration_id == registration.id, Deployment.deployment_id == deployment_id
        )
    ).first()
    if deployment is None:
        deployment = Deployment(registration_id=registration.id, deployment_id=deployment_id)
        session.add(deployment)
    deployment.status = status
    deployment.decided_at = utcnow()
    session.flush()
    return deployment


def list_registrations(session: Session) -> list[Registration]:
    """Return every registration, by name."""
    return list(session.scalars(select(Registration).order_by(Registration.name)).all())


# --- What the operator console reads and changes ----------------------------------------------

PLATFORM_FAMILIES = ("moodle", "canvas", "generic")
"""Which quirks apply to a platform (``Registration.platform_family``)."""

EDITABLE_FIELDS = (
    "name",
    "auth_login_url",
    "auth_token_url",
    "auth_audience",
    "key_set_url",
    "platform_family",
    "course_page_origins",
)
"""The values an operator may change after registration. Issuer and client id name the
registration (users, courses and links hang off it), so they are not among them."""


class RegistrationExists(Conflict):
    """Another registration already has this (issuer, client_id)."""

    code = "registration_exists"
    title = "This platform is already registered"

    def __init__(self, existing_name: str) -> None:
        super().__init__(
            f"A platform with this issuer and client id is already registered, as "
            f"“{existing_name}”.",
            hint="Open that platform to change its values, or check the client id.",
        )
        self.existing_name = existing_name


@dataclass(frozen=True)
class RegistrationSummary:
    """A registration with how many of its deployments are in each state."""

    registration: Registration
    active: int
    pending: int
    refused: int


def find_by_issuer_and_client_id(
    session: Session, issuer: str, client_id: str
) -> Registration | None:
    """Return the registration for exactly (issuer, client_id), or ``None``."""
    return session.scalars(
        select(Registration).where(
            Registration.issuer == issuer, Registration.client_id == client_id
        )
    ).first()


def find_by_id(session: Session, registration_id: int) -> Registration | None:
    """Return the registration with this row id, or ``None``."""
    return session.get(Registration, registration_id)


def find_by_uuid(session: Session, registration_uuid: str) -> Registration | None:
    """Return the registration with this public identifier, or ``None``."""
    return session.scalars(
        select(Registration).where(Registration.uuid == registration_uuid)
    ).first()


def find_platforms(session: Session, named: str) -> list[Registration]:
    """Return the platforms an operator may mean by ``named``: its public identifier (uuid),
    its name or its issuer, exactly. An issuer may name several registrations."""
    named = named.strip()
    return list(
        session.scalars(
            select(Registration)
            .where(
                (Registration.uuid == named)
                | (Registration.name == named)
                | (Registration.issuer == named)
            )
            .order_by(Registration.id)
        )
    )


def create_registration(
    session: Session,
    *,
    name: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    auth_audience: str | None = None,
    platform_family: str = "generic",
    course_page_origins: Iterable[str] = (),
    source: str = "manual",
    auto_approve_deployments: bool = False,
    active_deployment_ids: Iterable[str] = (),
) -> Registration:
    """Add a new registration, refusing a second one for the same (issuer, client_id).

    Flushes; the caller commits."""
    existing = find_by_issuer_and_client_id(session, issuer, client_id)
    if existing is not None:
        raise RegistrationExists(existing.name)
    registration = Registration(
        name=name,
        issuer=issuer,
        client_id=client_id,
        auth_login_url=auth_login_url,
        auth_token_url=auth_token_url,
        key_set_url=key_set_url,
        auth_audience=auth_audience,
        platform_family=platform_family,
        source=source,
        auto_approve_deployments=auto_approve_deployments,
        is_active=True,
        frame_origins=[],
        course_page_origins=list(course_page_origins),
    )
    session.add(registration)
    try:
        session.flush()
    except IntegrityError:
        # Registered by someone else between the check and the insert.
        session.rollback()
        raise RegistrationExists(
            getattr(find_by_issuer_and_client_id(session, issuer, client_id), "name", name)
        ) from None
    for deployment_id in active_deployment_ids:
        set_deployment_status(session, registration, deployment_id, Deployment.ACTIVE)
    return registration


def update_registration(
    session: Session, registration: Registration, values: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """Set the editable values given; return ``{field: (before, after)}`` for those changed."""
    changes: dict[str, tuple[Any, Any]] = {}
    for field in EDITABLE_FIELDS:
        if field not in values:
            continue
        before, after = getattr(registration, field), values[field]
        if before != after:
            setattr(registration, field, after)
            changes[field] = (before, after)
    session.flush()
    return changes


def summarize_registrations(session: Session) -> list[RegistrationSummary]:
    """Return every registration, by name, with its deployment counts per state."""

    def per_status(status: str) -> Any:
        return func.coalesce(func.sum(case((Deployment.status == status, 1), else_=0)), 0)

    rows = session.execute(
        select(
            Registration,
            per_status(Deployment.ACTIVE),
            per_status(Deployment.PENDING),
            per_status(Deployment.REFUSED),
        )
        .outerjoin(Deployment, Deployment.registration_id == Registration.id)
        .group_by(Registration.id)
        .order_by(Registration.name, Registration.id)
    ).all()
    return [
        RegistrationSummary(registration=r, active=int(a), pending=int(p), refused=int(x))
        for r, a, p, x in rows
    ]


def count_registrations(session: Session) -> tuple[int, int]:
    """Return how many registrations there are, and how many of them are active."""
    total, active = session.execute(
        select(
            func.count(Registration.id),
            func.coalesce(func.sum(case((Registration.is_active, 1), else_=0)), 0),
        )
    ).one()
    return int(total), int(active)


def count_pending_deployments(session: Session) -> int:
    """Return how many deployments wait for an operator's decision."""
    return int(
        session.scalar(
            select(func.count(Deployment.id)).where(Deployment.status == Deployment.PENDING)
        )
        or 0
    )


def deployments_of(session: Session, registration: Registration) -> list[Deployment]:
    """Return a registration's deployments: pending first, then by when they were seen."""
    pending_first = case((Deployment.status == Deployment.PENDING, 0), else_=1)
    return list(
        session.scalars(
            select(Deployment)
            .where(Deployment.registration_id == registration.id)
            .order_by(pending_first, Deployment.created_at, Deployment.id)
        )
    )


def find_deployment(
    session: Session, registration: Registration, deployment_id: str
) -> Deployment | None:
    """Return the registration's deployment with this ``deployment_id`` claim, or ``None``."""
    return session.scalars(
        select(Deployment).where(
            Deployment.registration_id == registration.id,
            Deployment.deployment_id == deployment_id,
        )
    ).first()

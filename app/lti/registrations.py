"""Registering platforms and their deployments (the operator's side of LTI-CHECKLIST D)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
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
) -> Registration:
    """Create or update the registration for (issuer, client_id) and approve deployments."""
    registration = session.scalars(
        select(Registration).where(
            Registration.issuer == issuer, Registration.client_id == client_id
        )
    ).first()
    if registration is None:
        registration = Registration(issuer=issuer, client_id=client_id)
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
    session.commit()
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

"""The audit log: every change to platforms, deployments, keys, links, operators, credentials
and badges, with who made it and when. Written in the same transaction as the change it records.

Shared infrastructure: any feature records its changes here, and this package imports none of
them (the console's page that lists the log is ``admin``'s)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent

CLI = "cli"
DYNAMIC_REGISTRATION = "dynamic-registration"
LTI_LAUNCH = "lti-launch"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str = "",
    details: dict[str, Any] | None = None,
    operator_id: int | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller commits it with the change)."""
    event = AuditEvent(
        actor=actor,
        operator_id=operator_id,
        action=action,
        target=target,
        details=dict(details or {}),
    )
    session.add(event)
    return event


def recent(
    session: Session, *, limit: int = 50, offset: int = 0, target: str | None = None
) -> list[AuditEvent]:
    """Return events newest first (only those about ``target`` when given)."""
    query = select(AuditEvent)
    if target is not None:
        query = query.where(AuditEvent.target == target)
    return list(
        session.scalars(
            query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def count(session: Session) -> int:
    """Return how many events there are."""
    return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)

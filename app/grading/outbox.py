"""The outbox: events that must reach other systems, written with the change that causes them.

STYLE.md "Durable side effects": a submission or a decision adds an ``OutboxEvent`` row in its
own transaction, and the desired score of every gradebook column it changes
(``gradebook.schedule``); nothing here calls the LMS or issues a badge. The worker delivers the
scores with bounded retries (``app/grading/worker.py``); badge issuance reads the events.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.evidence.models import Attempt
from app.grading import gradebook
from app.grading.models import OutboxEvent

SUBMITTED = OutboxEvent.SUBMITTED
DECIDED = OutboxEvent.DECIDED


def record(
    session: Session, attempt: Attempt, kind: str, payload: dict[str, Any] | None = None
) -> OutboxEvent:
    """Add an event about ``attempt`` to the caller's transaction."""
    event = OutboxEvent(
        registration_id=attempt.registration_id,
        kind=kind,
        attempt_id=attempt.id,
        payload={
            "user_id": attempt.user_id,
            "credential_id": attempt.credential_id,
            **(payload or {}),
        },
    )
    session.add(event)
    session.flush()
    gradebook.schedule(session, attempt, kind, event.payload)
    return event

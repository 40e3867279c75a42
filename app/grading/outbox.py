"""A submission's or a decision's outbox event, and the gradebook's desired scores with it.

STYLE.md "Durable side effects": a submission or a decision adds an ``OutboxEvent`` row
(``app.outbox``) in its own transaction, and the desired score of every gradebook column it
changes (``gradebook.schedule``); nothing here calls the LMS or issues a badge. The worker
delivers the scores with bounded retries (``app/grading/worker.py``); badge issuance reads the
events (``app/badges/processing.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app import outbox
from app.evidence.models import Attempt
from app.grading import gradebook
from app.outbox.models import OutboxEvent

SUBMITTED = OutboxEvent.SUBMITTED
DECIDED = OutboxEvent.DECIDED


def record(
    session: Session, attempt: Attempt, kind: str, payload: dict[str, Any] | None = None
) -> OutboxEvent:
    """Add an event about ``attempt`` to the caller's transaction."""
    event = outbox.record(
        session,
        registration_id=attempt.registration_id,
        attempt_id=attempt.id,
        kind=kind,
        payload={
            "user_id": attempt.user_id,
            "credential_id": attempt.credential_id,
            **(payload or {}),
        },
    )
    gradebook.schedule(session, attempt, kind, event.payload)
    return event

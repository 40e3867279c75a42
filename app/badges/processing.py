"""Issuing the badges that decisions call for, as the outbox processor's handler (STYLE
"Durable side effects").

The processor (``app.outbox.processing``) takes the events in order, each in its own
transaction; for a ``decided`` event with outcome ``earned`` this handler issues the badge
(``issuance.issue_for_decision``); other events have nothing left to do here. The worker runs
the processor as one of its jobs (``ISSUING_BADGES``, ``app.outbox.jobs``).
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from app.badges.issuance import Signer, issue_for_decision
from app.db import get_db
from app.outbox.jobs import Job, Run
from app.outbox.models import OutboxEvent
from app.outbox.processing import Handler, Processor, Settings


def issue_badges(signer: Signer) -> Handler:
    """Return the handler that issues the badge an earned decision's event calls for."""

    def handle(session: Session, event: OutboxEvent) -> int:
        if event.kind == OutboxEvent.DECIDED and event.payload.get("outcome") == "earned":
            return len(issue_for_decision(session, signer, int(event.payload["decision_id"])))
        return 0

    return handle


def build(app: Flask, *, name: str = "") -> Processor:
    """Make a processor with the app's database and issuing settings."""
    from app.badges.services import signer_of

    settings = app.config["MICROCRED_SETTINGS"]
    return Processor(
        get_db(app),
        issue_badges(signer_of(app)),
        Settings(
            lease_seconds=settings.worker_lease_seconds,
            retry_base_seconds=settings.worker_retry_seconds,
            max_tries=settings.worker_max_tries,
        ),
        name=name or "badge-processor",
    )


def _for(app: Flask, run: Run) -> Processor:
    # Named as they always were: "<the worker's name>-badges", "embedded-badges" in flask serve.
    return build(app, name=f"{run.name}-badges")


def _issued(found: Processor, until_idle: bool) -> str | None:
    return f"{found.name}: issued {found.counters.issued} badges." if until_idle else None


ISSUING_BADGES: Job[Processor] = Job(
    build=_for,
    serving="Badge issuing:    running in this process (issues earned badges).",
    finished=_issued,
)
"""The worker's job of issuing earned badges (``badges.init_app`` adds it, after grading's)."""

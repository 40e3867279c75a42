"""The outbox: events that must reach other systems, written with the change that causes them.

STYLE.md "Durable side effects": a submission or a decision adds an ``OutboxEvent`` row in its
own transaction (``record``); nothing that writes one calls another system. The outbox
processor (``app.outbox.processing``) takes the events in order and hands each to a handler
(badge issuance, ``app.badges.processing``) with bounded retries, timed by ``backoff`` as the
score worker's sends are.

Shared infrastructure: features write and read events here, and this package imports none of
them (the handler is given to the processor by the feature that builds it). The worker that runs
the processor and every other feature's durable work (``flask worker``, ``app.outbox.cli``)
runs the jobs the features add in their ``init_app`` (``app.outbox.jobs``).
"""

from __future__ import annotations

import random
from typing import Any, Protocol

from flask import Flask
from sqlalchemy.orm import Session

from app.outbox.models import OutboxEvent

SUBMITTED = OutboxEvent.SUBMITTED
DECIDED = OutboxEvent.DECIDED


def init_app(app: Flask) -> None:
    """Give the app's ``flask`` the ``worker`` command; the features add its jobs."""
    from app.outbox.cli import worker_command

    app.cli.add_command(worker_command)


def record(
    session: Session,
    *,
    registration_id: int,
    attempt_id: int,
    kind: str,
    payload: dict[str, Any],
) -> OutboxEvent:
    """Add an event about an attempt to the caller's transaction (flushed: it has its id)."""
    event = OutboxEvent(
        registration_id=registration_id, kind=kind, attempt_id=attempt_id, payload=payload
    )
    session.add(event)
    session.flush()
    return event


class RetryTimes(Protocol):
    """How long waits between tries grow: from ``retry_base_seconds``, doubling, to the cap."""

    @property
    def retry_base_seconds(self) -> float: ...

    @property
    def retry_cap_seconds(self) -> float: ...


def backoff(
    tries: int, settings: RetryTimes, retry_after: float | None, rng: random.Random
) -> float:
    """Seconds to wait before try ``tries + 1``: exponential with full jitter, at least what the
    LMS asked for with ``Retry-After``."""
    ceiling = min(settings.retry_cap_seconds, settings.retry_base_seconds * 2 ** max(0, tries - 1))
    delay = ceiling * (0.5 + rng.random() / 2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay

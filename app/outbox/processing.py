"""The outbox processor: takes the events in order and hands each to its handler (STYLE
"Durable side effects").

A submission or a decision writes an ``OutboxEvent`` in its own transaction; this loop takes
the events in order and calls the handler it was built with (badge issuance:
``app.badges.processing``) on each, in its own transaction that also marks the event processed.
Gradebook scores were scheduled when the event was written, so a handler that has nothing to do
with an event leaves it to be marked processed.

Claiming leases events (``available_at`` moved past the lease), with ``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so several processes never handle the same event at once; a process that dies
leaves its lease to run out. A failing event is retried with back-off; after ``max_tries`` it is
marked failed with its error, for an operator to see and retry.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.db import Database, utcnow
from app.outbox import backoff
from app.outbox.models import OutboxEvent

log = logging.getLogger(__name__)

E = cast(Table, OutboxEvent.__table__)

Handler = Callable[[Session, OutboxEvent], int]
"""Does what an event calls for in the session's transaction; returns how many things it
issued (counted in ``Counters.issued``)."""


@dataclass
class Settings:
    batch: int = 20
    lease_seconds: float = 60
    retry_base_seconds: float = 5
    retry_cap_seconds: float = 3600
    max_tries: int = 12
    idle_seconds: float = 1.0


@dataclass
class Counters:
    issued: int = 0
    processed: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Processor:
    """Take outbox events and hand them to ``handler`` until stopped (or, ``until_idle``, none
    is due)."""

    def __init__(
        self, db: Database, handler: Handler, settings: Settings | None = None, *, name: str = ""
    ) -> None:
        self.db = db
        self.handler = handler
        self.settings = settings or Settings()
        self.name = name or "outbox-processor"
        self.counters = Counters()
        self.thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._rng = random.SystemRandom()
        self._postgres = db.engine.dialect.name == "postgresql"

    def stop(self) -> None:
        self._stop.set()

    def run(self, *, until_idle: bool = False) -> Counters:
        while not self._stop.is_set():
            try:
                claimed = self.claim()
            except SQLAlchemyError:
                log.exception("claiming outbox events failed; retrying")
                claimed = []
            for event_id in claimed:
                self.handle(event_id)
            if not claimed:
                if until_idle:
                    return self.counters
                self._stop.wait(self.settings.idle_seconds)
        return self.counters

    def run_in_thread(self) -> threading.Thread:
        self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self.thread.start()
        return self.thread

    def claim(self) -> list[int]:
        """Lease the due events, oldest first, and return their ids."""
        now = utcnow()
        due = (
            select(E.c.id)
            .where(
                E.c.processed_at.is_(None),
                E.c.failed_at.is_(None),
                E.c.available_at <= now,
            )
            .order_by(E.c.available_at, E.c.id)
            .limit(self.settings.batch)
        )
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        with self.db.engine.begin() as connection:
            rows = connection.execute(
                update(E)
                .where(E.c.id.in_(due.scalar_subquery()))
                .values(
                    available_at=now + timedelta(seconds=self.settings.lease_seconds),
                    tries=E.c.tries + 1,
                )
                .returning(E.c.id, E.c.available_at)
            ).all()
        return [row.id for row in sorted(rows, key=lambda r: r.id)]

    def handle(self, event_id: int) -> None:
        """Process one leased event in its own transaction; on failure, schedule a retry."""
        try:
            with self.db.session_factory.begin() as session:
                event = session.get_one(OutboxEvent, event_id)
                if event.processed_at is not None:
                    return
                self.counters.issued += self.handler(session, event)
                event.processed_at = utcnow()
                event.last_error = None
            self.counters.processed += 1
        except Exception as error:
            # Any failure (a bug, a missing key, the database) is recorded on the event and
            # retried; the loop must outlive it.
            log.exception("outbox event %s failed", event_id)
            self._failed(event_id, f"{type(error).__name__}: {error}")

    def _failed(self, event_id: int, message: str) -> None:
        s = self.settings
        try:
            with self.db.session_factory.begin() as session:
                event = session.get_one(OutboxEvent, event_id)
                event.last_error = message[:2000]
                if event.tries >= s.max_tries:
                    event.failed_at = utcnow()
                    self.counters.failed += 1
                else:
                    delay = backoff(event.tries, s, None, self._rng)
                    event.available_at = utcnow() + timedelta(seconds=delay)
                    self.counters.retried += 1
        except SQLAlchemyError:
            # The lease runs out and the event is tried again: issued once, never lost.
            log.exception("recording the failure of outbox event %s failed", event_id)
        self.counters.errors.append(message)

"""Exports too large to build while the educator waits, built by the worker.

The educator's page asks (``request_export``); the worker's job (``BUILDING_EXPORTS``, a
``Builder`` loop) takes the oldest queued request, marks it building, writes the zip to a
temporary file with the same ``export.write`` as a download while one waits, telling the row how
far it has come after each file (the educator's page shows it), puts the zip in the evidence
store (the web process and the worker may be on different hosts; the store is what they share)
and marks it ready until ``EXPIRES``; past that, the download answers "expired" and the loop
deletes the zip from the store. A request that fails is marked failed: the page offers to ask
again. The builder holds a request by a lease renewed with each step: if its worker stops
mid-build, another takes the request up once the lease lapses.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.badges.services import site_of
from app.db import get_db, utcnow
from app.evidence.storage import EvidenceStore, new_key
from app.outbox.jobs import Job, Run
from app.privacy import export
from app.privacy.models import ExportRequest

log = logging.getLogger(__name__)

EXPIRES = timedelta(days=7)
"""How long a built export can be downloaded."""
INLINE_LIMIT = 50 * 1024 * 1024
"""Exports whose files add up to more bytes than this are built by the worker; smaller ones are
built while the educator waits. ``MICROCRED_EXPORT_INLINE_BYTES`` (an extra setting) changes it."""
IDLE_SECONDS = 2.0
LEASE = timedelta(minutes=10)
"""How long a builder holds a request without a step forward before another may take it."""


def inline_limit(app: Flask) -> int:
    return int(
        app.config["MICROCRED_SETTINGS"].extra.get("MICROCRED_EXPORT_INLINE_BYTES", INLINE_LIMIT)
    )


def latest(session: Session, user_id: int) -> ExportRequest | None:
    """The person's most recent request, whatever its state."""
    return session.scalars(
        select(ExportRequest)
        .where(ExportRequest.user_id == user_id)
        .order_by(ExportRequest.id.desc())
        .limit(1)
    ).first()


def request_export(session: Session, person: export.Person) -> ExportRequest:
    """Queue a build of the person's records, unless one is queued or building already."""
    found = latest(session, person.user_id)
    if found is not None and found.state in (ExportRequest.QUEUED, ExportRequest.BUILDING):
        return found
    row = ExportRequest(registration_id=person.registration_id, user_id=person.user_id)
    session.add(row)
    session.flush()
    return row


def downloadable(row: ExportRequest | None) -> bool:
    return (
        row is not None
        and row.state == ExportRequest.READY
        and row.storage_key is not None
        and row.expires_at is not None
        and row.expires_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None)
    )


@dataclass
class Counters:
    built: int = 0
    failed: int = 0
    expired: int = 0


class Builder:
    """The worker's loop: build queued exports, expire old ones, until stopped (or idle)."""

    def __init__(self, app: Flask, name: str = "export-builder") -> None:
        self.app = app
        self.name = name
        self.thread: threading.Thread | None = None
        self.counters = Counters()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run_in_thread(self) -> threading.Thread:
        self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self.thread.start()
        return self.thread

    def run(self, *, until_idle: bool = False) -> Counters:
        while not self._stop.is_set():
            worked = self.expire() + self.build_next()
            if not worked:
                if until_idle:
                    break
                self._stop.wait(IDLE_SECONDS)
        return self.counters

    def _store(self) -> EvidenceStore:
        store: EvidenceStore = self.app.extensions["evidence_store"]
        return store

    def claim(self) -> int | None:
        """Take the oldest queued request, or one whose builder stopped holding it (another
        worker may race for it: one wins)."""
        now = utcnow()
        takeable = (ExportRequest.state == ExportRequest.QUEUED) | (
            (ExportRequest.state == ExportRequest.BUILDING) & (ExportRequest.lease_until < now)
        )
        with get_db(self.app).begin() as session:
            candidate = session.scalar(
                select(ExportRequest.id).where(takeable).order_by(ExportRequest.id).limit(1)
            )
            if candidate is None:
                return None
            taken = session.execute(
                update(ExportRequest)
                .where(ExportRequest.id == candidate, takeable)
                .values(state=ExportRequest.BUILDING, lease_until=now + LEASE, done=0)
            )
            return candidate if getattr(taken, "rowcount", 0) == 1 else None

    def build_next(self) -> int:
        request_id = self.claim()
        if request_id is None:
            return 0
        try:
            self._build(request_id)
        except Exception:
            log.exception("building export %s failed", request_id)
            with get_db(self.app).begin() as session:
                row = session.get_one(ExportRequest, request_id)
                row.state, row.finished_at, row.lease_until = ExportRequest.FAILED, utcnow(), None
            self.counters.failed += 1
            return 1
        self.counters.built += 1
        return 1

    def _progress(self, request_id: int) -> Any:
        def tell(done: int, total: int) -> None:
            with get_db(self.app).begin() as session:
                session.execute(
                    update(ExportRequest)
                    .where(ExportRequest.id == request_id)
                    .values(done=done, total=total, lease_until=utcnow() + LEASE)
                )

        return tell

    def _build(self, request_id: int) -> None:
        store = self._store()
        handle, path = tempfile.mkstemp(prefix="microcred-records-", suffix=".zip")
        os.close(handle)
        try:
            with self.app.app_context(), get_db(self.app).begin() as session:
                row = session.get_one(ExportRequest, request_id)
                people = [
                    p
                    for p in export.people_of_user(session, row.user_id)
                    if p.registration_id == row.registration_id
                ]
                export.write(
                    session,
                    store,
                    site_of(self.app),
                    people,
                    path,
                    progress=self._progress(request_id),
                )
            key = new_key()
            with open(path, "rb") as built:
                store.put(key, built)
            with get_db(self.app).begin() as session:
                row = session.get_one(ExportRequest, request_id)
                row.state, row.storage_key, row.lease_until = ExportRequest.READY, key, None
                row.size = os.path.getsize(path)
                row.finished_at = utcnow()
                row.expires_at = row.finished_at + EXPIRES
        finally:
            os.unlink(path)

    def expire(self) -> int:
        """Delete the zips of ready exports past their time; return how many."""
        with get_db(self.app).begin() as session:
            due = list(
                session.scalars(
                    select(ExportRequest).where(
                        ExportRequest.state == ExportRequest.READY,
                        ExportRequest.expires_at <= utcnow(),
                    )
                )
            )
            for row in due:
                if row.storage_key:
                    self._store().delete(row.storage_key)
                row.state, row.storage_key = ExportRequest.EXPIRED, None
        self.counters.expired += len(due)
        return len(due)


def _for(app: Flask, run: Run) -> Builder:
    return Builder(app, name=f"{run.name}-exports")


BUILDING_EXPORTS: Job[Builder] = Job(
    build=_for,
    serving="Records exports:  running in this process (builds large exports of records).",
    finished=lambda found, until_idle: (
        f"{found.name}: built {found.counters.built} exports." if until_idle else None
    ),
)
"""The worker's job of building large exports (``privacy.init_app`` adds it, last)."""

"""The score worker: sends each gradebook cell's latest desired score to its LMS.

A loop claims due ``ScoreDelivery`` rows in batches — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so that any number of ``flask worker`` processes share the rows without waiting on each other;
one ``UPDATE`` on SQLite, which writes one statement at a time — by giving them a lease, sends
them from a pool of threads (the LMS's latency is hidden by sends in flight, not by processes),
and records the outcomes in one transaction per round. A worker that dies leaves its leases to
expire; its rows are then claimed again and sent with a newer timestamp.

Per cell: one send in flight at a time (the lease), the latest version only, a timestamp later
than the cell's previous one and at least one whole second after it (Moodle compares whole
seconds and refuses the same second with 409). An outcome is recorded only by the lease holder,
and a version raised while a send was in flight stays pending, so the newer state is sent next.

Per platform (registration): no more sends in flight than its window allows (``pacing.py``),
which adapts to the LMS's rate limit. Claimed scores wait their turn in the loop, not in a
thread, and a platform with a thread's worth of them waiting is left out of the next claims, so
one throttling LMS does not hold up the others' scores. A throttled score is sent again later
however often it is throttled: it never counts as a try and is never given up.
"""

from __future__ import annotations

import logging
import queue
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Boolean, Table, bindparam, case, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from app.db import Database, utcnow
from app.grading.models import ScoreDelivery
from app.grading.pacing import SendWindow
from app.lti import ags
from app.lti.models import LineItem, LtiResourceLink, LtiUser, Registration
from app.lti.platform_services import PlatformServiceError
from app.lti.platforms import SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, Platform, plugin
from app.outbox import backoff
from app.tenancy import ALL_PLATFORMS

log = logging.getLogger(__name__)
ALL = {ALL_PLATFORMS: True}
T = cast(Table, ScoreDelivery.__table__)
RECORD_SECONDS = 0.05
"""How long finished sends may wait to be recorded together (their leases last a minute)."""


@dataclass(frozen=True)
class Settings:
    """How a worker paces itself (``config`` documents each)."""

    threads: int = 16
    batch: int = 64
    lease_seconds: float = 60.0
    retry_base_seconds: float = 5.0
    retry_cap_seconds: float = 3600.0
    max_tries: int = 12
    idle_seconds: float = 1.0


@dataclass(frozen=True)
class Job:
    """A claimed cell: what to send, where, and the lease that lets us record the outcome."""

    id: int
    registration_id: int
    platform_family: str
    line_item_id: int
    line_item_url: str | None
    user_sub: str
    body: dict[str, Any]
    version: int
    tries: int
    decision_delivered: bool
    """The LMS holds an earlier decision of the tool's for this cell."""
    token: str
    timestamp: datetime
    lease_until: datetime


@dataclass(frozen=True)
class Done:
    job: Job
    outcome: ags.SendOutcome
    finished_at: datetime


@dataclass
class Counters:
    """What a worker did (for ``flask worker`` output, tests and the benchmark)."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    no_column: int = 0
    """Cells of links that can have no gradebook column (nothing sent, nothing to retry)."""
    by_answer: dict[str, int] = field(default_factory=dict)


def next_timestamp(previous: datetime | None, now: datetime) -> datetime:
    """A timestamp after ``previous`` and in a later whole second (Moodle's comparison)."""
    if previous is None:
        return now
    floor = previous.replace(microsecond=0) + timedelta(seconds=1)
    return max(now, floor)


class Worker:
    """One worker: a claiming loop and a pool of sending threads. ``run`` until ``stop``."""

    def __init__(
        self,
        db: Database,
        client: ags.AgsClient,
        settings: Settings | None = None,
        *,
        name: str | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.settings = settings or Settings()
        self.name = name or f"worker-{secrets.token_hex(3)}"
        self.counters = Counters()
        self._stop = threading.Event()
        self._rng: random.Random = random.SystemRandom()
        self._postgres = db.engine.dialect.name == "postgresql"
        self._where = {"worker": self.name}
        self.thread: threading.Thread | None = None

    # --- the loop ----------

    def stop(self) -> None:
        """Stop claiming; ``run`` returns once the sends in flight are recorded."""
        self._stop.set()

    def run(self, *, until_idle: bool = False) -> Counters:
        """Claim, send and record until stopped (or, with ``until_idle``, until nothing is
        due and nothing is in flight)."""
        s = self.settings
        finished: queue.SimpleQueue[Done] = queue.SimpleQueue()
        in_flight = 0  # claimed and not yet finished: waiting for room, or being sent
        waiting: dict[int, deque[Job]] = {}
        windows: dict[int, SendWindow] = {}
        unrecorded: list[Done] = []
        first_at = 0.0
        with ThreadPoolExecutor(s.threads, thread_name_prefix=self.name) as pool:

            def dispatch() -> None:
                now = time.monotonic()
                for registration_id, jobs in waiting.items():
                    window = windows[registration_id]
                    while jobs and window.has_room(now):
                        window.started()
                        pool.submit(self._send_to, jobs.popleft(), finished)

            while True:
                # Sends queued behind the busy threads keep them busy while this loop waits
                # for the database.
                free = s.threads * 3 - in_flight
                claimed: list[Job] = []
                if not self._stop.is_set() and free >= max(1, s.threads // 2):
                    # A platform with a thread's worth of scores already waiting for room in
                    # its window gets no more until they go: the others' scores are claimed.
                    full = [r for r, jobs in waiting.items() if len(jobs) >= s.threads]
                    try:
                        claimed = self.claim(min(free, s.batch), full)
                    except SQLAlchemyError:
                        # The database is away (restart, failover): keep the sends in flight
                        # and try again shortly; nothing claimed, nothing lost.
                        log.exception("claiming scores failed; retrying", extra=self._where)
                        self._stop.wait(s.idle_seconds)
                    for job in claimed:
                        if job.registration_id not in windows:
                            pacing = plugin(job.platform_family).pacing
                            windows[job.registration_id] = SendWindow(pacing, s.threads)
                        waiting.setdefault(job.registration_id, deque()).append(job)
                    in_flight += len(claimed)
                in_flight -= self._give_back(waiting, everything=self._stop.is_set())
                dispatch()
                if not in_flight and not unrecorded:
                    if self._stop.is_set() or (until_idle and not claimed and not self._due()):
                        return self.counters
                    self._stop.wait(s.idle_seconds)
                    continue
                waited = 0.5
                if unrecorded:
                    waited = max(0.0, RECORD_SECONDS - (time.monotonic() - first_at))
                arrived = _collect(finished, waited if in_flight else 0.0)
                if arrived and not unrecorded:
                    first_at = time.monotonic()
                now = time.monotonic()
                for done in arrived:
                    windows[done.job.registration_id].finished(done.outcome, now)
                unrecorded += arrived
                in_flight -= len(arrived)
                dispatch()
                # One transaction records a round of outcomes: RECORD_SECONDS after the first
                # of them, or at once when the round is full or nothing else is in flight.
                if unrecorded and (
                    not in_flight
                    or len(unrecorded) >= s.batch
                    or time.monotonic() - first_at >= RECORD_SECONDS
                ):
                    try:
                        self.record(unrecorded)
                    except SQLAlchemyError:
                        # Their leases run out and the rows are sent again, with a later
                        # timestamp: a score sent twice, never one lost.
                        log.exception("recording sends failed", extra=self._where)
                    unrecorded = []

    def _give_back(self, waiting: dict[int, deque[Job]], *, everything: bool) -> int:
        """Release the leases of claimed scores still waiting for room in their platform's
        window once half their lease is gone (or all of them, when stopping), so that they are
        due again at once, for this worker or another; return how many."""
        soon = utcnow() + timedelta(seconds=self.settings.lease_seconds / 2)
        given: list[Job] = []
        for jobs in waiting.values():
            while jobs and (everything or jobs[0].lease_until < soon):
                given.append(jobs.popleft())
        if given:
            try:
                self.release(given)
            except SQLAlchemyError:
                # Their leases run out instead: later, nothing lost.
                log.exception("releasing waiting scores failed", extra=self._where)
        return len(given)

    def run_in_thread(self) -> threading.Thread:
        """Run in a daemon thread (the embedded default's worker); ``thread`` keeps it."""
        self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self.thread.start()
        return self.thread

    def _due(self) -> bool:
        now = utcnow()
        with self.db.session_factory() as session:
            return (
                session.scalar(
                    select(T.c.id)
                    .where(
                        T.c.status == ScoreDelivery.PENDING,
                        (T.c.lease_until.is_(None)) | (T.c.lease_until < now),
                    )
                    .limit(1)
                )
                is not None
            )

    # --- claiming ----------

    def claim(self, limit: int, skip: Collection[int] = ()) -> list[Job]:
        """Lease up to ``limit`` due cells to this worker and return them, oldest first (none
        of the registrations in ``skip``)."""
        now = utcnow()
        token = secrets.token_hex(16)
        lease_until = now + timedelta(seconds=self.settings.lease_seconds)
        due = (
            select(T.c.id)
            .where(
                T.c.status == ScoreDelivery.PENDING,
                T.c.available_at <= now,
                (T.c.lease_until.is_(None)) | (T.c.lease_until < now),
            )
            .order_by(T.c.available_at)
            .limit(limit)
        )
        if skip:
            due = due.where(T.c.registration_id.not_in(sorted(skip)))
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        with self.db.session_factory() as session:
            ids = session.scalars(
                update(T)
                .where(T.c.id.in_(due.scalar_subquery()))
                .values(lease_token=token, lease_until=lease_until)
                .returning(T.c.id)
            ).all()
            if not ids:
                session.commit()
                return []
            rows = session.execute(
                select(
                    T.c.id,
                    T.c.registration_id,
                    Registration.platform_family,
                    T.c.line_item_id,
                    LineItem.url,
                    LtiUser.sub,
                    T.c.body,
                    T.c.version,
                    T.c.tries,
                    T.c.decision_delivered,
                    T.c.last_timestamp,
                )
                .join(LineItem, LineItem.id == T.c.line_item_id)
                .join(LtiUser, LtiUser.id == T.c.user_id)
                .join(Registration, Registration.id == T.c.registration_id)
                .where(T.c.lease_token == token)
                .order_by(T.c.available_at)
                .execution_options(**ALL)
            ).all()
            session.commit()
        self.counters.claimed += len(rows)
        return [
            Job(
                id=r.id,
                registration_id=r.registration_id,
                platform_family=r.platform_family or "generic",
                line_item_id=r.line_item_id,
                line_item_url=r.url,
                user_sub=r.sub,
                body=dict(r.body),
                version=r.version,
                tries=r.tries,
                decision_delivered=bool(r.decision_delivered),
                token=token,
                timestamp=next_timestamp(r.last_timestamp, now),
                lease_until=lease_until,
            )
            for r in rows
        ]

    def release(self, jobs: Iterable[Job]) -> None:
        """Give claimed scores back unsent: due again at once, nothing else changed."""
        with self.db.session_factory() as session:
            session.execute(
                update(T)
                .where((T.c.id == bindparam("b_id")) & (T.c.lease_token == bindparam("b_token")))
                .values(lease_token=None, lease_until=None),
                [{"b_id": job.id, "b_token": job.token} for job in jobs],
                execution_options={"synchronize_session": False},
            )
            session.commit()

    # --- sending (pool threads) ----------

    def _send_to(self, job: Job, finished: queue.SimpleQueue[Done]) -> None:
        finished.put(self._send(job))

    def _send(self, job: Job) -> Done:
        platform = plugin(job.platform_family)
        try:
            found = _Column(job.line_item_url) if job.line_item_url else self._find_column(job)
            if found.none_possible is not None:
                outcome = ags.SendOutcome(ags.Answer.NO_COLUMN, found.status, found.none_possible)
            elif found.url is None:
                outcome = ags.SendOutcome(
                    ags.Answer.PERMANENT,
                    None,
                    "The LMS gave this link no gradebook column and does not let the tool "
                    "create one. Make the activity graded in the LMS, then retry.",
                )
            else:
                outcome = self.client.send_score(
                    job.registration_id, found.url, _score(job, platform), platform
                )
        except ags.Throttled as exc:
            outcome = ags.SendOutcome(
                ags.Answer.THROTTLED, None, exc.message, retry_after=exc.retry_after
            )
        except PlatformServiceError as exc:
            outcome = ags.SendOutcome(ags.Answer.RETRY, None, exc.message)
        except Exception:  # a bug must not kill the worker or lose the lease's row
            log.exception("score send failed unexpectedly", extra={"delivery_id": job.id})
            outcome = ags.SendOutcome(
                ags.Answer.RETRY, None, "The tool failed to send this score; it will try again."
            )
        return Done(job, outcome, utcnow())

    def _find_column(self, job: Job) -> _Column:
        """Find the link's line item through the context's container, or create it where the
        platform allows (LTI AGS 2.0 §3.2: a tool may look up the items of its resource link).

        A refusal to create one with 404 or 412 is Canvas's answer for a link that is not an
        assignment's (line_items_controller.rb): the link can have no column, which is
        recorded on it so that no score is queued for it again."""
        with self.db.session_factory() as session:
            row = session.execute(
                select(LineItem, LtiResourceLink.resource_link_id, LtiResourceLink.title)
                .join(LtiResourceLink, LtiResourceLink.id == LineItem.resource_link_id)
                .where(LineItem.id == job.line_item_id)
                .execution_options(**ALL)
            ).first()
            if row is None:
                return _Column(None)
            item, link_id, title = row
            if item.url:
                return _Column(str(item.url))
            if item.no_column is not None:
                return _Column(None, none_possible=item.no_column)
            scopes = set(item.scopes or ())
            if not item.lineitems_url or not scopes & {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY}:
                return _Column(None)
            platform = plugin(job.platform_family)
            found = self.client.line_items(
                job.registration_id,
                item.lineitems_url,
                resource_link_id=link_id,
                platform=platform,
            )
            if found:
                url = found[0].url
            elif SCOPE_LINEITEM in scopes:
                try:
                    created = self.client.create_line_item(
                        job.registration_id,
                        item.lineitems_url,
                        label=title or "Micro-credential",
                        score_maximum=float(job.body.get("scoreMaximum") or 100),
                        resource_link_id=link_id,
                        platform=platform,
                    )
                except PlatformServiceError as exc:
                    if exc.lms_status not in COLUMN_IMPOSSIBLE:
                        raise
                    item.no_column = no_column_refused(exc.lms_answer or "")
                    session.commit()
                    return _Column(None, none_possible=item.no_column, status=exc.lms_status)
                url = created.url
            else:
                return _Column(None)
            item.url = url
            session.commit()
            return _Column(url)

    # --- recording ----------

    def record(self, finished: Iterable[Done]) -> None:
        """Write the outcomes of a round of sends in one transaction (by lease holder only)."""
        delivered: list[dict[str, Any]] = []
        retry: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        no_column: list[dict[str, Any]] = []
        for d in finished:
            job, outcome = d.job, d.outcome
            self.counters.by_answer[outcome.answer] = (
                self.counters.by_answer.get(outcome.answer, 0) + 1
            )
            base = {
                "b_id": job.id,
                "b_token": job.token,
                "b_version": job.version,
                "b_timestamp": job.timestamp,
                "b_status": outcome.status,
                "b_decision": _decides(job.body),
                "b_error": outcome.reason,
                "b_now": d.finished_at,
            }
            if outcome.answer == ags.Answer.DELIVERED:
                delivered.append(base)
                self.counters.delivered += 1
                continue
            if outcome.answer == ags.Answer.NO_COLUMN:
                no_column.append(base)
                self.counters.no_column += 1
                continue
            if outcome.answer == ags.Answer.THROTTLED:
                # Not the score's fault, and not a try: the LMS will take it once the tool
                # sends fewer at once (the window has shrunk), however long that takes.
                wait_for = backoff(job.tries + 1, self.settings, outcome.retry_after, self._rng)
                available = d.finished_at + timedelta(seconds=wait_for)
                retry.append({**base, "b_available": available, "b_step": 0})
                self.counters.retried += 1
                continue
            tries = job.tries + 1
            if outcome.answer == ags.Answer.PERMANENT or tries >= self.settings.max_tries:
                if outcome.answer != ags.Answer.PERMANENT:
                    base["b_error"] = f"{outcome.reason} (gave up after {tries} tries)"
                failed.append(base)
                self.counters.failed += 1
                continue
            if outcome.answer == ags.Answer.STALE:
                # The LMS holds a later timestamp; ours is the latest decision, so send it
                # again with a newer one (LTI-CHECKLIST G, 409).
                wait_for = 1.0
            else:
                wait_for = backoff(tries, self.settings, outcome.retry_after, self._rng)
            available = d.finished_at + timedelta(seconds=wait_for)
            retry.append({**base, "b_available": available, "b_step": 1})
            self.counters.retried += 1
        mine = (T.c.id == bindparam("b_id")) & (T.c.lease_token == bindparam("b_token"))
        same = T.c.version == bindparam("b_version")
        released: dict[str, Any] = {"lease_token": None, "lease_until": None}
        sent: dict[str, Any] = {
            "last_timestamp": bindparam("b_timestamp"),
            "last_status": bindparam("b_status"),
        }
        with self.db.session_factory() as session:
            if delivered:
                session.execute(
                    update(T)
                    .where(mine)
                    .values(
                        sent_version=bindparam("b_version"),
                        status=case((same, ScoreDelivery.DELIVERED), else_=ScoreDelivery.PENDING),
                        delivered_at=bindparam("b_now"),
                        decision_delivered=or_(
                            T.c.decision_delivered, bindparam("b_decision", type_=Boolean)
                        ),
                        tries=case((same, 0), else_=T.c.tries),
                        last_error=None,
                        **sent,
                        **released,
                    ),
                    delivered,
                    execution_options={"synchronize_session": False},
                )
            if retry:
                session.execute(
                    update(T)
                    .where(mine)
                    .values(
                        tries=case((same, T.c.tries + bindparam("b_step")), else_=T.c.tries),
                        available_at=case((same, bindparam("b_available")), else_=T.c.available_at),
                        last_error=bindparam("b_error"),
                        **sent,
                        **released,
                    ),
                    retry,
                    execution_options={"synchronize_session": False},
                )
            for rows, status in (
                (failed, ScoreDelivery.FAILED),
                (no_column, ScoreDelivery.NO_COLUMN),
            ):
                if not rows:
                    continue
                session.execute(
                    update(T)
                    .where(mine)
                    .values(
                        status=case((same, status), else_=ScoreDelivery.PENDING),
                        tries=case((same, T.c.tries + 1), else_=T.c.tries),
                        last_error=bindparam("b_error"),
                        **sent,
                        **released,
                    ),
                    rows,
                    execution_options={"synchronize_session": False},
                )
            session.commit()


COLUMN_IMPOSSIBLE = frozenset({404, 412})
"""What an LMS answers a new column for a link that cannot have one (Canvas: not an
assignment's link, or an assignment that is gone)."""


def no_column_refused(said: str) -> str:
    """Why a link has no column after the LMS refused to create one (``said``: its answer)."""
    return (
        f"The LMS cannot keep grades for this activity: it refused to create a gradebook column "
        f"for its link ({said}). In Canvas only an assignment has one; a module item or a page "
        "link has none. Microcred sends no scores for it; to have them in the gradebook, add "
        "Microcred to the course as a graded activity (in Canvas, an assignment)."
    )


@dataclass(frozen=True)
class _Column:
    """Where a cell's scores go: the line item's URL, or why the link can have none."""

    url: str | None
    none_possible: str | None = None
    """Set when the link can have no column (``LineItem.no_column``)."""
    status: int | None = None
    """The LMS's answer that told so, when it was this send's."""


def _collect(finished: queue.SimpleQueue[Done], wait: float) -> list[Done]:
    """Return the outcomes that have arrived, waiting up to ``wait`` seconds for the first."""
    found: list[Done] = []
    try:
        found.append(finished.get(timeout=wait) if wait > 0 else finished.get_nowait())
        while True:
            found.append(finished.get_nowait())
    except queue.Empty:
        return found


def _score(job: Job, platform: Platform) -> ags.ScoreSend:
    body = job.body
    if job.decision_delivered and _decides(body):
        body = platform.regrade(body)
    extensions = {
        k: v
        for k, v in body.items()
        if k not in {"activityProgress", "gradingProgress", "scoreGiven", "scoreMaximum", "comment"}
    }
    return ags.ScoreSend(
        user_id=job.user_sub,
        timestamp=job.timestamp,
        activity_progress=body["activityProgress"],
        grading_progress=body["gradingProgress"],
        score_given=body.get("scoreGiven"),
        score_maximum=body.get("scoreMaximum"),
        comment=body.get("comment"),
        extensions=extensions,
    )


def _decides(body: dict[str, Any]) -> bool:
    """Whether a score body is a decision (the others report a submission awaiting review)."""
    return body.get("gradingProgress") == "FullyGraded"

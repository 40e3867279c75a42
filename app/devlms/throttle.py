"""Canvas's request throttling, imitated for Canvas-flavoured tools: one leaky bucket per
client_id over the LTI Advantage service endpoints (AGS line items, scores and results; NRPS).

Canvas (instructure/canvas-lms ``app/middleware/request_throttle.rb``,
``app/middleware/request_throttle/increment_bucket.lua``, ``doc/api/throttling.md``) keys the
bucket of an LTI Advantage request by the access token's ``client_id`` (and cluster). Each
request first adds an up-front cost (50) while it is in flight; a request that finds the bucket
at or over its high-water mark (600) after adding its own is refused with **403**, body
``403 Forbidden (Rate Limit Exceeded)``, text/plain, and no ``Retry-After``. When a request
ends, its up-front cost is taken back and its real cost (the request's CPU and database seconds)
is added; the bucket leaks ``outflow`` (10) per second and holds at most ``maximum`` (800).
Every answer carries ``X-Rate-Limit-Remaining`` (high-water mark minus the count, after the
request's own up-front cost is taken back) and, unless refused, ``X-Request-Cost``. With the
defaults, 11 requests may be in flight at once and the 12th is refused.

Two differences, both so that what the development LMS refuses depends only on how many
requests a client has in flight and on what finished ones left, and can be predicted and
tested: it charges a fixed ``request_cost`` instead of measured seconds; and it holds each
up-front cost for the request's whole life, where Canvas's count leaks it like the rest (so a
Canvas request in flight for more than five seconds no longer holds its place: here the limit is
the stricter). The buckets live in the LMS's process (Canvas keeps them in Redis): run the LMS
as one process to imitate one Canvas. Each bucket also counts what a test or the settings page
wants to see: the most requests the client had in flight at once, and how many were served and
refused.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.devlms.models import DevAccessToken, DevTool
from app.devlms.platform import PlatformError

RATE_LIMIT_EXCEEDED = "403 Forbidden (Rate Limit Exceeded)\n"
"""Canvas's body for a throttled request (``RequestThrottle#rate_limit_exceeded``)."""
RATE_LIMITED = "rate_limit_exceeded"
"""The ``PlatformError.error`` of a throttled request."""
REMAINING = "X-Rate-Limit-Remaining"
COST = "X-Request-Cost"
CLIENT_CACHE_SECONDS = 1.0
"""How long a token's client and flavour are remembered (the flavour can change)."""
CLIENT_CACHE_SIZE = 1024


@dataclass(frozen=True)
class RateLimit:
    """A bucket's settings; the defaults are Canvas's (``LeakyBucket``)."""

    hwm: float = 600.0
    """The high-water mark: a request that brings the count to it or over is refused."""
    up_front_cost: float = 50.0
    """Added while a request is in flight, taken back when it ends."""
    outflow: float = 10.0
    """What the bucket leaks per second."""
    request_cost: float = 0.01
    """What each served request leaves in the bucket (Canvas: its CPU and database seconds)."""

    @property
    def maximum(self) -> float:
        """The most the bucket holds (Canvas: 800 over a high-water mark of 600)."""
        return self.hwm * 4 / 3

    @property
    def most_in_flight(self) -> int | None:
        """How many requests an empty bucket lets be in flight at once (``None``: any)."""
        if self.up_front_cost <= 0:
            return None
        return max(0, math.ceil(self.hwm / self.up_front_cost) - 1)


CANVAS = RateLimit()


@dataclass
class _Bucket:
    count: float = 0.0
    """What finished requests left, leaking away."""
    held: float = 0.0
    """The up-front costs of the requests in flight."""
    last_touched: float | None = None
    in_flight: int = 0
    peak_in_flight: int = 0
    served: int = 0
    throttled: int = 0

    def leak(self, now: float, limit: RateLimit) -> None:
        """Leak since the last touch (``increment_bucket.lua``)."""
        if self.last_touched is not None and self.count > 0:
            self.count = max(0.0, self.count - limit.outflow * (now - self.last_touched))
        self.last_touched = now

    def add(self, amount: float, limit: RateLimit) -> None:
        self.count = min(max(self.count + amount, 0.0), limit.maximum)

    def remaining(self, limit: RateLimit) -> float:
        return limit.hwm - self.count - self.held


@dataclass(frozen=True)
class Reservation:
    """One request's place in its client's bucket, from its start to its answer."""

    client_id: str
    up_front_cost: float
    allowed: bool


@dataclass(frozen=True)
class ClientStats:
    """What a client's bucket holds and has seen."""

    in_flight: int
    peak_in_flight: int
    served: int
    throttled: int
    remaining: float


class RequestThrottle:
    """The buckets of one LMS process, by client_id; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._limits: dict[str, RateLimit] = {}

    def reserve(self, client_id: str, limit: RateLimit) -> Reservation:
        """Add a starting request's up-front cost; it is allowed unless the bucket is then at
        or over the high-water mark. Every reservation must be ``release``d."""
        with self._lock:
            bucket = self._buckets.setdefault(client_id, _Bucket())
            self._limits[client_id] = limit
            bucket.leak(self._clock(), limit)
            bucket.held += limit.up_front_cost
            bucket.in_flight += 1
            bucket.peak_in_flight = max(bucket.peak_in_flight, bucket.in_flight)
            allowed = bucket.remaining(limit) > 0
            if allowed:
                bucket.served += 1
            else:
                bucket.throttled += 1
            return Reservation(client_id, limit.up_front_cost, allowed)

    def release(
        self, reservation: Reservation, limit: RateLimit, *, refused: bool = False
    ) -> float:
        """End a request: take its up-front cost back and add its own (none when it was
        refused); return what remains."""
        with self._lock:
            bucket = self._buckets[reservation.client_id]
            bucket.leak(self._clock(), limit)
            bucket.held = max(0.0, bucket.held - reservation.up_front_cost)
            bucket.in_flight -= 1
            if reservation.allowed and not refused:
                bucket.add(limit.request_cost, limit)
            return bucket.remaining(limit)

    def stats(self, client_id: str) -> ClientStats:
        """What the client's bucket holds now (an untouched one: empty)."""
        with self._lock:
            bucket = self._buckets.get(client_id, _Bucket())
            limit = self._limits.get(client_id, CANVAS)
            bucket.leak(self._clock(), limit)
            return ClientStats(
                in_flight=bucket.in_flight,
                peak_in_flight=bucket.peak_in_flight,
                served=bucket.served,
                throttled=bucket.throttled,
                remaining=bucket.remaining(limit),
            )

    def clients(self) -> list[str]:
        """The client_ids that have a bucket, in the order they first called."""
        with self._lock:
            return list(self._buckets)


def rate_limit_exceeded(*, remaining: str | None = None) -> PlatformError:
    """Canvas's refusal of a throttled request: 403, text/plain, no ``Retry-After``.

    ``remaining`` is sent as ``X-Rate-Limit-Remaining`` as it is; left out, the bucket's value
    is added when the request ends."""
    return PlatformError(
        403,
        RATE_LIMITED,
        "Rate Limit Exceeded",
        headers={} if remaining is None else {REMAINING: remaining},
        text=RATE_LIMIT_EXCEEDED,
    )


# --- whose request is it ----------


@dataclass(frozen=True)
class Client:
    """The tool behind a bearer token, as far as throttling cares."""

    client_id: str
    flavour: str


_NOBODY = Client("", "")


class ClientLookup:
    """Find the tool behind a bearer token, remembering each token's answer briefly (a
    flavour can change) so that a busy client costs the LMS no query per request."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, Client]] = {}

    def of_bearer(self, authorization: str | None) -> Client | None:
        """Return the client of an unexpired token (``None`` for no or an unknown token)."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        digest = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()
        now = self._clock()
        with self._lock:
            seen = self._seen.get(digest)
        if seen is None or seen[0] <= now:
            # Its own short connection: the request may then wait (injected latency)
            # holding no database connection.
            with Session(self._engine) as session:
                row = session.execute(
                    select(DevTool.client_id, DevTool.flavour)
                    .join(DevAccessToken, DevAccessToken.tool_id == DevTool.id)
                    .where(
                        DevAccessToken.token_hash == digest,
                        DevAccessToken.expires_at > utcnow(),
                    )
                ).first()
            found = _NOBODY if row is None else Client(row.client_id, row.flavour)
            with self._lock:
                if len(self._seen) >= CLIENT_CACHE_SIZE:
                    self._seen = {k: v for k, v in self._seen.items() if v[0] > now}
                self._seen[digest] = (now + CLIENT_CACHE_SECONDS, found)
            seen = (0.0, found)
        return seen[1] if seen[1].client_id else None

    def of_tool(self, client_id: str) -> Client | None:
        """Return the client registered as ``client_id`` (no cache: used on refusals only)."""
        with Session(self._engine) as session:
            flavour = session.scalar(select(DevTool.flavour).where(DevTool.client_id == client_id))
        return None if flavour is None else Client(client_id, flavour)

    def forget(self) -> None:
        """Forget every answer (a tool's flavour changed in this process)."""
        with self._lock:
            self._seen.clear()

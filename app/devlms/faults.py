"""Faults the development LMS injects into its service endpoints, so that a tool's retries,
token renewal and error reporting meet what a real LMS does under load (LTI-CHECKLIST G: "401 →
new token, retry; 429 / 5xx / timeouts → retry with backoff and jitter (honour
``Retry-After``)").

One ``DevFaults`` row holds the settings, changed on Site administration → Service faults or by
``set_faults`` (tests, ``bench/``). Every AGS, NRPS and token request first waits
``latency_ms``, then fails with the given probabilities, before it reads or changes anything:
a refused score leaves no grade and no ``DevScoreLog`` row, so a test counts exactly what
arrived. The rates are shares of requests that do not overlap (one draw decides), so their sum
is the share of requests that fail; the token endpoint never answers the 401 (a tool whose
token request is refused as ``invalid_token`` has nothing to renew). A throttled request is
answered as the tool's LMS would: 429 with ``Retry-After`` (Moodle-flavoured tools), Canvas's
403 "Rate Limit Exceeded" with ``X-Rate-Limit-Remaining: 0.0`` and no ``Retry-After``
(Canvas-flavoured ones).

The same row holds the rate limit Canvas-flavoured tools always meet (``throttle.py``; Canvas's
own limits unless changed): not a fault, so turning the faults off keeps it.

The row is read through a small per-process cache (``CACHE_SECONDS``), so an LMS under gunicorn
with several processes sees a change within a second without one more query per request.
"""

from __future__ import annotations

import random
import time
import weakref
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.devlms.models import DevFaults
from app.devlms.platform import PlatformError
from app.devlms.throttle import CANVAS, RateLimit, rate_limit_exceeded

CACHE_SECONDS = 1.0
MAX_LATENCY_MS = 60_000
MAX_RETRY_AFTER_SECONDS = 3600
MAX_RATE_LIMIT = 1_000_000
SERVER_ERROR_STATUSES = (500, 502, 503)
INJECTED = "(Injected by the development LMS: Site administration → Service faults.)"
RATES = ("unauthorized_rate", "throttle_rate", "server_error_rate")
LABELS = {
    "latency_ms": "Added latency (milliseconds)",
    "unauthorized_rate": "401 invalid_token",
    "throttle_rate": "429 Too Many Requests",
    "retry_after_seconds": "Retry-After (seconds)",
    "server_error_rate": "500, 502 or 503",
    "canvas_hwm": "High-water mark",
    "canvas_up_front_cost": "Up-front cost of a request in flight",
    "canvas_outflow": "Outflow per second",
    "canvas_request_cost": "Cost each request leaves",
}
"""Each setting's name on the settings page (its refusals name it so)."""
RATE_LIMIT_SETTINGS = {
    "canvas_hwm": "hwm",
    "canvas_up_front_cost": "up_front_cost",
    "canvas_outflow": "outflow",
    "canvas_request_cost": "request_cost",
}
"""The Canvas rate limit's settings, by their ``RateLimit`` names."""


@dataclass(frozen=True)
class Faults:
    """The faults in force (all off by default)."""

    latency_ms: int = 0
    unauthorized_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after_seconds: int = 1
    server_error_rate: float = 0.0
    canvas_hwm: float = CANVAS.hwm
    canvas_up_front_cost: float = CANVAS.up_front_cost
    canvas_outflow: float = CANVAS.outflow
    canvas_request_cost: float = CANVAS.request_cost

    @property
    def canvas_rate_limit(self) -> RateLimit:
        """The bucket every Canvas-flavoured tool's service requests go through."""
        return RateLimit(
            **{field: getattr(self, name) for name, field in RATE_LIMIT_SETTINGS.items()}
        )

    @property
    def failing(self) -> bool:
        """Whether some requests are answered with an error."""
        return any(getattr(self, name) > 0 for name in RATES)

    @property
    def on(self) -> bool:
        """Whether any fault is injected (latency or errors)."""
        return self.latency_ms > 0 or self.failing

    def describe(self) -> list[str]:
        """Say, in a few words each, what every service request meets now."""
        said = []
        if self.latency_ms:
            said.append(f"{self.latency_ms} ms added to every service request")
        for rate, what in (
            (self.unauthorized_rate, "401 invalid_token (the token endpoint excepted)"),
            (
                self.throttle_rate,
                f"429 with Retry-After: {self.retry_after_seconds} (Canvas-flavoured tools: "
                "403 Rate Limit Exceeded)",
            ),
            (self.server_error_rate, "500, 502 or 503"),
        ):
            if rate:
                said.append(f"{percent(rate)} of requests answered {what}")
        return said

    def describe_rate_limit(self) -> str:
        """Say what the Canvas rate limit lets a Canvas-flavoured tool do."""
        limit = self.canvas_rate_limit
        most = limit.most_in_flight
        at_once = (
            "any number of requests in flight"
            if most is None
            else f"{most} request{'' if most == 1 else 's'} in flight at once, the next refused"
        )
        return (
            f"Per client: {at_once} (high-water mark {limit.hwm:g}, {limit.up_front_cost:g} "
            f"up front per request), less as the {limit.request_cost:g} each request leaves "
            f"builds up faster than the {limit.outflow:g} per second that leaks away."
        )


OFF = Faults()


def percent(rate: float) -> str:
    return f"{rate * 100:.4g} %"


class InvalidFaults(ValueError):
    """Settings refused; ``errors`` maps each field to what to fix, ``values`` is what was
    given (strings as typed, for the form to show again)."""

    def __init__(self, errors: dict[str, str], values: Mapping[str, Any]) -> None:
        super().__init__("; ".join(f"{LABELS[k]}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.values = dict(values)


def _whole(name: str, value: Any, maximum: int, unit: str, errors: dict[str, str]) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors[name] = f"Enter a whole number of {unit} from 0 to {maximum}, e.g. 50."
        return 0
    if (
        isinstance(value, bool)
        or not 0 <= number <= maximum  # also refuses nan
        or number != int(number)
    ):
        errors[name] = f"Enter a whole number of {unit} from 0 to {maximum}; {value} is not."
        return 0
    return int(number)


def _amount(name: str, value: Any, errors: dict[str, str], *, above_zero: bool = False) -> float:
    lowest = "above 0, up" if above_zero else "from 0"
    try:
        amount = float(value)
    except (TypeError, ValueError):
        errors[name] = (
            f"Enter a number {lowest} to {MAX_RATE_LIMIT}, e.g. {value_hint(name)} (Canvas's)."
        )
        return 0.0
    if (
        isinstance(value, bool)
        or not 0 <= amount <= MAX_RATE_LIMIT  # also refuses nan
        or (above_zero and amount == 0)
    ):
        errors[name] = f"Enter a number {lowest} to {MAX_RATE_LIMIT}; {value} is not."
        return 0.0
    return amount


def value_hint(name: str) -> str:
    """Canvas's own value of a rate limit setting, as an example."""
    return f"{getattr(CANVAS, RATE_LIMIT_SETTINGS[name]):g}"


def _rate(name: str, value: Any, errors: dict[str, str]) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        errors[name] = "Enter a share of requests from 0 to 1, e.g. 0.1 for 10 %."
        return 0.0
    if isinstance(value, bool) or not 0 <= rate <= 1:
        hint = f" (did you mean {rate / 100:g}?)" if 1 < rate <= 100 else ""
        errors[name] = (
            f"A rate is a share of requests from 0 to 1 (0.1 means 10 %); {value} is not{hint}."
        )
        return 0.0
    return rate


def check(values: Mapping[str, Any]) -> Faults:
    """Return the faults ``values`` ask for (numbers or form strings, missing ones off, a
    missing rate limit setting Canvas's), or raise ``InvalidFaults`` saying what to fix."""
    unknown = set(values) - set(LABELS)
    if unknown:
        raise TypeError(f"Unknown fault settings: {', '.join(sorted(unknown))}.")
    given = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    given = {k: v for k, v in given.items() if v not in (None, "")}
    errors: dict[str, str] = {}
    faults = Faults(
        latency_ms=_whole("latency_ms", given.get("latency_ms", 0), MAX_LATENCY_MS, "ms", errors),
        unauthorized_rate=_rate("unauthorized_rate", given.get("unauthorized_rate", 0), errors),
        throttle_rate=_rate("throttle_rate", given.get("throttle_rate", 0), errors),
        retry_after_seconds=_whole(
            "retry_after_seconds",
            given.get("retry_after_seconds", 1),
            MAX_RETRY_AFTER_SECONDS,
            "seconds",
            errors,
        ),
        server_error_rate=_rate("server_error_rate", given.get("server_error_rate", 0), errors),
        **{
            name: _amount(
                name,
                given.get(name, getattr(CANVAS, field)),
                errors,
                above_zero=name == "canvas_hwm",
            )
            for name, field in RATE_LIMIT_SETTINGS.items()
        },
    )
    total = sum(getattr(faults, name) for name in RATES)
    if not errors and total > 1 + 1e-9:
        errors["server_error_rate"] = (
            f"The three rates add up to {total:g}, but at most every request (1) can fail: "
            "lower one of them."
        )
    if errors:
        raise InvalidFaults(errors, values)
    return faults


# --- reading and writing the row ----------

_cache: weakref.WeakKeyDictionary[Engine, tuple[float, Faults]] = weakref.WeakKeyDictionary()


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def stored_faults(session: Session) -> Faults:
    """Return the faults as stored now (no cache: the settings page shows these)."""
    row = session.scalars(select(DevFaults).order_by(DevFaults.id).limit(1)).first()
    if row is None:
        return OFF
    return Faults(
        latency_ms=row.latency_ms,
        unauthorized_rate=row.unauthorized_rate,
        throttle_rate=row.throttle_rate,
        retry_after_seconds=row.retry_after_seconds,
        server_error_rate=row.server_error_rate,
        canvas_hwm=row.canvas_hwm,
        canvas_up_front_cost=row.canvas_up_front_cost,
        canvas_outflow=row.canvas_outflow,
        canvas_request_cost=row.canvas_request_cost,
    )


def current_faults(session: Session) -> Faults:
    """Return the faults in force, as read at most ``CACHE_SECONDS`` ago in this process.

    A read goes through its own short connection, not ``session``'s transaction: a request that
    is then made to wait holds no database connection while it sleeps."""
    engine = _engine(session)
    cached = _cache.get(engine)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    with Session(engine) as own:
        faults = stored_faults(own)
    _cache[engine] = (now + CACHE_SECONDS, faults)
    return faults


def set_faults(session: Session, **values: Any) -> Faults:
    """Store new faults and commit (settings left out are off; ``retry_after_seconds`` 1, the
    Canvas rate limit Canvas's); raise ``InvalidFaults`` when a value is out of range. This
    process sees them at once, other processes within ``CACHE_SECONDS``."""
    faults = check(values)
    row = session.scalars(select(DevFaults).order_by(DevFaults.id).limit(1)).first()
    if row is None:
        row = DevFaults()
        session.add(row)
    for name, value in asdict(faults).items():
        setattr(row, name, value)
    session.commit()
    _cache[_engine(session)] = (time.monotonic() + CACHE_SECONDS, faults)
    return faults


def turn_off(session: Session) -> Faults:
    """Turn every fault off (the Retry-After setting is kept for next time, and the Canvas rate
    limit: Canvas's own, not a fault)."""
    stored = stored_faults(session)
    kept = {name: getattr(stored, name) for name in ("retry_after_seconds", *RATE_LIMIT_SETTINGS)}
    return set_faults(session, **asdict(replace(OFF, **kept)))


# --- injecting ----------

_random = random.SystemRandom()


def apply(
    faults: Faults,
    *,
    token_endpoint: bool = False,
    canvas: bool = False,
    rng: random.Random = _random,
) -> None:
    """Wait the added latency, then raise the ``PlatformError`` one draw picks, if any
    (``canvas``: a throttled request is refused as Canvas refuses it)."""
    if faults.latency_ms > 0:
        time.sleep(faults.latency_ms / 1000)
    if not faults.failing:
        return
    draw, bound = rng.random(), 0.0
    if not token_endpoint:
        bound += faults.unauthorized_rate
        if draw < bound:
            raise PlatformError(
                401, "invalid_token", f"The access token is unknown or has expired. {INJECTED}"
            )
    bound += faults.throttle_rate
    if draw < bound:
        if canvas:
            # Canvas never answers 429; an exhausted bucket refuses with 403, no Retry-After.
            raise rate_limit_exceeded(remaining="0.0")
        raise PlatformError(
            429,
            "too_many_requests",
            f"Too many requests: try again in {faults.retry_after_seconds} s. {INJECTED}",
            headers={"Retry-After": str(faults.retry_after_seconds)},
        )
    bound += faults.server_error_rate
    if draw < bound:
        status = rng.choice(SERVER_ERROR_STATUSES)
        raise PlatformError(
            status, "server_error", f"The LMS failed to answer (HTTP {status}). {INJECTED}"
        )

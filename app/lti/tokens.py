"""Access tokens for a platform's services, cached and shared by every worker and process.

A service call (AGS, NRPS) needs an OAuth 2 access token from the platform's token endpoint,
obtained with a client assertion the tool signs (LTI Security Framework 4.1,
https://www.imsglobal.org/spec/security/v1p0/#using-json-web-tokens-with-oauth-2-0-client-credentials-grant).
A token lasts ``expires_in`` seconds (an hour on Moodle and Canvas), so one request per platform
and scope set per lifetime is enough (LTI-CHECKLIST G): asking for one per score would double the
calls to the LMS and, with thousands of scores, look like an attack to its rate limiter.

Tokens live in the shared ``StateStore`` (the database in the embedded default, Redis in the
scaled shape), encrypted with the app's Fernet key, until ``expires_in`` minus a margin; each
process also keeps its own copy so a score does not cost a store round trip. When no usable
token exists, one caller in all processes asks for one (a lock taken with ``store.add``) and the
others wait for it; a lock holder that dies only delays the others until the lock expires.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.fernet import Fernet, InvalidToken
from pylti1p3.exception import LtiServiceException
from pylti1p3.registration import Registration as PyltiRegistration
from pylti1p3.service_connector import ServiceConnector

from app.db import Database
from app.lti.models import Registration
from app.lti.platform_services import (
    PlatformServiceError,
    Throttled,
    _refused,
    _TimeoutSession,
)
from app.lti.state import StateStore
from app.lti.tool_config import DatabaseToolConf

log = logging.getLogger(__name__)

DEFAULT_MARGIN_SECONDS = 60
DEFAULT_EXPIRES_IN = 300
"""Assumed lifetime when the token endpoint gives no ``expires_in`` (it is only RECOMMENDED in
RFC 6749 §5.1): short enough that a token the platform expires sooner is not used for long."""
POLL_SECONDS = 0.05
"""How often a caller waiting for another process's token request looks at the store."""


class RegistrationUnavailable(PlatformServiceError):
    """The registration is gone or deactivated: no token can be had until an admin acts."""

    code = "registration_unavailable"
    title = "The LMS's registration is not available"


def usable_seconds(expires_in: float, margin: float) -> float:
    """Return how long a token that lives ``expires_in`` seconds may be used.

    The margin keeps a token from expiring between the moment it is read and the moment the
    LMS checks it; a token too short-lived for the margin is used for half its life instead."""
    if expires_in < 2 * margin:
        return expires_in / 2
    return expires_in - margin


def store_key(registration_id: int, scopes: Sequence[str]) -> str:
    """Return the store key of the token for (registration, scopes), whatever their order.

    Its request lock is ``{key}:lock``; a failed request's note to its waiters ``{key}:failed``."""
    digest = hashlib.sha256(" ".join(sorted(set(scopes))).encode()).hexdigest()[:32]
    return f"access-token:{registration_id}:{digest}"


@dataclass(frozen=True)
class _Token:
    value: str
    refresh_at: float
    """Wall-clock time (epoch seconds) after which the token is no longer handed out."""


class _Connector(ServiceConnector):
    """pylti1p3's connector that signs the client assertion and asks for a token, keeping the
    ``expires_in`` it reports (pylti1p3 hands it only to its cache hook)."""

    expires_in: float | None = None

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        try:
            self.expires_in = float(expires_in)
        except (TypeError, ValueError):
            self.expires_in = None


class TokenCache:
    """Hand out access tokens per (registration, scopes), asking the platform only when needed.

    Thread-safe; one instance per process (``runtime().tokens()``), sharing tokens with the
    other processes through ``store``.
    """

    def __init__(
        self,
        db: Database,
        cipher: Fernet,
        store: StateStore,
        http: requests.Session,
        timeout: float,
        margin_seconds: float = DEFAULT_MARGIN_SECONDS,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._store = store
        self._http = _TimeoutSession(http, timeout)
        self._margin = margin_seconds
        self._clock = clock
        # A token request is one POST (connect and read each bounded by ``timeout``) plus
        # signing; the lock outlives it, so that only a dead holder lets it expire.
        self._lock_ttl = math.ceil(2 * timeout) + 5
        self._mutex = threading.Lock()
        self._local: dict[str, _Token] = {}
        self._flights: dict[str, Future[str]] = {}
        self.requests_made = 0
        """Token requests this instance sent to platforms (for tests and the benchmark)."""

    # --- public ----------

    def token(self, registration_id: int, scopes: Sequence[str]) -> str:
        """Return a usable access token for ``scopes`` on the registration's platform.

        Raise ``PlatformServiceError`` when the platform refuses or cannot be reached."""
        key = store_key(registration_id, scopes)
        with self._mutex:
            cached = self._fresh(self._local.get(key))
            if cached is not None:
                return cached.value
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = Future()
        if not leader:
            # Another thread of this process is already getting it: share its answer,
            # success or failure, rather than queue up requests behind it.
            return flight.result()
        try:
            found = self._shared(key, registration_id, scopes)
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        else:
            flight.set_result(found.value)
            return found.value
        finally:
            with self._mutex:
                del self._flights[key]

    def invalidate(self, registration_id: int, scopes: Sequence[str], token: str) -> None:
        """Forget ``token`` (the platform refused it) if it is still the cached one.

        Many callers refused with the same token forget it once; a newer token that one of them
        already obtained is kept."""
        key = store_key(registration_id, scopes)
        with self._mutex:
            local = self._local.get(key)
            if local is not None and local.value == token:
                del self._local[key]
        stored = self._store.get(key)
        if stored is None or self._decrypt(stored) != token:
            return
        taken = self._store.take(key)
        if isinstance(taken, dict) and self._decrypt(taken) != token:
            # Another process stored a new token between our read and our take: put it back.
            remaining = int(float(taken.get("refresh_at", 0)) - self._clock())
            if remaining > 0:
                self._store.put(key, taken, remaining)
        log.info(
            "access token dropped after the platform refused it",
            extra={"registration_id": registration_id, "scopes": sorted(set(scopes))},
        )

    # --- the shared store ----------

    def _fresh(self, token: _Token | None) -> _Token | None:
        return token if token is not None and token.refresh_at > self._clock() else None

    def _remember(self, key: str, token: _Token) -> _Token:
        with self._mutex:
            self._local[key] = token
        return token

    def _decrypt(self, stored: Any) -> str | None:
        try:
            return self._cipher.decrypt(str(stored["token"]).encode()).decode()
        except (InvalidToken, KeyError, TypeError):
            return None

    def _from_store(self, key: str) -> _Token | None:
        stored = self._store.get(key)
        if not isinstance(stored, dict):
            return None
        value = self._decrypt(stored)
        if value is None:
            return None
        return self._fresh(_Token(value, float(stored.get("refresh_at", 0))))

    def _shared(self, key: str, registration_id: int, scopes: Sequence[str]) -> _Token:
        """Return the store's token, or get one: as the only requester across processes, or by
        waiting for the one that is."""
        found = self._from_store(key)
        if found is not None:
            return self._remember(key, found)
        lock_key, failure_key = f"{key}:lock", f"{key}:failed"
        deadline = time.monotonic() + self._lock_ttl + 5
        while True:
            flight_id = uuid.uuid4().hex
            if self._store.add(lock_key, flight_id, self._lock_ttl):
                return self._remember(
                    key, self._request_as_leader(key, registration_id, scopes, flight_id)
                )
            holder = self._store.get(lock_key)
            while holder is not None:
                if time.monotonic() > deadline:
                    raise PlatformServiceError(
                        "The tool waited too long for another worker's access token request.",
                        hint="Check that the LMS's token endpoint answers.",
                    )
                time.sleep(POLL_SECONDS)
                # The lock first: what the holder wrote before releasing it is then visible.
                current = self._store.get(lock_key)
                found = self._from_store(key)
                if found is not None:
                    return self._remember(key, found)
                failure = self._store.get(failure_key)
                if isinstance(failure, dict) and failure.get("flight") == holder:
                    raise _shared_failure(failure)
                if current != holder:
                    break  # released or expired without a token: try to take the lock

    def _request_as_leader(
        self, key: str, registration_id: int, scopes: Sequence[str], flight_id: str
    ) -> _Token:
        lock_key = f"{key}:lock"
        try:
            # Another process may have stored one between our look and our lock.
            found = self._from_store(key)
            if found is not None:
                return found
            try:
                value, expires_in = self._request(registration_id, scopes)
            except PlatformServiceError as exc:
                # Those who waited for this request share its failure instead of each
                # sending their own to a platform that just refused.
                note: dict[str, Any] = {
                    "flight": flight_id,
                    "message": exc.message,
                    "hint": exc.hint,
                }
                if isinstance(exc, Throttled):
                    note["throttled"] = True
                    note["retry_after"] = exc.retry_after
                self._store.put(f"{key}:failed", note, self._lock_ttl)
                raise
            usable = usable_seconds(expires_in, self._margin)
            token = _Token(value, self._clock() + usable)
            if usable >= 1:
                self._store.put(
                    key,
                    {
                        "token": self._cipher.encrypt(value.encode()).decode(),
                        "refresh_at": token.refresh_at,
                    },
                    int(usable),
                )
            return token
        finally:
            # Not a compare-and-delete: if our lock expired and another took it, releasing
            # theirs only lets a third caller look at the store, where our token now is.
            self._store.take(lock_key)

    def _request(self, registration_id: int, scopes: Sequence[str]) -> tuple[str, float]:
        """Ask the platform's token endpoint; return the token and its ``expires_in``."""
        with self._mutex:
            self.requests_made += 1
        # A short session of its own: this may run in any thread, outside a request.
        with self._db.session_factory() as session:
            registration = session.get(Registration, registration_id)
            if registration is None or not registration.is_active:
                raise RegistrationUnavailable(
                    f"The LMS registration {registration_id} is missing or deactivated.",
                    hint="An administrator can reactivate or re-register the platform.",
                )
            pylti_registration: PyltiRegistration = DatabaseToolConf(
                session, self._cipher
            ).to_pylti_registration(registration)
            connector = _Connector(pylti_registration, self._http)
            try:
                value = connector.get_access_token(list(scopes))
            except (LtiServiceException, requests.RequestException) as exc:
                raise _refused(registration, exc) from exc
            except (KeyError, TypeError) as exc:  # a JSON answer without access_token
                raise PlatformServiceError(
                    f"{registration.name} answered the tool's access token request without "
                    "an access token.",
                    hint="Check the platform's token URL in its registration.",
                ) from exc
        expires_in = connector.expires_in or DEFAULT_EXPIRES_IN
        log.info(
            "access token obtained",
            extra={
                "registration_id": registration_id,
                "scopes": sorted(set(scopes)),
                "expires_in": expires_in,
            },
        )
        return str(value), expires_in


def _shared_failure(note: dict[str, Any]) -> PlatformServiceError:
    """The failure of another process's token request, as that process met it."""
    message, hint = str(note.get("message")), note.get("hint")
    if note.get("throttled"):
        retry_after = note.get("retry_after")
        return Throttled(
            message,
            hint=str(hint or ""),
            retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
        )
    return PlatformServiceError(message, hint=hint)

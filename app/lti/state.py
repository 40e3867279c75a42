"""Short-lived state behind one interface: OIDC state, launches, sessions, cached keys.

TTL-bound values with an atomic ``take`` (get and delete: of two concurrent callers exactly one
receives the value) and ``add`` (set only if absent), shared by every instance, so that any
instance can finish a launch another started and a value used once is gone for all of them.

Two stores, by what losing a value costs (``LtiRuntime.store`` and ``.durable_store``):

- **The state store** (``MICROCRED_STATE_STORE``: the database in the embedded default, Redis in
  the scaled shape) holds what may be lost: a login in flight (its OIDC state, ten minutes), a
  launch waiting for its browser's proof (two minutes), platforms' key sets and access tokens
  (fetched again), sign-in throttles. A Redis restart without persistence makes a launch in
  flight fail once, with a message that says to open the activity again.
- **The durable store** is always the database (``lti_state``): sessions — what a finished
  launch's pages read, an operator's console session — which a Redis restart must not end.
  They are not carried by the session token instead: tokens travel in URLs (``?lt=``), where
  names, e-mail addresses and roles would reach access logs and ``Referer`` headers, and a
  launch's claims would make every link kilobytes long. A page reads its launch by primary key,
  in a database every page uses anyway.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select

from app.db import Database, dialect_insert, table_of, utcnow
from app.lti.models import LtiState

PURGE_ONE_IN = 50


class StateStore(Protocol):
    """What every backend offers. Keys are strings; values are JSON-serialisable."""

    def put(self, key: str, value: Any, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds (to the millisecond), replacing any earlier
        value."""

    def get(self, key: str) -> Any | None:
        """Return the live value, or ``None``."""

    def take(self, key: str) -> Any | None:
        """Remove and return the live value; ``None`` if absent, expired or already taken."""

    def add(self, key: str, value: Any, ttl: float) -> bool:
        """Store ``value`` only if no live value exists; tell whether it was stored."""

    def purge_expired(self) -> int:
        """Delete expired values (a no-op where the backend expires them itself)."""

    def ping(self) -> None:
        """Return when the backend answers; raise when it cannot be reached (readiness)."""


class DatabaseStateStore:
    """``lti_state`` rows with an expiry. Every operation is one statement in autocommit mode
    (no BEGIN/COMMIT round trips): ``put`` and ``add`` are upserts, ``take`` is one
    ``DELETE … RETURNING``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._insert = dialect_insert(db.engine.dialect.name)
        self._table = table_of(LtiState)

    def put(self, key: str, value: Any, ttl: float) -> None:
        # About one write in PURGE_ONE_IN also clears expired rows, so the table stays small
        # without a separate cleaning job.
        if secrets.randbelow(PURGE_ONE_IN) == 0:
            self.purge_expired()
        expires_at = utcnow() + timedelta(seconds=ttl)
        statement = self._insert(self._table).values(key=key, value=value, expires_at=expires_at)
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": statement.excluded.value, "expires_at": statement.excluded.expires_at},
        )
        with self._engine.connect() as connection:
            connection.execute(statement)

    def get(self, key: str) -> Any | None:
        with self._engine.connect() as connection:
            return connection.scalar(
                select(LtiState.value).where(LtiState.key == key, LtiState.expires_at > utcnow())
            )

    def take(self, key: str) -> Any | None:
        with self._engine.connect() as connection:
            return connection.scalar(
                delete(LtiState)
                .where(LtiState.key == key, LtiState.expires_at > utcnow())
                .returning(LtiState.value)
            )

    def add(self, key: str, value: Any, ttl: float) -> bool:
        # Insert, or overwrite a row whose time is up; a live row makes the statement return
        # nothing, and that is the answer "already there".
        now = utcnow()
        statement = self._insert(self._table).values(
            key=key, value=value, expires_at=now + timedelta(seconds=ttl)
        )
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": statement.excluded.value, "expires_at": statement.excluded.expires_at},
            where=self._table.c.expires_at <= now,
        ).returning(self._table.c.key)
        with self._engine.connect() as connection:
            return connection.scalar(statement) is not None

    def purge_expired(self) -> int:
        with self._engine.connect() as connection:
            result = connection.execute(delete(LtiState).where(LtiState.expires_at <= utcnow()))
            return int(getattr(result, "rowcount", 0) or 0)

    def ping(self) -> None:
        self._db.ping()


def _milliseconds(ttl: float) -> int:
    """Redis's expiry in whole milliseconds, at least one (it refuses zero)."""
    return max(1, round(ttl * 1000))


class RedisStateStore:
    """Redis keys with native expiry; ``take`` is ``GETDEL``, ``add`` is ``SET NX``."""

    PREFIX = "microcred:lti:"

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def _key(self, key: str) -> str:
        return self.PREFIX + key

    def put(self, key: str, value: Any, ttl: float) -> None:
        self._redis.set(self._key(key), json.dumps(value), px=_milliseconds(ttl))

    def get(self, key: str) -> Any | None:
        raw = self._redis.get(self._key(key))
        return None if raw is None else json.loads(raw)

    def take(self, key: str) -> Any | None:
        raw = self._redis.getdel(self._key(key))
        return None if raw is None else json.loads(raw)

    def add(self, key: str, value: Any, ttl: float) -> bool:
        return bool(
            self._redis.set(self._key(key), json.dumps(value), px=_milliseconds(ttl), nx=True)
        )

    def purge_expired(self) -> int:
        return 0

    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        self._redis.close()

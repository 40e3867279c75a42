"""pylti1p3's launch-data storage, kept in the database.

pylti1p3 stores the nonce it issued at login, launch data and cached platform keys through a
``LaunchDataStorage``. The default keeps them in the Flask session cookie, which an LMS iframe
may not send back; here they live in ``lti_state`` rows with an expiry, so any app instance can
finish a launch that another started.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from pylti1p3.launch_data_storage.base import LaunchDataStorage
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.db import Database, utcnow
from app.lti.models import LtiState

DEFAULT_TTL_SECONDS = 3600
# About one write in this many also deletes expired rows, so the table cannot grow unbounded
# without a separate cleaning job.
PURGE_ONE_IN = 50


class DatabaseLaunchDataStorage(LaunchDataStorage[Any]):
    """Keep pylti1p3's values in ``lti_state``, each with its own expiry."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db

    def get_session_cookie_name(self) -> str | None:
        # Keys are random (state, nonce, launch id); no per-browser cookie is needed to scope
        # them, and requiring one would break launches where the iframe drops cookies.
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        key = self._prepare_key(key)
        with self._db.session_factory() as session:
            row = session.get(LtiState, key)
            if row is None or row.expires_at <= utcnow():
                return None
            return row.value

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        key = self._prepare_key(key)
        expires_at = utcnow() + timedelta(seconds=exp or DEFAULT_TTL_SECONDS)
        for attempt in range(2):
            try:
                with self._db.begin() as session:
                    row = session.get(LtiState, key)
                    if row is None:
                        session.add(LtiState(key=key, value=value, expires_at=expires_at))
                    else:
                        row.value = value
                        row.expires_at = expires_at
                    if secrets.randbelow(PURGE_ONE_IN) == 0:
                        session.execute(delete(LtiState).where(LtiState.expires_at < utcnow()))
                return
            except IntegrityError:
                # Another request inserted the same key between our read and insert.
                if attempt:
                    raise

    def check_value(self, key: str) -> bool:
        key = self._prepare_key(key)
        with self._db.session_factory() as session:
            found = session.scalar(
                select(LtiState.key).where(LtiState.key == key, LtiState.expires_at > utcnow())
            )
            return found is not None

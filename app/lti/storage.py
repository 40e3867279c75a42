"""pylti1p3's launch-data storage, on top of the tool's ``StateStore``.

pylti1p3 keeps the nonce it issued at login, launch data and cached platform keys through a
``LaunchDataStorage``. Its default is the Flask session cookie, which an LMS iframe may not send
back; here the values live in the shared state store (database or Redis), so any app instance
can finish a launch that another started. Microcred hands it little: the nonce lives in the
login record (``StateBoundSessionService``), a launch's data is kept by ``session.keep`` (only
what its pages read) and platform keys by ``PlatformKeys``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from pylti1p3.contrib.flask import FlaskSessionService
from pylti1p3.launch_data_storage.base import LaunchDataStorage

from app.lti.state import StateStore

DEFAULT_TTL_SECONDS = 3600


class StateStoreLaunchDataStorage(LaunchDataStorage[Any]):
    """pylti1p3's storage interface over a ``StateStore``."""

    def __init__(self, store: StateStore) -> None:
        super().__init__()
        self.store = store

    def get_session_cookie_name(self) -> str | None:
        # Keys are random (state, nonce, launch id); no per-browser cookie is needed to scope
        # them, and requiring one would break launches where the iframe drops cookies.
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        return self.store.get(self._prepare_key(key))

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        self.store.put(self._prepare_key(key), value, exp or DEFAULT_TTL_SECONDS)

    def check_value(self, key: str) -> bool:
        return self.store.get(self._prepare_key(key)) is not None


class StateBoundSessionService(FlaskSessionService):
    """pylti1p3's session service with the nonce kept in Microcred's login record.

    pylti1p3 writes every nonce it issues as a separate value and, at launch, checks it is
    there. Microcred's login record (keyed by the state, taken once at launch) holds the nonce
    already, so the nonce lives there: ``save_nonce`` writes nothing, and ``check_nonce`` is
    true only for the nonce of the login record this launch took. Single use follows from the
    record being taken once; two database writes per launch are saved.
    """

    def __init__(self, request: Any, issued_nonce: Callable[[], str | None]) -> None:
        super().__init__(request)
        self._issued_nonce = issued_nonce

    def save_nonce(self, nonce: str) -> None:
        return None

    def check_nonce(self, nonce: str) -> bool:
        issued = self._issued_nonce()
        return issued is not None and hmac.compare_digest(issued, nonce)

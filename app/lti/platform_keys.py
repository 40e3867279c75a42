"""Platform public keys (JWKS), cached in the shared state store (LTI-CHECKLIST A1).

A platform's key set is fetched once and kept for as long as its ``Cache-Control: max-age``
says (bounded), or a default TTL when it says nothing. A token signed with a ``kid`` the cached
set lacks triggers one refetch (the platform may have rotated), and refetches per key set URL
are rate-limited through the store, so a flood of forged tokens with random kids cannot make the
tool hammer the LMS: at most one refetch per ``REFETCH_INTERVAL`` seconds for all instances.

Each process also keeps what it read from the store for up to ``LOCAL_SECONDS``, so a launch
does not pay a store round trip for keys that rarely change; an unknown ``kid`` looks past that
copy to the store, where another instance may already have put the rotated set.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from app.lti.state import StateStore

log = logging.getLogger(__name__)

MIN_TTL = 60
MAX_TTL = 24 * 3600
REFETCH_INTERVAL = 60
LOCAL_SECONDS = 30
_MAX_AGE = re.compile(r"max-age=(\d+)")


class PlatformKeysError(Exception):
    """The key set could not be fetched or is not a key set."""


@dataclass
class PlatformKeys:
    """Fetch and cache platform key sets."""

    store: StateStore
    http: requests.Session
    default_ttl: int
    timeout: float
    _local: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)

    @staticmethod
    def _key(url: str) -> str:
        return "jwks:" + hashlib.sha256(url.encode()).hexdigest()

    def get(self, url: str) -> dict[str, Any]:
        """Return the key set, from the cache when it is fresh."""
        local = self._local.get(url)
        if local is not None and local[0] > time.monotonic():
            return dict(local[1])
        cached = self.store.get(self._key(url))
        if cached is not None:
            self._remember(url, cached)
            return dict(cached)
        return self._fetch(url)

    def _remember(self, url: str, keyset: dict[str, Any]) -> None:
        self._local[url] = (time.monotonic() + LOCAL_SECONDS, keyset)

    def refetch(self, url: str) -> dict[str, Any] | None:
        """Fetch again after an unknown ``kid``, unless another refetch happened very recently;
        then return what the store holds (another instance may have refetched), if anything."""
        self._local.pop(url, None)
        if not self.store.add("jwks-refetch:" + self._key(url), True, REFETCH_INTERVAL):
            log.info("platform key set refetch skipped (rate limit)", extra={"jwks_url": url})
            cached = self.store.get(self._key(url))
            return None if cached is None else dict(cached)
        return self._fetch(url)

    def _fetch(self, url: str) -> dict[str, Any]:
        try:
            response = self.http.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            raise PlatformKeysError(f"could not reach {url}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise PlatformKeysError(f"{url} answered HTTP {response.status_code}")
        try:
            keyset = response.json()
        except ValueError as exc:
            raise PlatformKeysError(f"{url} did not return JSON") from exc
        if not isinstance(keyset, dict) or not isinstance(keyset.get("keys"), list):
            raise PlatformKeysError(f"{url} did not return a key set ({{'keys': [...]}})")
        ttl = self.default_ttl
        match = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
        if match:
            ttl = min(max(int(match.group(1)), MIN_TTL), MAX_TTL)
        if "no-store" in response.headers.get("Cache-Control", ""):
            ttl = MIN_TTL
        self.store.put(self._key(url), keyset, ttl)
        self._remember(url, keyset)
        log.info(
            "platform key set fetched",
            extra={"jwks_url": url, "ttl": ttl, "kids": [k.get("kid") for k in keyset["keys"]]},
        )
        return keyset

"""Platform key sets: cached per Cache-Control, a default TTL otherwise, refetch rate-limited
(LTI-CHECKLIST A1)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from app.db import get_db
from app.lti.platform_keys import MIN_TTL, PlatformKeys, PlatformKeysError
from app.lti.state import DatabaseStateStore
from tests.support.serving import start_serving, stop_serving


class _JwksServer:
    def __init__(self) -> None:
        self.hits = 0
        self.status = 200
        self.body: object = {"keys": [{"kid": "k1", "kty": "RSA"}]}
        self.cache_control: str | None = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                payload = json.dumps(owner.body).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                if owner.cache_control:
                    self.send_header("Cache-Control", owner.cache_control)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks"
        self.thread = start_serving(self.server)

    def close(self) -> None:
        stop_serving(self.server, self.thread)


@pytest.fixture
def jwks_server():
    server = _JwksServer()
    yield server
    server.close()


@pytest.fixture
def keys(app):
    store = DatabaseStateStore(get_db(app))
    return PlatformKeys(store=store, http=requests.Session(), default_ttl=300, timeout=5)


def _ttl(keys, url):
    from sqlalchemy import select

    from app.db import utcnow
    from app.lti.models import LtiState

    with keys.store._db.session_factory() as session:
        row = session.scalars(select(LtiState).where(LtiState.key == keys._key(url))).one()
        return (row.expires_at - utcnow()).total_seconds()


def test_key_set_is_fetched_once_and_cached(keys, jwks_server):
    for _ in range(5):
        assert keys.get(jwks_server.url)["keys"][0]["kid"] == "k1"
    assert jwks_server.hits == 1


def test_default_ttl_applies_without_cache_headers(keys, jwks_server):
    keys.get(jwks_server.url)
    assert 290 < _ttl(keys, jwks_server.url) <= 300


def test_max_age_is_respected(keys, jwks_server):
    jwks_server.cache_control = "public, max-age=7200"
    keys.get(jwks_server.url)
    assert 7190 < _ttl(keys, jwks_server.url) <= 7200


def test_tiny_max_age_is_raised_to_the_floor(keys, jwks_server):
    jwks_server.cache_control = "max-age=1"
    keys.get(jwks_server.url)
    assert MIN_TTL - 10 < _ttl(keys, jwks_server.url) <= MIN_TTL


def test_refetch_is_rate_limited(keys, jwks_server):
    keys.get(jwks_server.url)
    assert keys.refetch(jwks_server.url) is not None
    assert keys.refetch(jwks_server.url)["keys"][0]["kid"] == "k1"  # the store's copy
    assert jwks_server.hits == 2


def test_each_process_keeps_its_copy_and_an_unknown_kid_looks_past_it(app, keys, jwks_server):
    # Two instances share one store; the first has read the set into its own copy.
    other = PlatformKeys(keys.store, requests.Session(), default_ttl=300, timeout=5)
    keys.get(jwks_server.url)
    keys.store.take(keys._key(jwks_server.url))  # the store's copy is gone
    assert keys.get(jwks_server.url)["keys"][0]["kid"] == "k1"  # its copy, no store read
    assert jwks_server.hits == 1

    # The platform rotates; the other instance meets the new kid first and refetches.
    jwks_server.body = {"keys": [{"kid": "k2", "kty": "RSA"}]}
    assert other.refetch(jwks_server.url)["keys"][0]["kid"] == "k2"
    # This instance then meets it too: its refetch is rate-limited, yet it gets the new set.
    assert keys.refetch(jwks_server.url)["keys"][0]["kid"] == "k2"
    assert keys.get(jwks_server.url)["keys"][0]["kid"] == "k2"
    assert jwks_server.hits == 2


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, {"error": "down"}, "HTTP 500"),
        (200, ["not", "a", "keyset"], "key set"),
    ],
)
def test_bad_key_set_answers_are_errors(keys, jwks_server, status, body, message):
    jwks_server.status, jwks_server.body = status, body
    with pytest.raises(PlatformKeysError, match=message):
        keys.get(jwks_server.url)


def test_unreachable_key_set_is_an_error(keys):
    from tests.support.postgres import free_port

    with pytest.raises(PlatformKeysError, match="could not reach"):
        keys.get(f"http://127.0.0.1:{free_port()}/jwks")

"""The state store, on the database and on Redis: TTL-bound, single use, atomic (issue 4)."""

from __future__ import annotations

import threading
import time

import pytest

from app.db import get_db
from app.lti.state import DatabaseStateStore, RedisStateStore


@pytest.fixture(params=["database", "redis"])
def store(request, app):
    if request.param == "redis":
        backend = RedisStateStore(request.getfixturevalue("redis_url"))
        yield backend
        backend.close()
    else:
        yield DatabaseStateStore(get_db(app))


def test_put_get_and_replace(store):
    store.put("k", {"a": 1}, 60)
    assert store.get("k") == {"a": 1}
    store.put("k", {"a": 2}, 60)
    assert store.get("k") == {"a": 2}
    assert store.get("missing") is None


def test_take_returns_the_value_once(store):
    store.put("state-1", {"nonce": "n"}, 60)
    assert store.take("state-1") == {"nonce": "n"}
    assert store.take("state-1") is None
    assert store.get("state-1") is None


# Lifetimes are given to the millisecond, so expiry is watched in a tenth of a second.
SHORT = 0.05
PAST_SHORT = 0.15


def test_values_expire(store):
    store.put("short", True, SHORT)
    time.sleep(PAST_SHORT)
    assert store.get("short") is None
    assert store.take("short") is None


def test_add_only_when_absent_or_expired(store):
    assert store.add("nonce-x", True, 60) is True
    assert store.add("nonce-x", True, 60) is False
    # A short life of its own: a busy machine may take longer than it between two statements.
    assert store.add("nonce-y", True, SHORT) is True
    time.sleep(PAST_SHORT)
    assert store.add("nonce-y", True, 60) is True
    assert store.add("nonce-y", True, 60) is False


def _race(action, count=8):
    results, barrier = [], threading.Barrier(count)

    def run():
        barrier.wait()
        results.append(action())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_takes_exactly_one_wins(store):
    store.put("state-race", {"nonce": "n"}, 60)
    results = _race(lambda: store.take("state-race"))
    assert sum(r is not None for r in results) == 1


def test_concurrent_adds_exactly_one_wins(store):
    results = _race(lambda: store.add("nonce-race", True, 60))
    assert results.count(True) == 1


def test_purge_removes_only_expired_values(app):
    store = DatabaseStateStore(get_db(app))
    store.put("old", 1, SHORT)
    store.put("live", 2, 60)
    time.sleep(PAST_SHORT)
    assert store.purge_expired() == 1
    assert store.get("live") == 2

"""Access tokens shared by every worker and process (LTI-CHECKLIST G: "cache tokens per
(platform, scopes) until shortly before expiry, shared across workers"), against the
development LMS's token endpoint over HTTP."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.db import get_db
from app.devlms.models import DevAccessToken
from app.devlms.platform import ACCESS_TOKEN_SECONDS
from app.lti import platform_services
from app.lti.models import LtiState, Registration
from app.lti.platform_services import PlatformServiceError
from app.lti.platforms import SCOPE_LINEITEM, SCOPE_NRPS, SCOPE_RESULT_READONLY, SCOPE_SCORE
from app.lti.state import RedisStateStore
from app.lti.tokens import RegistrationUnavailable, store_key, usable_seconds
from tests.support.ags import (
    demo_gradebook,
    in_threads,
    issued_tokens,
    revoke_tokens,
    run_together,
    token_cache,
)
from tests.support.services import MEMBERSHIP_TYPE, memberships_url

SCORE = [SCOPE_SCORE]


@pytest.fixture
def registration_id(live):
    return demo_gradebook(live).registration_id


@pytest.fixture(params=["database", "redis"])
def shared_store(request, live):
    """The store the tool's processes share: the database (embedded) or Redis (scaled)."""
    if request.param == "database":
        yield live.tool.extensions["lti"].store
        return
    store = RedisStateStore(request.getfixturevalue("redis_url"))
    yield store
    store.close()


def change_registration(live, **values):
    with get_db(live.tool).begin() as session:
        session.execute(update(Registration).values(**values))


def test_one_token_request_serves_many_calls(live, registration_id):
    cache = token_cache(live)
    tokens = {cache.token(registration_id, SCORE) for _ in range(25)}
    assert len(tokens) == 1
    assert cache.requests_made == 1
    assert issued_tokens(live) == 1


def test_scope_order_does_not_make_another_token(live, registration_id):
    cache = token_cache(live)
    first = cache.token(registration_id, [SCOPE_SCORE, SCOPE_RESULT_READONLY])
    assert cache.token(registration_id, [SCOPE_RESULT_READONLY, SCOPE_SCORE]) == first
    assert cache.requests_made == 1


def test_each_scope_set_has_its_own_token(live, registration_id):
    cache = token_cache(live)
    assert cache.token(registration_id, SCORE) != cache.token(registration_id, [SCOPE_LINEITEM])
    assert cache.requests_made == 2


def test_eight_threads_with_an_empty_cache_cause_one_token_request(live, registration_id):
    cache = token_cache(live)
    tokens = in_threads(8, lambda: cache.token(registration_id, SCORE))
    assert len(set(tokens)) == 1 and isinstance(tokens[0], str)
    assert cache.requests_made == 1
    assert issued_tokens(live) == 1


def test_two_processes_asking_at_once_cause_one_token_request(live, registration_id, shared_store):
    """Two caches on one store stand for two worker processes, 8 threads each."""
    caches = [token_cache(live, shared_store), token_cache(live, shared_store)]
    tokens = run_together(
        [lambda cache=cache: cache.token(registration_id, SCORE) for cache in caches * 8]
    )
    assert all(isinstance(t, str) for t in tokens), tokens
    assert len(set(tokens)) == 1
    assert sum(c.requests_made for c in caches) == 1
    assert issued_tokens(live) == 1


def test_another_process_uses_the_token_the_first_obtained(live, registration_id, shared_store):
    first, second = token_cache(live, shared_store), token_cache(live, shared_store)
    token = first.token(registration_id, SCORE)
    assert second.token(registration_id, SCORE) == token
    assert second.requests_made == 0


def test_cached_token_is_not_readable_in_clear_in_the_store(live, registration_id):
    cache = token_cache(live)
    token = cache.token(registration_id, SCORE)
    with get_db(live.tool).begin() as session:
        rows = session.scalars(select(LtiState)).all()
        stored = {row.key: row.value for row in rows}
    assert store_key(registration_id, SCORE) in stored
    assert token not in json.dumps(stored)
    cipher = live.tool.extensions["lti"].cipher
    entry = stored[store_key(registration_id, SCORE)]
    assert cipher.decrypt(entry["token"].encode()).decode() == token


def test_cached_token_is_not_readable_in_clear_in_redis(live, registration_id, redis_url):
    import redis

    store = RedisStateStore(redis_url)
    token = token_cache(live, store).token(registration_id, SCORE)
    client = redis.Redis.from_url(redis_url)
    values = [client.get(key) for key in client.keys("*")]
    client.close()
    store.close()
    assert values and all(token.encode() not in value for value in values)


def test_usable_life_is_expires_in_minus_the_margin():
    assert usable_seconds(3600, 60) == 3540


def test_token_shorter_lived_than_twice_the_margin_is_used_for_half_its_life():
    assert usable_seconds(100, 60) == 50


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


def test_token_is_kept_until_the_margin_before_expiry(live, registration_id):
    clock = Clock()
    cache = token_cache(live, clock=clock)
    token = cache.token(registration_id, SCORE)
    clock.now += ACCESS_TOKEN_SECONDS - 61
    assert cache.token(registration_id, SCORE) == token
    assert cache.requests_made == 1


def test_token_whose_remaining_life_is_under_the_margin_is_refreshed(live, registration_id):
    clock = Clock()
    cache = token_cache(live, clock=clock)
    token = cache.token(registration_id, SCORE)
    clock.now += ACCESS_TOKEN_SECONDS - 59
    assert cache.token(registration_id, SCORE) != token
    assert cache.requests_made == 2


def test_twenty_callers_refused_with_one_token_cause_one_new_request(live, registration_id):
    cache = token_cache(live)
    refused = cache.token(registration_id, SCORE)

    def after_a_401():
        cache.invalidate(registration_id, SCORE, refused)
        return cache.token(registration_id, SCORE)

    renewed = in_threads(20, after_a_401)
    assert len(set(renewed)) == 1 and renewed[0] != refused
    assert cache.requests_made == 2


def test_invalidating_an_old_token_keeps_the_newer_one(live, registration_id, shared_store):
    first, second = token_cache(live, shared_store), token_cache(live, shared_store)
    old = first.token(registration_id, SCORE)
    first.invalidate(registration_id, SCORE, old)
    new = first.token(registration_id, SCORE)
    second.invalidate(registration_id, SCORE, old)  # a late 401 in another process
    assert second.token(registration_id, SCORE) == new
    assert first.requests_made + second.requests_made == 2


def test_lock_of_a_dead_requester_expires_and_another_requests(live, registration_id):
    cache = token_cache(live)
    cache_store = live.tool.extensions["lti"].store
    lock = store_key(registration_id, SCORE) + ":lock"
    assert cache_store.add(lock, "dead-process", 2)
    with get_db(live.tool).begin() as session:
        lock_ends = session.scalars(select(LtiState.expires_at).where(LtiState.key == lock)).one()
    assert cache.token(registration_id, SCORE)
    assert cache.requests_made == 1
    # Compared on the clock the lock's expiry is kept in (the wall clock, which can step while
    # the test waits; a monotonic stopwatch cannot be set against it).
    with get_db(live.devlms).begin() as session:
        [issued] = session.scalars(select(DevAccessToken)).all()
    assert issued.expires_at - timedelta(seconds=ACCESS_TOKEN_SECONDS) >= lock_ends


def test_refused_token_request_names_the_platform_error(live, registration_id):
    change_registration(live, client_id="not-registered")
    with pytest.raises(PlatformServiceError) as refused:
        token_cache(live).token(registration_id, SCORE)
    assert "HTTP 401: invalid_client" in refused.value.message


def test_threads_waiting_for_a_refused_request_share_its_failure(live, registration_id):
    change_registration(live, client_id="not-registered")
    cache = token_cache(live)
    outcomes = in_threads(8, lambda: cache.token(registration_id, SCORE))
    assert all(isinstance(o, PlatformServiceError) for o in outcomes)
    assert cache.requests_made == 1


def test_after_a_refusal_the_next_call_asks_again(live, registration_id):
    change_registration(live, client_id="not-registered")
    cache = token_cache(live)
    with pytest.raises(PlatformServiceError):
        cache.token(registration_id, SCORE)
    with get_db(live.devlms).begin() as session:
        from app.devlms.models import DevTool

        client_id = session.scalars(select(DevTool.client_id)).one()
    change_registration(live, client_id=client_id)
    assert cache.token(registration_id, SCORE)
    assert cache.requests_made == 2


def test_unreachable_token_endpoint_is_a_platform_service_error(live, registration_id):
    change_registration(live, auth_token_url="http://127.0.0.1:1/token")
    with pytest.raises(PlatformServiceError) as refused:
        token_cache(live).token(registration_id, SCORE)
    assert "ConnectionError" in refused.value.message


def test_deactivated_registration_gets_no_token(live, registration_id):
    change_registration(live, is_active=False)
    with pytest.raises(RegistrationUnavailable):
        token_cache(live).token(registration_id, SCORE)


def test_runtime_builds_one_token_cache_and_one_client_per_app(live):
    with live.tool.app_context():
        from app.lti import runtime

        assert runtime().tokens() is runtime().tokens()
        assert runtime().ags() is runtime().ags()


def roster_page(live, tokens):
    """One NRPS page through ``platform_services.get_json`` with the shared cache."""
    with live.tool.app_context(), get_db(live.tool).begin() as session:
        rt = live.tool.extensions["lti"]
        return platform_services.get_json(
            session,
            rt.cipher,
            session.scalars(select(Registration)).one(),
            [SCOPE_NRPS],
            memberships_url(live),
            accept=MEMBERSHIP_TYPE,
            http=rt.http,
            timeout=rt.settings.http_timeout,
            tokens=tokens,
        )


def test_service_requests_given_the_cache_share_one_token(live):
    cache = token_cache(live)
    for _ in range(3):
        assert roster_page(live, cache)["members"]
    assert cache.requests_made == 1


def test_service_request_with_a_revoked_cached_token_gets_a_new_one(live):
    cache = token_cache(live)
    roster_page(live, cache)
    revoke_tokens(live)
    assert roster_page(live, cache)["members"]
    assert cache.requests_made == 2

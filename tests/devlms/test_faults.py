"""Faults the development LMS injects into its service endpoints (AGS, NRPS, token): added
latency, then 401, 429 with Retry-After, or 5xx, before anything is read or changed
(LTI-CHECKLIST G's error classes, for the tool's retries to meet)."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from app.db import get_db
from app.devlms import faults
from app.devlms.models import DevFaults
from app.devlms.platform import SCOPE_NRPS, PlatformError
from tests.support.score_sender import ScoreSender
from tests.support.tokens import assertion_claims, request_token, tool_sign


def set_faults(live, **values) -> None:
    with get_db(live.devlms).begin() as session:
        faults.set_faults(session, **values)


@pytest.fixture
def sender(live) -> ScoreSender:
    return ScoreSender(live)


def test_throttle_rate_one_answers_429_with_retry_after(live, sender):
    set_faults(live, throttle_rate=1, retry_after_seconds=7)
    response = sender.post()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["error"] == "too_many_requests"


def test_unauthorized_rate_one_answers_401_invalid_token(live, sender):
    set_faults(live, unauthorized_rate=1)
    response = sender.post()
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_server_error_rate_one_answers_500_502_or_503(live, sender):
    set_faults(live, server_error_rate=1)
    statuses = {sender.post().status_code for _ in range(12)}
    assert statuses <= {500, 502, 503}
    assert statuses


@pytest.mark.parametrize(
    "fault", [{"unauthorized_rate": 1}, {"throttle_rate": 1}, {"server_error_rate": 1}]
)
def test_refused_score_leaves_no_grade_and_no_log_row(live, sender, fault):
    set_faults(live, **fault)
    assert sender.post().status_code >= 400
    assert sender.grade() is None
    assert sender.logged() == 0


def test_zero_rates_inject_nothing(live, sender):
    set_faults(live, unauthorized_rate=0, throttle_rate=0, server_error_rate=0)
    statuses = [sender.post().status_code for _ in range(20)]
    assert statuses == [204] * 20
    assert sender.logged() == 20


def test_latency_is_added_to_each_service_request(live, sender):
    set_faults(live, latency_ms=300)
    started = time.perf_counter()
    assert sender.post().status_code == 204
    assert time.perf_counter() - started >= 0.3


def test_results_and_line_items_are_faulted_too(live, sender):
    set_faults(live, throttle_rate=1)
    assert sender.http.get(sender.results, timeout=30).status_code == 429
    assert sender.http.get(sender.lineitems, timeout=30).status_code == 429


def test_memberships_are_faulted_too(live):
    sender = ScoreSender(live, [SCOPE_NRPS])
    set_faults(live, server_error_rate=1)
    assert sender.http.get(sender.memberships, timeout=30).status_code in {500, 502, 503}


def test_token_endpoint_is_never_answered_401_by_faults(live):
    """A 401 from the token endpoint means the client's credentials are wrong: nothing a tool
    can renew, so the fault is not injected there."""
    set_faults(live, unauthorized_rate=1)
    response = request_token(live, tool_sign(live, assertion_claims(live)))
    assert response.status_code == 200, response.text


def test_token_endpoint_is_throttled_before_it_issues_a_token(live):
    set_faults(live, throttle_rate=1, retry_after_seconds=3)
    response = request_token(live, tool_sign(live, assertion_claims(live)))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"


def test_turning_faults_off_lets_scores_through(live, sender):
    set_faults(live, server_error_rate=1, latency_ms=100)
    with get_db(live.devlms).begin() as session:
        assert faults.turn_off(session) == faults.Faults(retry_after_seconds=1)
    assert sender.post().status_code == 204


def test_launch_pages_are_not_faulted(live):
    set_faults(live, server_error_rate=1)
    assert requests.get(f"{live.devlms_url}/jwks", timeout=30).status_code == 200
    assert requests.get(f"{live.devlms_url}/", timeout=30).status_code == 200


def test_faults_changed_by_another_process_are_seen_within_the_cache_time(live):
    """Each gunicorn process reads the row at most once a CACHE_SECONDS: a change made
    elsewhere (here: another engine, as another process would) is in force soon after."""
    db = get_db(live.devlms)
    with db.begin() as session:
        assert faults.current_faults(session) == faults.OFF
        faults.set_faults(session)  # the row exists
    other = create_engine(db.url)
    with Session(other) as session:
        session.execute(update(DevFaults).values(throttle_rate=0.5))
        session.commit()
    other.dispose()
    deadline = time.monotonic() + faults.CACHE_SECONDS + 1
    seen = faults.OFF
    while time.monotonic() < deadline and seen.throttle_rate != 0.5:
        with db.begin() as session:
            seen = faults.current_faults(session)
        time.sleep(0.05)
    assert seen.throttle_rate == 0.5


# --- the settings themselves ----------


@pytest.mark.parametrize(
    ("values", "field", "says"),
    [
        ({"throttle_rate": 30}, "throttle_rate", "did you mean 0.3?"),
        ({"unauthorized_rate": -0.1}, "unauthorized_rate", "from 0 to 1"),
        ({"server_error_rate": "often"}, "server_error_rate", "from 0 to 1"),
        ({"latency_ms": 60_001}, "latency_ms", "from 0 to 60000"),
        ({"latency_ms": 2.5}, "latency_ms", "whole number"),
        ({"retry_after_seconds": 3601}, "retry_after_seconds", "from 0 to 3600"),
        ({"throttle_rate": 0.6, "server_error_rate": 0.6}, "server_error_rate", "add up to 1.2"),
    ],
)
def test_settings_out_of_range_are_refused_with_what_to_fix(values, field, says):
    with pytest.raises(faults.InvalidFaults) as refused:
        faults.check(values)
    assert says in refused.value.errors[field]


def test_form_strings_are_read_as_numbers_and_blanks_as_off():
    typed = {"latency_ms": " 50 ", "throttle_rate": "0.25", "retry_after_seconds": ""}
    assert faults.check(typed) == faults.Faults(latency_ms=50, throttle_rate=0.25)


@pytest.mark.parametrize(
    ("fault", "status"),
    [({"unauthorized_rate": 1.0}, 401), ({"throttle_rate": 1.0}, 429)],
)
def test_apply_at_rate_one_always_fails(fault, status):
    for _ in range(50):
        with pytest.raises(PlatformError) as failed:
            faults.apply(faults.Faults(**fault))
        assert failed.value.status == status


def test_apply_at_rate_zero_never_fails():
    for _ in range(200):
        faults.apply(faults.Faults(latency_ms=0, retry_after_seconds=5))


def test_shares_do_not_overlap():
    """One draw decides: 0.25 + 0.25 + 0.5 is every request, a quarter, a quarter, a half."""
    import random

    rng = random.Random(1)
    seen: dict[int, int] = {}
    shares = faults.Faults(unauthorized_rate=0.25, throttle_rate=0.25, server_error_rate=0.5)
    for _ in range(4000):
        with pytest.raises(PlatformError) as failed:
            faults.apply(shares, rng=rng)
        kind = failed.value.status if failed.value.status < 500 else 500
        seen[kind] = seen.get(kind, 0) + 1
    assert 800 < seen[401] < 1200 and 800 < seen[429] < 1200 and 1700 < seen[500] < 2300

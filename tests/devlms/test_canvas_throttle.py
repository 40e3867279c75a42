"""Canvas's request throttling in the development LMS (canvas-as-it-is.md, "Throttling"): one
leaky bucket per client_id over the AGS and NRPS endpoints; a request that fills it to the
high-water mark (600, with 50 up front per request in flight) is refused with 403
"403 Forbidden (Rate Limit Exceeded)", text/plain, no Retry-After; every answer carries
``X-Rate-Limit-Remaining`` (instructure/canvas-lms ``app/middleware/request_throttle.rb``)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app.db import get_db
from app.devlms import faults, throttle
from app.devlms.platform import SCOPE_NRPS
from tests.support.lms import set_flavour
from tests.support.score_sender import ScoreSender
from tests.support.tokens import assertion_claims, demo_tool, request_token, tool_sign

RATE_LIMITED = "403 Forbidden (Rate Limit Exceeded)\n"


def set_faults(live, **values) -> None:
    with get_db(live.devlms).begin() as session:
        faults.set_faults(session, **values)


def stats(live) -> throttle.ClientStats:
    buckets: throttle.RequestThrottle = live.devlms.extensions["devlms_throttle"]
    return buckets.stats(demo_tool(live).client_id)


def wait_for(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


@pytest.fixture
def canvas(live) -> ScoreSender:
    set_flavour(live, "canvas")
    return ScoreSender(live)


def assert_rate_limited(response) -> None:
    assert response.status_code == 403
    assert response.text == RATE_LIMITED
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Retry-After" not in response.headers
    assert "X-Rate-Limit-Remaining" in response.headers
    assert "X-Request-Cost" not in response.headers


# --- the bucket ----------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_empty_canvas_bucket_lets_eleven_requests_be_in_flight_and_refuses_the_twelfth():
    buckets = throttle.RequestThrottle(Clock())
    held = [buckets.reserve("tool", throttle.CANVAS) for _ in range(12)]
    assert [r.allowed for r in held] == [True] * 11 + [False]
    assert throttle.CANVAS.most_in_flight == 11
    found = buckets.stats("tool")
    assert (found.in_flight, found.peak_in_flight, found.served, found.throttled) == (12, 12, 11, 1)
    assert found.remaining == 0


def test_a_finished_request_gives_back_its_up_front_cost_and_leaves_its_own():
    buckets = throttle.RequestThrottle(Clock())
    first = buckets.reserve("tool", throttle.CANVAS)
    second = buckets.reserve("tool", throttle.CANVAS)
    assert buckets.release(first, throttle.CANVAS) == pytest.approx(600 - 50 - 0.01)
    assert buckets.release(second, throttle.CANVAS) == pytest.approx(600 - 0.02)
    assert buckets.stats("tool").in_flight == 0


def test_what_requests_leave_leaks_away_at_the_outflow():
    clock = Clock()
    limit = throttle.RateLimit(request_cost=600)
    buckets = throttle.RequestThrottle(clock)
    buckets.release(buckets.reserve("tool", limit), limit)
    refused = buckets.reserve("tool", limit)  # one at a time, but the bucket is full
    assert not refused.allowed
    buckets.release(refused, limit)
    clock.now += 10  # 10 per second
    assert buckets.stats("tool").remaining == pytest.approx(100)
    assert buckets.reserve("tool", limit).allowed


def test_each_client_has_its_own_bucket():
    buckets = throttle.RequestThrottle(Clock())
    for _ in range(11):
        buckets.reserve("busy", throttle.CANVAS)
    assert buckets.reserve("other", throttle.CANVAS).allowed
    assert not buckets.reserve("busy", throttle.CANVAS).allowed


# --- the service endpoints ----------


def test_every_answer_to_a_canvas_tool_says_the_remaining_quota_and_the_cost(live, canvas):
    response = canvas.post()
    assert response.status_code == 200
    # 600 less what the request left (0.01), or 600 when its up-front cost leaked meanwhile.
    assert 599.99 <= float(response.headers["X-Rate-Limit-Remaining"]) <= 600
    assert response.headers["X-Request-Cost"] == "0.01"
    results = canvas.http.get(canvas.results, timeout=30)
    assert "X-Rate-Limit-Remaining" in results.headers


def test_a_moodle_tool_meets_no_rate_limit(live):
    sender = ScoreSender(live)
    response = sender.post()
    assert response.status_code == 204
    assert "X-Rate-Limit-Remaining" not in response.headers


def test_the_twelfth_request_in_flight_is_refused_with_403_rate_limit_exceeded(live, canvas):
    # Each request is held in flight for the added latency, long enough to start eleven.
    set_faults(live, latency_ms=1500)
    headers = {"Authorization": canvas.http.headers["Authorization"]}
    with ThreadPoolExecutor(11) as pool:
        held = [
            pool.submit(requests.get, canvas.results, headers=headers, timeout=30)
            for _ in range(11)
        ]
        wait_for(lambda: stats(live).in_flight == 11, "eleven requests in flight")
        refused = canvas.post()
        answers = [f.result() for f in held]
    assert_rate_limited(refused)
    assert [a.status_code for a in answers] == [200] * 11
    found = stats(live)
    assert (found.peak_in_flight, found.served, found.throttled) == (12, 11, 1)
    assert canvas.logged() == 0  # the refused score left nothing


def test_a_full_bucket_refuses_one_request_at_a_time_until_it_leaks(live, canvas):
    set_faults(live, canvas_request_cost=600, canvas_outflow=0)
    assert canvas.post().status_code == 200
    refused = canvas.post()
    assert_rate_limited(refused)
    assert float(refused.headers["X-Rate-Limit-Remaining"]) <= 0
    assert stats(live).peak_in_flight == 1


def test_line_items_results_and_memberships_share_the_bucket(live, canvas):
    set_faults(live, canvas_hwm=1, canvas_up_front_cost=1)  # every request refused
    roster = ScoreSender(live, [SCOPE_NRPS])
    for response in (
        canvas.http.get(canvas.lineitems, timeout=30),
        canvas.http.get(canvas.results, timeout=30),
        roster.http.get(roster.memberships, timeout=30),
    ):
        assert_rate_limited(response)
    assert stats(live).throttled == 3


def test_the_token_endpoint_is_not_in_the_bucket(live, canvas):
    set_faults(live, canvas_hwm=1, canvas_up_front_cost=1)
    response = request_token(live, tool_sign(live, assertion_claims(live)))
    assert response.status_code == 200, response.text
    assert "X-Rate-Limit-Remaining" not in response.headers


def test_an_injected_throttle_fault_is_canvas_s_403_for_a_canvas_tool(live, canvas):
    set_faults(live, throttle_rate=1, retry_after_seconds=7)
    refused = canvas.post()
    assert_rate_limited(refused)
    assert refused.headers["X-Rate-Limit-Remaining"] == "0.0"
    token = request_token(live, tool_sign(live, assertion_claims(live)))
    assert_rate_limited(token)


def test_a_flavour_change_moves_a_token_into_or_out_of_the_bucket(live, canvas):
    assert "X-Rate-Limit-Remaining" in canvas.post().headers
    set_flavour(live, "moodle")
    assert "X-Rate-Limit-Remaining" not in canvas.post().headers


def test_answered_requests_leave_the_bucket(live, canvas):
    for _ in range(5):
        assert canvas.post().status_code == 200
    canvas.http.headers["Authorization"] = "Bearer not-a-token"
    assert canvas.post().status_code == 401  # an unknown token is in no bucket
    found = stats(live)
    assert (found.in_flight, found.peak_in_flight, found.served) == (0, 1, 5)


def test_turning_faults_off_keeps_the_rate_limit(live):
    set_faults(live, server_error_rate=1, canvas_hwm=200)
    with get_db(live.devlms).begin() as session:
        kept = faults.turn_off(session)
    assert kept.canvas_rate_limit == throttle.RateLimit(hwm=200)
    assert not kept.on


@pytest.mark.parametrize(
    ("values", "field", "says"),
    [
        ({"canvas_hwm": 0}, "canvas_hwm", "above 0"),
        ({"canvas_up_front_cost": -1}, "canvas_up_front_cost", "from 0"),
        ({"canvas_outflow": "fast"}, "canvas_outflow", "e.g. 10 (Canvas's)"),
    ],
)
def test_rate_limit_settings_out_of_range_are_refused(values, field, says):
    with pytest.raises(faults.InvalidFaults) as refused:
        faults.check(values)
    assert says in refused.value.errors[field]


def test_blank_rate_limit_settings_are_canvas_s():
    assert faults.check({"canvas_hwm": ""}).canvas_rate_limit == throttle.CANVAS

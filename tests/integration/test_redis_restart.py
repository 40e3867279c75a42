"""The scaled shape when Redis fails (issue 29): Redis holds only what may be lost.

A session — a finished launch's, an operator's — is kept in the database, so a Redis crash or a
restart without persistence signs nobody out. What Redis holds (a login in flight, a launch
waiting for its browser, cached platform keys and access tokens, sign-in throttles) may be
lost: a launch in flight then fails once with a message that says what to do, and the next one
works. While Redis cannot be reached, what needs it answers 503 "try again in a moment"; open
pages keep working."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from app import create_app
from tests.admin.console import signed_in_client
from tests.support.forge import Forge
from tests.support.lms import LmsUser, field
from tests.support.redis import RedisServer


def _token(page: requests.Response) -> str:
    return parse_qs(urlsplit(page.url).query)["lt"][0]


def test_a_launch_session_outlives_a_redis_restart(live_own_redis, own_redis: RedisServer):
    page = LmsUser(live_own_redis, "priya.natarajan@example.edu").launch()
    assert page.status_code == 200, page.text
    own_redis.restart()  # SIGKILL: comes back empty
    again = requests.get(f"{live_own_redis.tool_url}/home", params={"lt": _token(page)}, timeout=30)
    assert again.status_code == 200, again.text
    assert field(again.text, "name") == "Priya Natarajan"


def test_an_operator_session_outlives_a_redis_restart(settings_override, own_redis):
    app = create_app({**settings_override, **own_redis.settings()})
    try:
        client = signed_in_client(app)
        own_redis.restart()
        page = client.get("/admin/")
        assert page.status_code == 200
        assert "Sign out" in page.text
    finally:
        app.extensions["db"].dispose()


def test_a_launch_in_flight_across_a_redis_restart_fails_once_and_says_what_to_do(
    live_own_redis, own_redis
):
    pending = Forge(live_own_redis).start()  # the login's state is in Redis
    own_redis.restart()
    page = pending.post()
    assert 400 <= page.status_code < 500, page.text
    assert "open the activity again" in page.text
    later = LmsUser(live_own_redis, "jordan.lee@example.edu").launch()
    assert later.status_code == 200, later.text


def test_a_launch_while_redis_is_down_answers_503_try_again(live_own_redis, own_redis):
    own_redis.kill()
    page = LmsUser(live_own_redis, "jordan.lee@example.edu").launch()
    assert page.status_code == 503, page.text
    assert "Try again in a moment" in page.text
    assert page.headers["Retry-After"]


def test_a_launch_posted_while_redis_is_down_answers_503_not_a_refusal(live_own_redis, own_redis):
    pending = Forge(live_own_redis).start()
    own_redis.kill()
    page = pending.post()
    assert page.status_code == 503, page.text
    assert "could not reach its state store" in page.text


def test_an_open_page_keeps_working_while_redis_is_down(live_own_redis, own_redis):
    page = LmsUser(live_own_redis, "priya.natarajan@example.edu").launch()
    assert page.status_code == 200, page.text
    own_redis.kill()
    again = requests.get(page.url, timeout=30)
    assert again.status_code == 200, again.text
    session = requests.get(
        f"{live_own_redis.tool_url}/api/session",
        headers={"Authorization": f"Bearer {_token(page)}"},
        timeout=30,
    )
    assert session.json()["user"]["name"] == "Priya Natarajan"

"""The scaled shape: LTI state in Redis. Launches work, and single use holds across requests."""

from __future__ import annotations

import redis

from tests.security.test_id_token import _post_concurrently
from tests.support.forge import Forge
from tests.support.lms import LmsUser, field


def test_launch_works_with_state_in_redis(live_redis, redis_url):
    page = LmsUser(live_redis, "priya.natarajan@example.edu").launch()
    assert page.status_code == 200, page.text
    assert field(page.text, "name") == "Priya Natarajan"
    client = redis.Redis.from_url(redis_url)
    keys = [k.decode() for k in client.keys("microcred:lti:*")]
    client.close()
    assert any(k.startswith("microcred:lti:jwks:") for k in keys)  # platform keys cached there
    assert not any(k.startswith("microcred:lti:login-state:") for k in keys)  # state was taken


def test_replay_is_refused_with_state_in_redis(live_redis):
    pending = Forge(live_redis).start()
    assert pending.post().status_code == 200
    assert pending.post().status_code == 400


def test_concurrent_posts_exactly_one_wins_with_state_in_redis(live_redis):
    assert _post_concurrently(Forge(live_redis).start(), 4) == [200, 400, 400, 400]

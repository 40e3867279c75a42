"""What a launch keeps for its pages (LTI-CHECKLIST C): the claims they read, for as long as
its session can be used, never the raw id_token for a day.

The post-launch session token names a launch; its pages read the launch's claims back from the
state store. What is kept is what ``to_launch`` reads; it is kept while a token issued for it
can still be used (tokens slide: two hours after their last use), renewed as the session is
used, and never past a day after the launch. A launch the browser never proved keeps nothing
beyond the pending record's two minutes."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from app.db import get_db, utcnow
from app.lti.models import LtiState
from tests.conftest import TEST_SECRET
from tests.support.forge import Forge
from tests.support.lms import bridge_data, field

HOUR = 3600
PADDING = "https://vendor.example/claim/padding"


def _launch_id(page: requests.Response) -> str:
    token = parse_qs(urlsplit(page.url).query)["lt"][0]
    serializer = URLSafeTimedSerializer(TEST_SECRET, salt="microcred-launch-session")
    return str(serializer.loads(token)["l"])


def _row(live, key: str) -> tuple[dict, float]:
    """The stored value under ``key`` and the seconds it has left."""
    with get_db(live.tool).begin() as session:
        row = session.scalars(select(LtiState).where(LtiState.key == key)).one()
        return row.value, (row.expires_at - utcnow()).total_seconds()


def _rewrite(live, key: str, value: dict, seconds_left: float) -> None:
    with get_db(live.tool).begin() as session:
        row = session.scalars(select(LtiState).where(LtiState.key == key)).one()
        row.value = value
        row.expires_at = utcnow() + timedelta(seconds=seconds_left)


@pytest.fixture
def launched(live):
    """A launch whose id_token carries 20 kB of an unknown claim, as a platform's may."""
    forge = Forge(live)
    pending = forge.start()
    page = pending.post(forge.sign(dict(pending.claims, **{PADDING: "x" * 20_000})))
    assert page.status_code == 200, page.text
    return page, _launch_id(page)


def test_a_launch_keeps_only_the_claims_its_pages_read(live, launched):  # C
    _page, launch_id = launched
    kept, seconds_left = _row(live, launch_id)
    claims = kept["claims"]
    assert PADDING not in claims
    for unread in (
        "nonce",
        "exp",
        "iat",
        "aud",
        "azp",
        "https://purl.imsglobal.org/spec/lti/claim/lis",
    ):
        assert unread not in claims
    assert claims["sub"] and claims["https://purl.imsglobal.org/spec/lti/claim/roles"]
    assert len(json.dumps(kept)) < 2_000
    # As long as a session token can be used (two hours after its last use), with room to renew:
    # not a day.
    assert 4 * HOUR - 60 < seconds_left <= 4 * HOUR


def test_an_unproven_launch_keeps_nothing_past_its_wait(live):  # C
    """A launch waiting for its browser's proof is held two minutes; nothing else is kept."""
    pending = Forge(live).start()
    before = _keys(live)
    bridge_page = pending.post(http=requests.Session())  # another browser: no state cookie
    assert bridge_data(bridge_page.text)["step"] == "launch"
    with get_db(live.tool).begin() as session:
        added = [
            (row.key, (row.expires_at - utcnow()).total_seconds())
            for row in session.scalars(select(LtiState).where(LtiState.key.not_in(before)))
        ]
    # (the platform's key set, fetched to check the signature, is cached for every launch)
    [(key, seconds_left)] = [(key, left) for key, left in added if not key.startswith("jwks:")]
    assert key.startswith("pending-launch:") and seconds_left <= 120


def _keys(live) -> set[str]:
    with get_db(live.tool).begin() as session:
        return set(session.scalars(select(LtiState.key)))


def test_a_session_in_use_is_kept_past_its_first_hours(live, launched):  # C
    page, launch_id = launched
    kept, _ = _row(live, launch_id)
    now = time.time()
    # Three and a half hours after the launch, half an hour before what was kept would go.
    _rewrite(live, launch_id, dict(kept, launched_at=now - 3.5 * HOUR, kept_until=now + 1800), 1800)
    token = parse_qs(urlsplit(page.url).query)["lt"][0]
    again = requests.get(f"{live.tool_url}/home", params={"lt": token}, timeout=30)
    assert again.status_code == 200
    assert field(again.text, "name") == "Jordan Lee"
    _kept, seconds_left = _row(live, launch_id)
    assert 4 * HOUR - 60 < seconds_left <= 4 * HOUR


def test_a_session_ends_a_day_after_its_launch(live, launched):  # C
    page, launch_id = launched
    kept, _ = _row(live, launch_id)
    now = time.time()
    _rewrite(
        live, launch_id, dict(kept, launched_at=now - 24 * HOUR + 600, kept_until=now + 300), 300
    )
    token = parse_qs(urlsplit(page.url).query)["lt"][0]
    assert requests.get(f"{live.tool_url}/home", params={"lt": token}, timeout=30).ok
    _kept, seconds_left = _row(live, launch_id)
    assert 540 < seconds_left <= 600  # renewed only up to a day after the launch

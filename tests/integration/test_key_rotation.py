"""A rotation of the tool's keys, end to end (LTI-CHECKLIST E; issue 5): launches and service
calls keep working before a rotation, during its overlap, after the switch (the development LMS
still holding the old JWKS and refetching on the unknown kid) and after the old key retires.

Time passes by moving the keys' schedule back (``let_time_pass``), never by sleeping.
"""

from __future__ import annotations

from datetime import timedelta

import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms import platform as devlms_platform
from app.devlms.platform import SCOPE_NRPS
from app.lti import keys
from app.lti.models import ToolKey
from tests.support.lms import LmsUser, field
from tests.support.services import tool_nrps_call
from tests.support.tokens import assertion_claims, request_token, tool_sign

OVERLAP = timedelta(hours=1)


def let_time_pass(live, delta: timedelta) -> None:
    """Move every key's schedule back by ``delta``: to the tool, ``delta`` has passed."""
    with get_db(live.tool).begin() as session:
        for key in session.scalars(select(ToolKey)):
            key.created_at -= delta
            key.signs_from -= delta
            if key.retires_at is not None:
                key.retires_at -= delta


def cli(live, *args: str) -> str:
    result = live.tool.test_cli_runner().invoke(args=["keys", *args])
    assert result.exit_code == 0, result.output
    return result.output


def signing_kid(live) -> str:
    with live.tool.app_context(), get_db(live.tool).begin() as session:
        return keys.ensure_active_key(session, live.tool.extensions["lti"].cipher).kid


def next_kid(live) -> str:
    with get_db(live.tool).begin() as session:
        (state,) = [s for s in keys.key_states(session) if s.state == keys.NEXT]
        return state.kid


def published_kids(live) -> list[str]:
    response = requests.get(f"{live.tool_url}/.well-known/jwks.json", timeout=30)
    return [k["kid"] for k in response.json()["keys"]]


def kids_the_lms_has_cached(live) -> list[str]:
    # The development LMS's own cache of the tool's JWKS (60 s, refetched on an unknown kid).
    cached = devlms_platform._jwks_cache.get(f"{live.tool_url}/.well-known/jwks.json")
    assert cached is not None, "the development LMS has not fetched the tool's JWKS"
    return [k["kid"] for k in cached[1]["keys"]]


def assert_launch_and_service_call_work(live, learner: LmsUser) -> None:
    page = learner.launch()
    assert page.status_code == 200, page.text
    assert field(page.text, "name") == "Jordan Lee"
    roster = tool_nrps_call(live)
    assert "Jordan Lee" in {m["name"] for m in roster["members"]}


def test_launches_and_service_calls_keep_working_across_a_rotation(live):
    learner = LmsUser(live, "jordan.lee@example.edu")
    old = signing_kid(live)

    # Before: the LMS fetches and caches the JWKS, which holds only the old key.
    assert_launch_and_service_call_work(live, learner)
    assert kids_the_lms_has_cached(live) == [old]

    # During the overlap: the next key is published, the old one still signs.
    cli(live, "rotate", "--overlap", "1h")
    new = next_kid(live)
    assert published_kids(live) == [old, new]
    assert signing_kid(live) == old
    assert_launch_and_service_call_work(live, learner)

    # After the switch: the new key signs while the LMS's cached JWKS lacks it, so only its
    # refetch on the unknown kid lets it verify the token request.
    let_time_pass(live, OVERLAP + timedelta(seconds=1))
    assert signing_kid(live) == new
    assert published_kids(live) == [old, new]
    assert kids_the_lms_has_cached(live) == [old]
    assert_launch_and_service_call_work(live, learner)
    assert kids_the_lms_has_cached(live) == [old, new]

    # After the old key's retention: it has left the JWKS; the new key carries on.
    let_time_pass(live, OVERLAP)
    assert published_kids(live) == [new]
    assert_launch_and_service_call_work(live, learner)
    assert "retired" in cli(live, "list").splitlines()[1]


def test_assertion_signed_just_before_the_switch_verifies_after_it(live):
    cli(live, "rotate", "--overlap", "1h")
    signed_by_old_key = tool_sign(live, assertion_claims(live))
    let_time_pass(live, OVERLAP + timedelta(seconds=1))
    response = request_token(live, signed_by_old_key, [SCOPE_NRPS])
    assert response.status_code == 200, response.text


def test_compromised_key_is_replaced_and_withdrawn_without_a_failed_call(live):
    learner = LmsUser(live, "jordan.lee@example.edu")
    assert_launch_and_service_call_work(live, learner)
    old = signing_kid(live)
    signed_by_old_key = tool_sign(live, assertion_claims(live))

    cli(live, "rotate", "--overlap", "0", "--retain", "0")
    cli(live, "retire", old, "--yes")
    new = signing_kid(live)
    assert published_kids(live) == [new]
    assert_launch_and_service_call_work(live, learner)

    # Once the LMS has refetched the JWKS, what the old key signed is refused.
    refused = request_token(live, signed_by_old_key, [SCOPE_NRPS])
    assert refused.status_code == 401
    assert f"No key with kid {old!r}" in refused.json()["error_description"]

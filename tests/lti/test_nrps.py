"""Reading a course's roster through NRPS (app/lti/nrps.py) from the development LMS, which
pages its membership container (20 members a page unless asked for ``limit``) with
``Link: <…>; rel="next"`` (LTI-CHECKLIST H)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevUser
from app.lti import nrps, runtime
from app.lti.models import Registration
from app.lti.platform_services import PlatformServiceError
from tests.support.live import LiveServers
from tests.support.roster import enrol_learners, token_requests
from tests.support.services import memberships_url

DEMO_PEOPLE = {"Maria Alvarez", "Jordan Lee", "Priya Natarajan", "Samuel Okafor", "Dana Kim"}
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership"


@contextmanager
def tool_side(live: LiveServers) -> Iterator[tuple[Any, Registration]]:
    with live.tool.app_context(), get_db(live.tool).begin() as session:
        yield session, session.scalars(select(Registration)).one()


def fetch(live: LiveServers, url: str | None = None, **options: Any) -> list[nrps.Member]:
    with tool_side(live) as (session, registration):
        rt = runtime()
        return nrps.fetch_members(
            session,
            rt.cipher,
            registration,
            url or memberships_url(live),
            http=rt.http,
            timeout=rt.settings.http_timeout,
            tokens=rt.tokens(),
            **options,
        )


def roster(live: LiveServers, *, refresh: bool = False) -> nrps.Roster:
    with tool_side(live) as (session, registration):
        rt = runtime()
        return nrps.course_roster(
            session,
            rt.cipher,
            registration,
            memberships_url(live),
            http=rt.http,
            timeout=rt.settings.http_timeout,
            store=rt.store,
            refresh=refresh,
        )


def test_a_roster_over_several_pages_is_read_whole(live):
    added = enrol_learners(live, 25)
    before = token_requests(live)
    members = fetch(live)
    assert len(members) == len(DEMO_PEOPLE) + 25
    assert {m.email for m in members} >= set(added)
    assert {m.display_name for m in members} >= DEMO_PEOPLE
    # 30 members at the LMS's default of 20 a page: two pages, one shared access token.
    assert token_requests(live) - before == 1


def test_a_page_size_hint_is_sent_as_limit(live):
    before = token_requests(live)
    members = fetch(live, limit=1)
    assert {m.display_name for m in members} == DEMO_PEOPLE
    assert token_requests(live) - before == 1


def test_members_carry_readable_roles_and_flags(live):
    members = {m.display_name: m for m in fetch(live)}
    learner, instructor = members["Jordan Lee"], members["Maria Alvarez"]
    assert learner.roles == ("Learner",) and learner.is_learner
    assert not learner.is_instructor and not learner.is_teaching_assistant
    assert instructor.roles == ("Instructor",) and instructor.is_instructor
    assert not instructor.is_learner
    assert learner.status == "Active" and learner.active
    with get_db(live.devlms).begin() as session:
        sub = session.scalars(select(DevUser.sub).where(DevUser.email == learner.email)).one()
    assert learner.user_id == sub


def test_a_kept_roster_does_not_ask_the_lms_again(live):
    first = roster(live)
    asked = token_requests(live)
    second = roster(live)
    assert not first.cached and second.cached
    assert second.members == first.members
    assert second.fetched_at == first.fetched_at
    assert token_requests(live) == asked


def test_refresh_asks_the_lms_even_when_a_roster_is_kept(live):
    first = roster(live)
    asked = token_requests(live)
    enrol_learners(live, 1, family="Newcomer")
    kept = roster(live)
    fresh = roster(live, refresh=True)
    assert len(kept.members) == len(first.members)
    assert not fresh.cached and token_requests(live) == asked + 1
    assert len(fresh.members) == len(first.members) + 1
    assert roster(live).cached and len(roster(live).members) == len(fresh.members)


def test_the_roster_is_kept_in_redis_in_the_scaled_shape(live_redis):
    first = roster(live_redis)
    asked = token_requests(live_redis)
    second = roster(live_redis)
    assert second.cached and second.members == first.members
    assert token_requests(live_redis) == asked


def test_a_next_page_on_another_site_is_not_followed(live):
    # The LMS names its pages on 127.0.0.1; asked at "localhost", its next page is elsewhere.
    url = memberships_url(live).replace("127.0.0.1", "localhost")
    with pytest.raises(PlatformServiceError) as refused:
        fetch(live, url, limit=2)
    assert "next roster page on another site" in refused.value.message


def test_an_answer_without_members_is_a_platform_service_error(live):
    with pytest.raises(PlatformServiceError) as refused:
        fetch(live, f"{live.devlms_url}/.well-known/jwks.json")
    assert "other than a membership container" in refused.value.message


def test_a_refused_roster_request_is_a_platform_service_error(live):
    missing = f"{live.devlms_url}/api/lti/courses/999/memberships"
    with pytest.raises(PlatformServiceError) as refused:
        fetch(live, missing)
    assert "HTTP 404" in refused.value.message


# --- Members as platforms describe them -------------------------------------------------------


def test_simple_role_names_and_sub_roles_are_understood():
    """NRPS §2.2: context roles may be the simple names; a sub-role carries its principal."""
    ta = nrps.member_of({"user_id": "1", "roles": ["TeachingAssistant", "Instructor"]})
    assert ta is not None and ta.is_teaching_assistant and ta.is_instructor
    assert ta.roles == ("Teaching assistant", "Instructor")
    learner = nrps.member_of({"user_id": "2", "roles": [f"{LIS}/Learner#NonCreditLearner"]})
    assert learner is not None and learner.is_learner


def test_a_member_without_status_is_active_and_one_without_user_id_is_skipped():
    assert nrps.member_of({"user_id": 7, "roles": []}) == nrps.member_of(
        {"user_id": "7", "status": "Active", "roles": []}
    )
    assert nrps.member_of({"name": "No id", "roles": []}) is None
    inactive = nrps.member_of({"user_id": "8", "status": "Inactive"})
    assert inactive is not None and not inactive.active


def test_a_limit_keeps_the_containers_own_query():
    url = "https://lms.example/memberships?rlid=5&limit=10"
    assert nrps.with_limit(url, 50) == "https://lms.example/memberships?rlid=5&limit=50"
    assert nrps.with_limit(url, None) == url

"""Names and Role Provisioning Services on the development LMS (LTI-CHECKLIST H)."""

from __future__ import annotations

import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevCourse
from app.devlms.platform import SCOPE_NRPS, SCOPE_SCORE
from tests.support.tokens import access_token

MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def memberships_url(live):
    with get_db(live.devlms).begin() as session:
        course_id = session.scalars(select(DevCourse.id)).one()
    return f"{live.devlms_url}/api/lti/courses/{course_id}/memberships"


def test_roster_is_paged_with_link_next(live):
    headers = {"Authorization": f"Bearer {access_token(live, [SCOPE_NRPS])}"}
    url, members, pages = memberships_url(live) + "?limit=3", [], 0
    while url:
        response = requests.get(url, headers=headers, timeout=30)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith(MEMBERSHIP_TYPE)
        body = response.json()
        assert body["context"]["title"] == "Teaching with Evidence"
        members += body["members"]
        pages += 1
        url = response.links.get("next", {}).get("url")
    assert pages == 2
    names = {m["name"] for m in members}
    assert names == {"Maria Alvarez", "Jordan Lee", "Priya Natarajan", "Samuel Okafor", "Dana Kim"}
    learner = next(m for m in members if m["name"] == "Jordan Lee")
    assert learner["roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
    assert learner["status"] == "Active" and learner["user_id"]


def test_roster_filters_by_role(live):
    headers = {"Authorization": f"Bearer {access_token(live, [SCOPE_NRPS])}"}
    role = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    body = requests.get(
        memberships_url(live), params={"role": role}, headers=headers, timeout=30
    ).json()
    # The teaching assistant too: a sub-role comes with its principal role (LTI Core A.2.3).
    assert [m["name"] for m in body["members"]] == ["Maria Alvarez", "Dana Kim"]


def test_roster_needs_the_membership_scope(live):
    headers = {"Authorization": f"Bearer {access_token(live, [SCOPE_SCORE])}"}
    response = requests.get(memberships_url(live), headers=headers, timeout=30)
    assert response.status_code == 403


def test_roster_refuses_bad_paging(live):
    headers = {"Authorization": f"Bearer {access_token(live, [SCOPE_NRPS])}"}
    response = requests.get(memberships_url(live) + "?limit=zero", headers=headers, timeout=30)
    assert response.status_code == 400
    assert "whole numbers" in response.json()["error_description"]

"""The educator's "My badges", over real launches from the development LMS (issue 11): the
badge with its downloads, share link, LinkedIn and QR code; the choice of public evidence;
nobody else's badge."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from app.db import get_db
from app.lti.models import LtiUser
from tests.badges.support import awards, decide_attempt, process
from tests.evidence.support import HINGE, LEARNER, OTHER_LEARNER, Session, add_activity, launch
from tests.support.catalog import seed_sample_catalog


@pytest.fixture
def activity(live) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    return add_activity(live, HINGE)


def _user_id(live, email: str) -> int:
    with get_db(live.tool).begin() as session:
        return session.scalars(select(LtiUser.id).where(LtiUser.email == email)).one()


def _earned(live, activity, email: str = LEARNER) -> tuple[Session, str]:
    educator = launch(live, email, activity)
    decide_attempt(live.tool, _user_id(live, email), HINGE)
    process(live.tool)
    (award,) = awards(live.tool, user_id=_user_id(live, email))
    return educator, award.public_id


def test_my_badges_shows_the_badge_with_its_downloads_and_share_link(live, activity):
    educator, public_id = _earned(live, activity)
    page = educator.get("/my/badges")
    assert page.status_code == 200
    html = page.text
    assert "Questioning" in html
    assert f"{live.tool_url}/badges/{public_id}" in html
    assert f"/badges/{public_id}/badge.png" in html
    assert f"/badges/{public_id}/badge.svg" in html
    assert f"/badges/{public_id}/credential.json" in html
    assert f"/badges/{public_id}/qr.svg" in html
    linkedin = unescape(re.search(r'href="(https://www\.linkedin\.com/profile/add[^"]+)"', html)[1])
    assert "certId=" + public_id in linkedin


def test_a_badge_being_issued_is_announced(live, activity):
    educator = launch(live, LEARNER, activity)
    decide_attempt(live.tool, _user_id(live, LEARNER), HINGE)
    html = educator.get("/my/badges").text
    assert "is being issued" in html


def test_without_badges_the_page_says_how_to_earn_one(live, activity):
    educator = launch(live, LEARNER, activity)
    html = educator.get("/my/badges").text
    assert "You have not earned a badge yet" in html


def test_the_earner_chooses_which_evidence_is_public(live, activity):
    educator, public_id = _earned(live, activity)
    html = educator.get("/my/badges").text
    values = re.findall(r'name="public" value="([^"]+)"', html)
    link = next(v for v in values if v.startswith("link:"))
    saved = educator.post(f"/my/badges/{public_id}/evidence", public=link)
    assert saved.status_code == 200
    assert "Saved." in saved.text
    public = live.tool.test_client().get(f"/badges/{public_id}").get_data(as_text=True)
    assert "https://video.example.edu/lesson-12" in public
    assert "My Year 7 class" not in public  # the written answer stays private


def test_evidence_of_another_attempt_cannot_be_made_public(live, activity):
    educator, public_id = _earned(live, activity)
    refused = educator.post(f"/my/badges/{public_id}/evidence", public="link:999999")
    assert refused.status_code == 400
    assert "not part of this badge" in refused.text


def test_another_educators_badge_is_not_theirs_to_change(live, activity):
    _owner, public_id = _earned(live, activity)
    other = launch(live, OTHER_LEARNER, activity)
    refused = other.post(f"/my/badges/{public_id}/evidence", public="")
    assert refused.status_code == 404
    assert "no such badge" in refused.text


def test_a_private_evidence_file_is_not_served(live, activity):
    _educator, public_id = _earned(live, activity)
    response = live.tool.test_client().get(f"/badges/{public_id}/evidence/files/1")
    assert response.status_code == 404

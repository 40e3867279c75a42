"""The profile page: a form posted inside the iframe on the session token alone."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from app.db import get_db
from app.lti.models import LtiUser
from tests.support.lms import LmsUser, forms, submit


def _token(live):
    page = LmsUser(live, "jordan.lee@example.edu").launch()
    return parse_qs(urlsplit(page.url).query)["lt"][0]


def _badge_name(live):
    with get_db(live.tool).begin() as session:
        return session.scalars(
            select(LtiUser.badge_name).where(LtiUser.email == "jordan.lee@example.edu")
        ).one()


def test_profile_form_saves_the_badge_name_without_cookies(live):
    http = requests.Session()
    page = http.get(f"{live.tool_url}/profile", params={"lt": _token(live)}, timeout=30)
    assert page.status_code == 200
    form = forms(page.text)[0]
    form.fields["badge_name"] = "  Jordan   A. Lee "
    saved = submit(requests.Session(), page.url, form)
    assert saved.status_code == 200
    assert "Saved." in saved.text and 'value="Jordan A. Lee"' in saved.text
    assert _badge_name(live) == "Jordan A. Lee"


def test_too_long_a_name_is_refused_and_what_was_typed_is_kept(live):
    page = requests.get(f"{live.tool_url}/profile", params={"lt": _token(live)}, timeout=30)
    form = forms(page.text)[0]
    form.fields["badge_name"] = "J" * 130
    answer = submit(requests.Session(), page.url, form)
    assert answer.status_code == 400
    assert "at most 120 characters" in answer.text
    assert "J" * 130 in answer.text  # nothing typed is lost
    assert _badge_name(live) is None


def test_empty_name_goes_back_to_the_lms_name(live):
    page = requests.get(f"{live.tool_url}/profile", params={"lt": _token(live)}, timeout=30)
    form = forms(page.text)[0]
    form.fields["badge_name"] = "Someone"
    after = submit(requests.Session(), page.url, form)
    form = forms(after.text)[0]
    form.fields["badge_name"] = ""
    submit(requests.Session(), after.url, form)
    assert _badge_name(live) is None


def test_profile_post_without_the_token_in_the_body_is_refused(live):
    token = _token(live)
    answer = requests.post(
        f"{live.tool_url}/profile", params={"lt": token}, data={"badge_name": "Forged"}, timeout=30
    )
    assert answer.status_code == 401
    assert _badge_name(live) is None

"""Site administration → LTI tools in the development LMS: only a site administrator sees it;
it lists tools, starts a Dynamic Registration in an iframe, and activates pending tools."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevEnrolment, DevTool, DevUser
from app.devlms.registration import is_site_admin
from tests.support.lms import LmsUser
from tests.support.registration import register
from tests.support.tokens import demo_tool

ADMIN = "alex.admin@example.edu"
PAGE = "/admin/lti-tools"


def admin(live) -> LmsUser:
    return LmsUser(live, ADMIN)


def frame_src(html: str) -> str:
    match = re.search(r'<iframe[^>]*id="registration-frame"[^>]*src="([^"]+)"', html, re.S)
    assert match, "no registration iframe on the page"
    return unescape(match.group(1))


def test_seed_has_a_site_admin_enrolled_in_no_course(live):
    with get_db(live.devlms).begin() as session:
        alex = session.scalars(select(DevUser).where(DevUser.email == ADMIN)).one()
        assert is_site_admin(alex)
        assert alex.name == "Alex Admin"
        enrolled = session.scalars(select(DevEnrolment).where(DevEnrolment.user_id == alex.id))
        assert enrolled.first() is None


def test_site_admin_sees_the_tool_list(live):
    page = admin(live).http.get(f"{live.devlms_url}{PAGE}", timeout=30)
    assert page.status_code == 200
    tool = demo_tool(live)
    assert "<h1>LTI tools</h1>" in page.text
    assert tool.client_id in page.text
    assert "Set up by hand" in page.text
    assert 'label for="registration_url"' in page.text


def test_teacher_is_refused_site_administration(live):
    page = LmsUser(live, "maria.alvarez@example.edu").http.get(
        f"{live.devlms_url}{PAGE}", timeout=30
    )
    assert page.status_code == 403
    assert "Site administrators only" in page.text


def test_site_administration_needs_a_user(live):
    page = requests.get(f"{live.devlms_url}{PAGE}", timeout=30)
    assert page.status_code == 403
    assert "Choose a user first" in page.text


def test_header_links_to_site_administration_only_for_admins(live):
    assert PAGE in admin(live).http.get(f"{live.devlms_url}/", timeout=30).text
    teacher = LmsUser(live, "maria.alvarez@example.edu")
    assert PAGE not in teacher.http.get(f"{live.devlms_url}/", timeout=30).text


def test_register_by_url_opens_the_tool_with_configuration_and_token(live):
    tool_url = f"{live.tool_url}/lti/register/one-time?lang=en"
    page = admin(live).http.post(
        f"{live.devlms_url}{PAGE}/register",
        data={"registration_url": tool_url, "flavour": "canvas"},
        timeout=30,
    )
    assert page.status_code == 200
    src = frame_src(page.text)
    query = parse_qs(urlsplit(src).query)
    assert src.startswith(f"{live.tool_url}/lti/register/one-time?")
    assert query["lang"] == ["en"]
    assert query["openid_configuration"] == [
        f"{live.devlms_url}/api/lti/security/openid-configuration"
    ]
    assert f'data-tool-origin="{live.tool_url}"' in page.text
    configuration = requests.get(
        query["openid_configuration"][0],
        headers={"Authorization": f"Bearer {query['registration_token'][0]}"},
        timeout=30,
    )
    assert configuration.status_code == 200


def test_register_by_url_refuses_what_is_not_a_url(live):
    page = admin(live).http.post(
        f"{live.devlms_url}{PAGE}/register",
        data={"registration_url": "microcred registration", "flavour": "moodle"},
        timeout=30,
    )
    assert page.status_code == 400
    assert "Paste the tool&#39;s registration URL" in page.text
    assert "registration-frame" not in page.text


def test_register_by_url_refuses_an_unknown_flavour(live):
    page = admin(live).http.post(
        f"{live.devlms_url}{PAGE}/register",
        data={"registration_url": f"{live.tool_url}/lti/register/x", "flavour": "blackboard"},
        timeout=30,
    )
    assert page.status_code == 400
    assert "Moodle or as Canvas" in page.text


def test_register_by_url_is_refused_to_a_teacher(live):
    page = LmsUser(live, "maria.alvarez@example.edu").http.post(
        f"{live.devlms_url}{PAGE}/register",
        data={"registration_url": f"{live.tool_url}/lti/register/x", "flavour": "moodle"},
        timeout=30,
    )
    assert page.status_code == 403


def test_list_after_registration_names_the_new_pending_tool(live):
    answer = register(live, "moodle")
    page = admin(live).http.get(
        f"{live.devlms_url}{PAGE}", params={"registered": answer["client_id"]}, timeout=30
    )
    assert "registered itself" in page.text
    assert "pending" in page.text
    assert f'id="tool-{answer["client_id"]}"' in page.text
    assert "LtiDeepLinkingRequest: ContentArea" in page.text


def test_list_after_an_unfinished_registration_says_nothing_was_added(live):
    page = admin(live).http.get(
        f"{live.devlms_url}{PAGE}", params={"registered": "never-registered"}, timeout=30
    )
    assert "without registering" in page.text


def test_canvas_tool_is_listed_with_the_deployment_note(live):
    register(live, "canvas")
    page = admin(live).http.get(f"{live.devlms_url}{PAGE}", timeout=30)
    assert "learns it from the first launch" in page.text


def test_admin_activates_a_pending_tool(live):
    client_id = register(live, "moodle")["client_id"]
    with get_db(live.devlms).begin() as session:
        tool_id = session.scalars(select(DevTool.id).where(DevTool.client_id == client_id)).one()
    page = admin(live).http.post(f"{live.devlms_url}{PAGE}/{tool_id}/activate", timeout=30)
    assert page.status_code == 200
    assert "is active" in page.text
    with get_db(live.devlms).begin() as session:
        assert session.get(DevTool, tool_id).status == "active"


def test_teacher_cannot_activate_a_tool(live):
    client_id = register(live, "moodle")["client_id"]
    with get_db(live.devlms).begin() as session:
        tool_id = session.scalars(select(DevTool.id).where(DevTool.client_id == client_id)).one()
    teacher = LmsUser(live, "maria.alvarez@example.edu")
    response = teacher.http.post(f"{live.devlms_url}{PAGE}/{tool_id}/activate", timeout=30)
    assert response.status_code == 403
    with get_db(live.devlms).begin() as session:
        assert session.get(DevTool, tool_id).status == "pending"


def test_activating_an_unknown_tool_is_a_404(live):
    response = admin(live).http.post(f"{live.devlms_url}{PAGE}/999/activate", timeout=30)
    assert response.status_code == 404


def test_pending_tool_cannot_be_launched(live):
    client_id = register(live, "moodle")["client_id"]
    with get_db(live.devlms).begin() as session:
        tool = session.scalars(select(DevTool).where(DevTool.client_id == client_id)).one()
        redirect_uri = tool.redirect_uris[0]
    teacher = LmsUser(live, "maria.alvarez@example.edu")
    response = teacher.http.get(
        f"{live.devlms_url}/auth",
        params={
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": "s",
            "nonce": "n",
            "login_hint": teacher.sub,
        },
        timeout=30,
    )
    assert response.status_code == 400
    assert "not active" in response.text

"""Dynamic Registration end to end over HTTP (issue 5): an operator's one-time link, the
development LMS in its Moodle and Canvas flavours, then a launch through the new registration.
Failure answers from a misbehaving LMS are in tests/lti/test_dynamic_registration.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevCourse, DevLineItem, DevLink, DevTool, DevUser
from app.devlms.platform import line_item_url
from app.devlms.registration import activate_tool
from app.lti import registration_links
from app.lti.ags import Answer
from app.lti.models import Deployment, Registration
from tests.support.ags import ags_client, grade, score, token_cache
from tests.support.lms import LmsUser, bridge_data, forms, submit
from tests.support.registration import registration_token


def _link(live, *, auto_approve: bool = True) -> str:
    with get_db(live.tool).begin() as session:
        issued = registration_links.issue(
            session,
            label="District LMS",
            created_by="ops@example.org",
            auto_approve_deployments=auto_approve,
        )
        return issued.url(live.tool_url)


def _register(live, flavour: str, link_url: str) -> requests.Response:
    """What the LMS's iframe does: open the link with the LMS's parameters; the admin clicks
    Register."""
    configuration_url, token = registration_token(live, flavour)
    params = {"openid_configuration": configuration_url, "registration_token": token}
    page = requests.get(link_url, params=params, timeout=30)
    assert page.status_code == 200 and "Register Microcred" in page.text
    return requests.post(link_url, data=params, timeout=30)


def _place_in_course(live, client_id: str) -> int:
    """An instructor adds the new tool to the demo course (what "add activity" creates)."""
    with get_db(live.devlms).begin() as session:
        tool = session.scalars(select(DevTool).where(DevTool.client_id == client_id)).one()
        course = session.scalars(select(DevCourse)).one()
        link = DevLink(
            course_id=course.id,
            tool_id=tool.id,
            resource_link_id=uuid.uuid4().hex,
            title="Micro-credentials (registered dynamically)",
        )
        session.add(link)
        session.flush()
        return link.id


def _launch(live, link_id: int, email: str = "jordan.lee@example.edu") -> requests.Response:
    user = LmsUser(live, email)
    login = submit(user.http, live.devlms_url, user.initiation(f"/launch/link/{link_id}"))
    auth = user.http.get(bridge_data(login.text)["next"], timeout=30)
    return submit(user.http, auth.url, forms(auth.text)[0])


def _registration(live, client_id: str) -> Registration:
    with get_db(live.tool).begin() as session:
        return session.scalars(
            select(Registration).where(Registration.client_id == client_id)
        ).one()


def test_moodle_flavour_registers_pending_then_launches_once_activated(live):
    response = _register(live, "moodle", _link(live))
    assert response.status_code == 200, response.text
    assert "Microcred is registered" in response.text and "Activate" in response.text
    client_id = forms_value(response.text, "client-id")
    deployment_id = forms_value(response.text, "deployment-id")

    registration = _registration(live, client_id)
    assert (registration.issuer, registration.platform_family) == (live.devlms_url, "moodle")
    assert registration.auth_login_url.startswith(live.devlms_url)
    with get_db(live.tool).begin() as session:
        deployment = session.scalars(
            select(Deployment).where(Deployment.deployment_id == deployment_id)
        ).one()
        assert deployment.status == Deployment.ACTIVE
    with get_db(live.devlms).begin() as session:
        tool = session.scalars(select(DevTool).where(DevTool.client_id == client_id)).one()
        assert tool.status == "pending"  # Moodle: an admin must activate it
        tool_id = tool.id

    link_id = _place_in_course(live, client_id)
    # The LMS itself will not launch a pending tool: its authorization step refuses.
    user = LmsUser(live, "jordan.lee@example.edu")
    login = submit(user.http, live.devlms_url, user.initiation(f"/launch/link/{link_id}"))
    refused = user.http.get(bridge_data(login.text)["next"], timeout=30)
    assert refused.status_code == 400 and "not active in this LMS yet" in refused.text

    with get_db(live.devlms).begin() as session:
        activate_tool(session, tool_id)
    page = _launch(live, link_id)
    assert page.status_code == 200, page.text
    assert "Welcome, Jordan Lee" in page.text
    assert "jordan.lee@example.edu" in page.text  # email asked for in the registration's claims


def test_canvas_flavour_learns_the_deployment_at_the_first_launch(live):
    response = _register(live, "canvas", _link(live))
    assert response.status_code == 200, response.text
    assert "learned at the first launch" in response.text
    client_id = forms_value(response.text, "client-id")
    registration = _registration(live, client_id)
    assert registration.platform_family == "canvas"

    page = _launch(live, _place_in_course(live, client_id))
    assert page.status_code == 200, page.text
    assert "Welcome, Jordan Lee" in page.text and "jordan.lee@example.edu" in page.text
    with get_db(live.tool).begin() as session:
        deployments = session.scalars(
            select(Deployment).where(Deployment.registration_id == registration.id)
        ).all()
        assert [d.status for d in deployments] == [Deployment.ACTIVE]


def _graded_column(live, client_id: str) -> tuple[int, str, str]:
    """A graded column of the new tool in the demo course, as a graded activity creates it;
    return its id, its URL as launches give it, and Jordan Lee's ``sub``."""
    with get_db(live.devlms).begin() as session:
        tool = session.scalars(select(DevTool).where(DevTool.client_id == client_id)).one()
        tool.status = "active"  # Moodle: the admin activated it
        course = session.scalars(select(DevCourse)).one()
        item = DevLineItem(
            course_id=course.id, tool_id=tool.id, label="Micro-credential", score_maximum=100
        )
        session.add(item)
        session.flush()
        jordan = session.scalars(
            select(DevUser).where(DevUser.email == "jordan.lee@example.edu")
        ).one()
        return item.id, line_item_url(live.devlms_url, course.id, item.id, tool), jordan.sub


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_a_dynamically_registered_platform_takes_scores(live, flavour):
    """After Dynamic Registration the tool gets access tokens and sends grades. Canvas names
    its token endpoint's host as ``authorization_server``, a bare host, but its token endpoint
    takes only its own URL as a client assertion's ``aud``; Moodle names none."""
    response = _register(live, flavour, _link(live))
    assert response.status_code == 200, response.text
    registration = _registration(live, forms_value(response.text, "client-id"))
    item_id, item_url, jordan = _graded_column(live, registration.client_id)

    ags = ags_client(live, token_cache(live))
    try:
        outcome = ags.send_score(registration.id, item_url, score(jordan))
    finally:
        ags.close()
    assert outcome.answer is Answer.DELIVERED, outcome.reason
    cell = grade(live, item_id, jordan)
    assert cell is not None and cell.score_given == 80


def test_without_auto_approve_a_new_deployment_waits_for_the_operator(live):
    response = _register(live, "canvas", _link(live, auto_approve=False))
    client_id = forms_value(response.text, "client-id")
    refused = _launch(live, _place_in_course(live, client_id))
    assert refused.status_code == 403
    assert "is not approved yet" in refused.text


def test_a_reused_registration_link_gets_a_clear_page(live):
    link_url = _link(live)
    assert _register(live, "moodle", link_url).status_code == 200
    configuration_url, token = registration_token(live, "moodle")
    again = requests.get(
        link_url,
        params={"openid_configuration": configuration_url, "registration_token": token},
        timeout=30,
    )
    assert again.status_code == 410 and "already been used" in again.text


def test_an_expired_lms_registration_token_is_explained_and_nothing_is_kept(live):
    link_url = _link(live)
    configuration_url, token = registration_token(live, "canvas", lifetime=timedelta(seconds=-5))
    response = requests.post(
        link_url,
        data={"openid_configuration": configuration_url, "registration_token": token},
        timeout=30,
    )
    assert response.status_code == 400
    assert "refused the registration token" in response.text
    with get_db(live.tool).begin() as session:
        assert (
            session.scalars(select(Registration).where(Registration.source == "dynamic")).all()
            == []
        )
    # The link was not used up: the admin starts again from the LMS with a fresh token.
    assert _register(live, "canvas", link_url).status_code == 200


def test_a_configuration_url_on_another_host_than_its_issuer_is_refused(live):
    # The devlms on 127.0.0.1 names itself by its configured URL; reach it as "localhost".
    configuration_url, token = registration_token(live, "moodle")
    other_host = configuration_url.replace("127.0.0.1", "localhost")
    response = requests.post(
        _link(live),
        data={"openid_configuration": other_host, "registration_token": token},
        timeout=30,
    )
    assert response.status_code == 400
    assert "names another issuer" in response.text


def forms_value(html: str, field: str) -> str:
    import re

    match = re.search(rf'data-field="{field}">([^<]+)<', html)
    assert match, f"no {field} on the page"
    return match.group(1)


def test_a_reused_lms_registration_token_is_refused_and_nothing_is_kept(live):
    configuration_url, token = registration_token(live, "moodle")
    params = {"openid_configuration": configuration_url, "registration_token": token}
    assert requests.post(_link(live), data=params, timeout=30).status_code == 200
    again = requests.post(_link(live), data=params, timeout=30)  # a new link, the old token
    assert again.status_code == 400
    assert (
        "refused the registration token" in again.text or "refused the registration" in again.text
    )
    # The refusal is shown inside the LMS's frame: the LMS may frame the error page too.
    assert f"frame-ancestors 'self' {live.devlms_url}" in again.headers["Content-Security-Policy"]
    with get_db(live.tool).begin() as session:
        assert (
            len(session.scalars(select(Registration).where(Registration.source == "dynamic")).all())
            == 1
        )

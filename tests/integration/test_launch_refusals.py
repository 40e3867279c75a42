"""Launches the tool refuses, each with a 4xx page that says what failed and what to do."""

from __future__ import annotations

import base64
import json
from html import unescape

import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevTool
from app.lti.models import Deployment
from tests.support.lms import LmsUser, behave_like, bridge_data, forms, submit


def test_login_without_issuer_is_a_clear_400(live):
    response = requests.get(f"{live.tool_url}/lti/login", params={"login_hint": "x"}, timeout=30)
    assert response.status_code == 400
    assert "does not say which LMS" in response.text
    assert "request id" in response.text


def test_login_from_an_unknown_issuer_is_a_clear_400(live):
    response = requests.post(
        f"{live.tool_url}/lti/login",
        timeout=30,
        data={
            "iss": "https://unknown.example",
            "login_hint": "1",
            "target_link_uri": f"{live.tool_url}/lti/launch",
        },
    )
    assert response.status_code == 400
    assert "https://unknown.example" in response.text
    assert "register" in response.text


def test_login_with_a_foreign_target_link_uri_is_refused(live):
    educator = LmsUser(live, "jordan.lee@example.edu")
    form = educator.initiation(f"/launch/link/{educator.link_id('Microcred: welcome')}")
    form.fields["target_link_uri"] = "https://evil.example/phish"
    response = submit(educator.http, live.devlms_url, form)
    assert response.status_code == 400
    assert "not an address of this tool" in response.text


def test_login_redirects_with_every_parameter_moodle_requires(live):
    """LTI-CHECKLIST B: scope, response_type, response_mode, prompt, client_id, redirect_uri,
    login_hint, state, nonce, and lti_message_hint echoed unaltered."""
    educator = LmsUser(live, "jordan.lee@example.edu")
    form = educator.initiation(f"/launch/link/{educator.link_id('Microcred: welcome')}")
    response = educator.http.post(f"{live.tool_url}/lti/login", data=form.fields, timeout=30)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    from urllib.parse import parse_qs, urlsplit

    location = urlsplit(bridge_data(response.text)["next"])
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{live.devlms_url}/auth"
    assert params["scope"] == "openid" and params["response_type"] == "id_token"
    assert params["response_mode"] == "form_post" and params["prompt"] == "none"
    assert params["client_id"] == form.fields["client_id"]
    assert params["redirect_uri"] == f"{live.tool_url}/lti/launch"
    assert params["login_hint"] == form.fields["login_hint"]
    assert params["lti_message_hint"] == form.fields["lti_message_hint"]
    assert params["state"] and params["nonce"]


def test_login_also_accepts_get(live):
    educator = LmsUser(live, "jordan.lee@example.edu")
    form = educator.initiation(f"/launch/link/{educator.link_id('Microcred: welcome')}")
    response = educator.http.get(f"{live.tool_url}/lti/login", params=form.fields, timeout=30)
    assert response.status_code == 200
    assert bridge_data(response.text)["next"].startswith(f"{live.devlms_url}/auth?")


def _id_token_post(live, email="jordan.lee@example.edu"):
    user = LmsUser(live, email)
    form = user.initiation(f"/launch/link/{user.link_id('Microcred: welcome')}")
    login_page = submit(user.http, live.devlms_url, form)
    auth_page = user.http.get(bridge_data(login_page.text)["next"], timeout=30)
    return user, auth_page, forms(auth_page.text)[0]


def test_unknown_deployment_is_recorded_pending_and_refused_with_a_message(live):
    with get_db(live.devlms).begin() as session:
        session.scalars(select(DevTool)).one().deployment_id = "course-copy-7"
    user, auth_page, post = _id_token_post(live)
    response = submit(user.http, auth_page.url, post)
    assert response.status_code == 403
    assert "deployment course-copy-7 is not approved yet" in response.text
    assert "approve" in response.text
    with get_db(live.tool).begin() as session:
        row = session.scalars(
            select(Deployment).where(Deployment.deployment_id == "course-copy-7")
        ).one()
        assert row.status == Deployment.PENDING


def test_tampered_id_token_is_refused(live):
    user, auth_page, post = _id_token_post(live)
    header, body, signature = post.fields["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["name"] = "Someone Else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    post.fields["id_token"] = f"{header}.{forged}.{signature}"
    response = submit(user.http, auth_page.url, post)
    assert response.status_code == 400
    assert "signature" in response.text
    assert "Someone Else" not in response.text


def test_launch_from_a_browser_without_the_proof_is_offered_a_new_window(live):
    """Another browser (or one that keeps nothing in the frame) has neither the state cookie
    nor the login's proof: the launch is not finished there, and a new window is offered."""
    _user, auth_page, post = _id_token_post(live)
    stranger = requests.Session()
    bridge_page = submit(stranger, auth_page.url, post)
    assert bridge_page.status_code == 200
    assert bridge_data(bridge_page.text)["step"] == "launch"
    confirm = forms(bridge_page.text)[0]
    confirm.fields["proof"] = "not-the-proof"
    response = submit(stranger, bridge_page.url, confirm)
    assert response.status_code == 401
    assert "Open Microcred in a new window" in response.text
    assert "Welcome," not in response.text


def test_an_lms_refusal_posted_back_shows_the_lms_words_and_what_to_do(live):
    """Canvas answers a spent message hint by posting ``error`` and ``error_description`` (and
    the state) back to the launch URL (authentication_controller.rb): the tool shows a 4xx page
    with the LMS's own words, its code and what to do, not "missing id_token"."""
    behave_like(live, "canvas")
    user = LmsUser(live, "jordan.lee@example.edu")
    initiation = user.initiation(f"/launch/link/{user.link_id('Microcred: welcome')}")
    assert user.complete(initiation).status_code == 200  # the hint is spent
    refused = user.complete(initiation)  # the same login parameters again
    assert refused.status_code == 400
    text = unescape(refused.text)
    assert "Development LMS" in text  # who refused: the registration's name
    assert "The launch has either expired or already been consumed" in text
    assert "launch_no_longer_valid" in text
    assert "open the activity again" in text
    assert "id_token" not in text


def test_an_lms_asking_for_a_sign_in_is_explained(live):
    """``login_required`` (Canvas: no LMS session in this browser, or another person's):
    sign in to the LMS again, then open the activity."""
    user = LmsUser(live, "jordan.lee@example.edu")
    form = user.initiation(f"/launch/link/{user.link_id('Microcred: welcome')}")
    login_page = submit(user.http, live.devlms_url, form)
    state = bridge_data(login_page.text)["state"]
    response = user.http.post(
        f"{live.tool_url}/lti/launch",
        data={
            "error": "login_required",
            "error_description": "Must have an active user session",
            "state": state,
        },
        timeout=30,
    )
    assert response.status_code == 401
    assert "Must have an active user session" in response.text
    assert "Sign in to Development LMS again" in response.text


def test_an_error_post_outside_a_sign_in_does_not_repeat_its_words(live):
    """Anyone can post to the launch URL: words that no sign-in in progress stands behind are
    not shown as the LMS's."""
    response = requests.post(
        f"{live.tool_url}/lti/launch",
        data={
            "error": "login_required",
            "error_description": "Call 555-0100 to unlock your account",
            "state": "not-a-state",
        },
        timeout=30,
    )
    assert response.status_code == 400
    assert "555-0100" not in response.text
    assert "login_required" in response.text
    assert "open the activity again" in response.text


def test_launch_without_id_token_is_refused(live):
    response = requests.post(f"{live.tool_url}/lti/launch", data={"state": "x"}, timeout=30)
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_launch_as_json_client_gets_a_json_error(live):
    response = requests.post(
        f"{live.tool_url}/lti/launch", data={}, timeout=30, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "missing_state"
    assert error["request_id"] == response.headers["X-Request-Id"]


def test_a_platform_switched_off_by_an_operator_cannot_launch(live):
    from app.lti.models import Registration

    user, auth_page, post = _id_token_post(live)  # a sign-in started while it was on
    with get_db(live.tool).begin() as session:
        session.scalars(select(Registration)).one().is_active = False
    finished = submit(user.http, auth_page.url, post)
    assert finished.status_code == 403
    assert "switched off" in finished.text

    form = user.initiation(f"/launch/link/{user.link_id('Microcred: welcome')}")
    response = submit(user.http, live.devlms_url, form)
    assert response.status_code == 403
    assert "switched off" in response.text and "Development LMS" in response.text

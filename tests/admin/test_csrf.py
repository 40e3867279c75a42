"""Every POST to the console carries the session's CSRF token, checked in one place."""

from __future__ import annotations

import pytest

from app.admin import sessions
from tests.admin.console import (
    EMAIL,
    PASSWORD,
    add_pending_deployment,
    add_platform,
    create_operator,
    csrf,
    csrf_from,
    deployment_status,
    sign_in,
    signed_in_client,
)


def test_post_without_the_token_is_refused_with_a_message(app, operator_client):
    uuid = add_platform(app)
    add_pending_deployment(app, uuid, "7")
    response = operator_client.post(
        f"/admin/platforms/{uuid}/deployments",
        data={"deployment_id": "7", "decision": "approve"},
    )
    assert response.status_code == 403
    assert "security token" in response.text
    assert "reload the page" in response.text
    assert deployment_status(app, uuid, "7") == "pending"


def test_post_with_a_wrong_token_is_refused(app, operator_client):
    uuid = add_platform(app)
    response = operator_client.post(
        f"/admin/platforms/{uuid}/auto-approve",
        data={"csrf_token": "x" * 43, "enabled": "1"},
    )
    assert response.status_code == 403


def test_a_token_from_another_session_is_refused(app, operator_client):
    uuid = add_platform(app)
    other = app.test_client()

    sign_in(other)
    response = operator_client.post(
        f"/admin/platforms/{uuid}/auto-approve",
        data={"csrf_token": csrf(other), "enabled": "1"},
    )
    assert response.status_code == 403


def test_a_refusal_answers_json_to_json_callers(app, operator_client):
    response = operator_client.post(
        "/admin/sign-out", headers={"Accept": "application/json"}, data={}
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "csrf_failed"


def test_sign_in_form_is_protected_too(app):
    create_operator(app)
    client = app.test_client()
    client.get("/admin/sign-in")
    response = client.post("/admin/sign-in", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 403


def test_sign_in_without_the_cookie_says_to_allow_cookies(app):
    create_operator(app)
    page = app.test_client().get("/admin/sign-in")
    cookieless = app.test_client()
    response = cookieless.post(
        "/admin/sign-in",
        data={"csrf_token": csrf_from(page.text), "email": EMAIL, "password": PASSWORD},
    )
    assert response.status_code == 403
    assert "Allow cookies" in response.text


def test_sign_in_token_belongs_to_its_own_cookie(app):
    create_operator(app)
    first = app.test_client()
    token = csrf_from(first.get("/admin/sign-in").text)
    second = app.test_client()
    second.get("/admin/sign-in")
    response = second.post(
        "/admin/sign-in", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD}
    )
    assert response.status_code == 403


def test_the_token_changes_at_sign_in(app):
    create_operator(app)
    client = app.test_client()
    before = csrf_from(client.get("/admin/sign-in").text)
    client.post("/admin/sign-in", data={"csrf_token": before, "email": EMAIL, "password": PASSWORD})
    assert csrf(client) != before


@pytest.mark.parametrize("cookie", ["", "short", "x" * 200])
def test_a_malformed_cookie_is_treated_as_none(app, cookie):
    client = signed_in_client(app)
    client.set_cookie(sessions.COOKIE_NAME, cookie, path="/admin")
    assert client.get("/admin/").status_code == 303

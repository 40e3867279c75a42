"""Signing in to the console: sessions, lockout, sign-out, timeouts."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from app import create_app
from app.admin import passwords, sessions
from app.admin.models import Operator
from app.db import get_db, utcnow
from app.lti.models import LtiState
from tests.admin.console import (
    EMAIL,
    PASSWORD,
    create_operator,
    csrf_from,
    events,
    sign_in,
)


def _cookie(client):
    cookie = client.get_cookie(sessions.COOKIE_NAME, path="/admin")
    return cookie.value if cookie else None


def test_sign_in_opens_the_console(app):
    create_operator(app)
    client = app.test_client()
    response = sign_in(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Signed in as Ada Lovelace" in page.text


def test_session_cookie_is_httponly_lax_and_scoped_to_the_console(app):
    create_operator(app)
    response = sign_in(app.test_client())
    header = response.headers["Set-Cookie"]
    assert header.startswith(f"{sessions.COOKIE_NAME}=")
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/admin" in header
    assert "Secure" not in header  # the tool is served over http in these tests


def test_session_cookie_is_secure_when_the_tool_is_served_over_https(settings_override):
    secure = create_app({**settings_override, "MICROCRED_BASE_URL": "https://tool.example.org"})
    try:
        create_operator(secure)
        client = secure.test_client()
        page = client.get("/admin/sign-in", base_url="https://tool.example.org")
        response = client.post(
            "/admin/sign-in",
            base_url="https://tool.example.org",
            data={"csrf_token": csrf_from(page.text), "email": EMAIL, "password": PASSWORD},
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["Set-Cookie"]
    finally:
        secure.extensions["db"].dispose()


def test_sign_in_issues_a_new_session_id(app):
    create_operator(app)
    client = app.test_client()
    page = client.get("/admin/sign-in")
    visitor_id = _cookie(client)
    assert visitor_id
    client.post(
        "/admin/sign-in",
        data={"csrf_token": csrf_from(page.text), "email": EMAIL, "password": PASSWORD},
    )
    signed_in_id = _cookie(client)
    assert signed_in_id and signed_in_id != visitor_id

    # The id known before sign-in does not open the console.
    other = app.test_client()
    other.set_cookie(sessions.COOKIE_NAME, visitor_id, path="/admin")
    assert other.get("/admin/").status_code == 303


def test_sign_in_goes_back_to_the_page_asked_for(app):
    create_operator(app)
    client = app.test_client()
    redirect = client.get("/admin/audit")
    assert redirect.headers["Location"] == "/admin/sign-in?next=/admin/audit"
    page = client.get(redirect.headers["Location"])
    response = client.post(
        "/admin/sign-in",
        data={
            "csrf_token": csrf_from(page.text),
            "email": EMAIL,
            "password": PASSWORD,
            "next": "/admin/audit",
        },
    )
    assert response.headers["Location"] == "/admin/audit"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/admin", "/admin/../evil", "/elsewhere"]
)
def test_sign_in_never_sends_the_browser_outside_the_console(app, target):
    create_operator(app)
    client = app.test_client()
    page = client.get("/admin/sign-in")
    response = client.post(
        "/admin/sign-in",
        data={
            "csrf_token": csrf_from(page.text),
            "email": EMAIL,
            "password": PASSWORD,
            "next": target,
        },
    )
    assert response.headers["Location"] == "/admin/"


def test_wrong_password_is_refused_with_a_message(app):
    create_operator(app)
    response = sign_in(app.test_client(), password="not the password")
    assert response.status_code == 401
    assert "The email or password is not right." in response.text
    assert 'role="alert"' in response.text
    assert 'value="ada@example.org"' in response.text  # the email is kept, the password not


def test_unknown_email_gets_the_same_answer(app):
    create_operator(app)
    known = sign_in(app.test_client(), password="not the password")
    unknown = sign_in(app.test_client(), email="eve@example.org", password="not the password")
    assert unknown.status_code == known.status_code == 401
    assert "The email or password is not right." in unknown.text


def test_inactive_operator_cannot_sign_in(app):
    operator_id = create_operator(app)
    with get_db(app).begin() as session:
        session.get(Operator, operator_id).is_active = False
    assert sign_in(app.test_client()).status_code == 401


def test_fifth_failure_pauses_sign_in_even_with_the_right_password(app):
    create_operator(app)
    client = app.test_client()
    statuses = [sign_in(client, password=f"wrong password {i}").status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    response = sign_in(client)
    assert response.status_code == 429
    assert "paused for 15 minutes" in response.text


def test_lockout_is_recorded_in_the_audit_log(app):
    create_operator(app)
    client = app.test_client()
    for i in range(5):
        sign_in(client, password=f"wrong password {i}")
    (event,) = events(app, "operator.locked_out")
    assert (event.actor, event.target) == ("anonymous", "operator:ada@example.org")


def test_lockout_applies_to_unknown_emails_too(app):
    client = app.test_client()
    statuses = [
        sign_in(client, email="eve@example.org", password=f"wrong {i}").status_code
        for i in range(5)
    ]
    assert statuses[-1] == 429
    assert events(app, "operator.locked_out") == []


def test_lockout_is_per_email(app):
    create_operator(app)
    create_operator(app, email="grace@example.org")
    client = app.test_client()
    for i in range(5):
        sign_in(client, password=f"wrong password {i}")
    assert sign_in(app.test_client(), email="grace@example.org").status_code == 303


def test_success_clears_earlier_failures(app):
    create_operator(app)
    client = app.test_client()
    for i in range(4):
        sign_in(client, password=f"wrong password {i}")
    assert sign_in(client).status_code == 303
    other = app.test_client()
    assert [sign_in(other, password=f"wrong {i}").status_code for i in range(4)] == [401] * 4


def test_sign_in_is_recorded_and_dated(app):
    operator_id = create_operator(app)
    sign_in(app.test_client())
    (event,) = events(app, "operator.signed_in")
    assert (event.actor, event.operator_id) == (EMAIL, operator_id)
    with get_db(app).begin() as session:
        assert session.get(Operator, operator_id).last_signed_in_at is not None


def test_sign_in_replaces_a_hash_made_with_old_parameters(app):
    """With the production parameters, which the rest of the suite does not pay for."""
    operator_id = create_operator(app)
    old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with get_db(app).begin() as session:
        session.get(Operator, operator_id).password_hash = old
    with passwords.hashing_with(passwords.PRODUCTION):
        assert sign_in(app.test_client()).status_code == 303
    with get_db(app).begin() as session:
        stored = session.get(Operator, operator_id).password_hash
    assert stored != old
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_signed_in_operator_visiting_sign_in_goes_to_the_console(operator_client):
    response = operator_client.get("/admin/sign-in")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"


def test_sign_out_ends_the_session(app, operator_client):
    session_id = _cookie(operator_client)
    page = operator_client.get("/admin/")
    response = operator_client.post("/admin/sign-out", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/sign-in?signed_out=1"
    assert operator_client.get("/admin/").status_code == 303
    # A copy of the old cookie does not work either.
    copy = app.test_client()
    copy.set_cookie(sessions.COOKIE_NAME, session_id, path="/admin")
    assert copy.get("/admin/").status_code == 303
    assert events(app)[-1].action == "operator.signed_out"


def test_session_ends_after_eight_idle_hours(app, operator_client):
    assert sessions.IDLE_SECONDS == 8 * 3600
    # The store keeps a session for IDLE_SECONDS after its last use: make that time pass.
    with get_db(app).begin() as session:
        session.execute(
            update(LtiState)
            .where(LtiState.key.startswith(sessions.KEY_PREFIX))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert operator_client.get("/admin/").status_code == 303


def _stored(app, client):
    store = app.extensions["lti"].store
    key = sessions.KEY_PREFIX + hashlib.sha256(_cookie(client).encode()).hexdigest()
    return store, key


def test_use_pushes_the_idle_deadline_back(app, operator_client):
    store, key = _stored(app, operator_client)
    value = store.get(key)
    # As if the last use were two minutes ago, with ten minutes left.
    value["refreshed_at"] -= 120
    store.put(key, value, 600)
    assert operator_client.get("/admin/").status_code == 200
    with get_db(app).begin() as session:
        expires_at = session.scalars(select(LtiState.expires_at).where(LtiState.key == key)).one()
    assert expires_at > utcnow() + timedelta(hours=7)


def test_session_ends_a_day_after_sign_in_however_busy(app, operator_client):
    store, key = _stored(app, operator_client)
    value = store.get(key)
    value["signed_in_at"] -= sessions.MAX_SECONDS + 1
    store.put(key, value, sessions.IDLE_SECONDS)
    assert operator_client.get("/admin/").status_code == 303


def test_new_password_ends_open_sessions(app, operator_client):
    result = app.test_cli_runner().invoke(
        args=["operator", "set-password", "--email", EMAIL, "--password-stdin"],
        input="another long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert operator_client.get("/admin/").status_code == 303


def test_deactivated_operator_is_signed_out(app, operator_client):
    with get_db(app).begin() as session:
        session.execute(update(Operator).values(is_active=False))
    assert operator_client.get("/admin/").status_code == 303


def test_sessions_and_lockout_work_with_the_redis_state_store(settings_override, redis_url):
    """The scaled shape: every instance sees the same sessions and the same failures."""
    overrides = {
        **settings_override,
        "MICROCRED_STATE_STORE": "redis",
        "MICROCRED_REDIS_URL": redis_url,
    }
    one, two = create_app(overrides), create_app(overrides)
    try:
        create_operator(one)
        client = one.test_client()
        assert sign_in(client).status_code == 303
        # Another instance knows the session…
        elsewhere = two.test_client()
        elsewhere.set_cookie(sessions.COOKIE_NAME, _cookie(client), path="/admin")
        assert elsewhere.get("/admin/").status_code == 200
        # …and counts failures made on the first.
        for i in range(5):
            sign_in(one.test_client(), password=f"wrong password {i}")
        assert sign_in(two.test_client()).status_code == 429
    finally:
        for app in (one, two):
            app.extensions["lti"].store.close()
            app.extensions["db"].dispose()

"""The launch bridge at the HTTP level (LTI-CHECKLIST C): a launch whose state cookie did not
come back is finished by the browser's proof, once; without it a new window is offered, and the
new window works. The test plays the part of the bridge's JavaScript (the browser tests run the
real script): it reads the proof the login page handed the browser and posts it back."""

from __future__ import annotations

from urllib.parse import urljoin

import requests

from tests.support.lms import LmsUser, bridge_data, field, forms, submit


def _launch_without_cookies(live, email="jordan.lee@example.edu"):
    """Run a launch whose browser drops the tool's cookies (as a blocking iframe does)."""
    user = LmsUser(live, email)
    initiation = user.initiation(f"/launch/link/{user.link_id('Microcred: welcome')}")
    login_page = submit(user.http, live.devlms_url, initiation)
    proof = bridge_data(login_page.text)["proof"]
    user.http.cookies.clear(
        domain="127.0.0.1",
        path="/",
        name=next(c.name for c in user.http.cookies if c.name.startswith("lti1p3-state")),
    )
    auth_page = user.http.get(bridge_data(login_page.text)["next"], timeout=30)
    bridge_page = submit(user.http, auth_page.url, forms(auth_page.text)[0])
    return user, proof, bridge_page


def test_launch_without_the_cookie_is_finished_by_the_browsers_proof(live):
    user, proof, bridge_page = _launch_without_cookies(live)
    assert bridge_data(bridge_page.text)["step"] == "launch"
    confirm = forms(bridge_page.text)[0]
    confirm.fields.update(proof=proof, method="session_storage")
    home = submit(user.http, bridge_page.url, confirm)
    assert home.status_code == 200, home.text
    assert field(home.text, "name") == "Jordan Lee"
    assert "/activity?lt=" in home.url


def test_a_pending_launch_is_finished_once(live):
    user, proof, bridge_page = _launch_without_cookies(live)
    confirm = forms(bridge_page.text)[0]
    confirm.fields.update(proof=proof, method="session_storage")
    assert submit(user.http, bridge_page.url, confirm).status_code == 200
    again = submit(user.http, bridge_page.url, confirm)
    assert again.status_code == 400
    assert "already finished" in again.text


def test_without_proof_a_new_window_is_offered_and_it_works(live):
    user, _proof, bridge_page = _launch_without_cookies(live)
    offer = submit(user.http, bridge_page.url, forms(bridge_page.text)[0])
    assert offer.status_code == 401
    link = next(
        part.split('"')[0]
        for part in offer.text.split('href="')[1:]
        if "/lti/login?" in part.split('"')[0]
    )
    from html import unescape

    # The new window: a top-level page of its own (here, a fresh HTTP session keeps cookies).
    window = requests.Session()
    window.cookies.update({c.name: c.value for c in user.http.cookies if "devlms" in c.name})
    login_page = window.get(urljoin(live.tool_url, unescape(link)), timeout=30)
    auth_page = window.get(bridge_data(login_page.text)["next"], timeout=30)
    home = submit(window, auth_page.url, forms(auth_page.text)[0])
    assert home.status_code == 200, home.text
    assert field(home.text, "name") == "Jordan Lee"


def test_bridge_page_names_the_platform_storage_when_the_lms_offers_it(live):
    user = LmsUser(live, "jordan.lee@example.edu")
    initiation = user.initiation(f"/launch/link/{user.link_id('Microcred: welcome')}")
    initiation.fields["lti_storage_target"] = "_parent"
    login_page = submit(user.http, live.devlms_url, initiation)
    data = bridge_data(login_page.text)
    assert data["storage_target"] == "_parent"
    assert data["storage_origin"] == live.devlms_url  # the OIDC auth endpoint's origin


def test_login_bridge_sets_the_state_cookie_partitioned_over_https(app):
    """LTI-CHECKLIST C: SameSite=None; Secure; Partitioned when served over HTTPS."""
    from app.db import get_db
    from app.lti.registrations import register_platform

    https_app_settings = app.config["MICROCRED_SETTINGS"]
    assert https_app_settings  # the app fixture, re-created below for an https origin
    from app import create_app

    overrides = {
        "MICROCRED_BASE_URL": "https://tool.example.org",
        "MICROCRED_DATABASE_URL": https_app_settings.database_url,
        "MICROCRED_SECRET_KEY": https_app_settings.secret_key,
        "MICROCRED_INSTANCE_PATH": str(https_app_settings.instance_path),
    }
    secure_app = create_app(overrides)
    with get_db(secure_app).begin() as session:
        register_platform(
            session,
            name="LMS",
            issuer="https://lms.example",
            client_id="c",
            auth_login_url="https://lms.example/auth",
            auth_token_url="https://lms.example/token",
            key_set_url="https://lms.example/jwks",
            active_deployment_ids=["1"],
        )
    client = secure_app.test_client()
    response = client.post(
        "/lti/login",
        base_url="https://tool.example.org",
        data={
            "iss": "https://lms.example",
            "login_hint": "u1",
            "client_id": "c",
            "target_link_uri": "https://tool.example.org/lti/launch",
        },
    )
    assert response.status_code == 200
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("lti1p3-state"))
    assert "SameSite=None" in cookie and "Secure" in cookie and "Partitioned" in cookie
    assert "HttpOnly" in cookie
    secure_app.extensions["db"].dispose()

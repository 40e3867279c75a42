"""The launch bridge at the HTTP level (LTI-CHECKLIST C): a launch whose state cookie did not
come back is finished by the browser's proof, once; without it a new window is offered, which
starts a *fresh* launch at the LMS (message hints are single use: reference/moodle-as-it-is.md
item 1, canvas-as-it-is.md "One-shot launch"), and the new window works. The test plays the part
of the bridge's JavaScript (the browser tests run the real script): it reads the proof the login
page handed the browser and posts it back."""

from __future__ import annotations

import json
import re
from html import unescape

import requests

from tests.support.lms import (
    LmsUser,
    behave_like,
    bridge_data,
    complete_launch,
    field,
    forms,
    resource_link_id,
    submit,
    with_landing_address,
)

WELCOME = "Microcred: welcome"


def _launch_without_cookies(live, email="jordan.lee@example.edu"):
    """Run a launch whose browser drops the tool's cookies (as a blocking iframe does)."""
    user = LmsUser(live, email)
    initiation = user.initiation(f"/launch/link/{user.link_id(WELCOME)}")
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


def _new_window_offer(live):
    """The page a launch without the browser's proof ends on."""
    user, _proof, bridge_page = _launch_without_cookies(live)
    offer = submit(user.http, bridge_page.url, forms(bridge_page.text)[0])
    assert offer.status_code == 401
    assert "Microcred needs its own window" in offer.text
    return user, offer


def _attribute(html: str, element_id: str, name: str) -> str:
    tag = re.search(rf'<[^>]*\bid="{element_id}"[^>]*>', html)
    assert tag, f"no element #{element_id}"
    value = re.search(rf"""\b{name}=(?:"([^"]*)"|'([^']*)')""", tag.group(0))
    assert value, f"#{element_id} has no {name}"
    return unescape(value.group(1) if value.group(1) is not None else value.group(2))


def test_launch_without_the_cookie_is_finished_by_the_browsers_proof(live):
    user, proof, bridge_page = _launch_without_cookies(live)
    assert bridge_data(bridge_page.text)["step"] == "launch"
    confirm = forms(bridge_page.text)[0]
    confirm.fields.update(proof=proof, method="session_storage")
    # The page gives itself its address by script, as the browser's address bar shows it.
    home = with_landing_address(submit(user.http, bridge_page.url, confirm))
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


def test_moodle_new_window_opens_the_activitys_launch_page_which_works(live):
    """Moodle: the activity's own launch page (its cmid is in Moodle's message hint), opened
    top-level, starts a fresh launch first-party."""
    user, offer = _new_window_offer(live)
    link_id = user.link_id(WELCOME)
    href = _attribute(offer.text, "open-new-window", "href")
    assert href == f"{live.devlms_url}/mod/lti/launch.php?id={link_id}"
    assert _attribute(offer.text, "open-new-window", "target") == "_blank"

    # The new window: a top-level page of its own, where the browser keeps the tool's cookie.
    window = requests.Session()
    window.cookies.update({c.name: c.value for c in user.http.cookies if "devlms" in c.name})
    page = window.get(href, timeout=30)
    home = complete_launch(window, live, forms(page.text)[0])
    assert home.status_code == 200, home.text
    assert field(home.text, "name") == "Jordan Lee"


def test_canvas_new_window_asks_canvas_for_a_full_window_launch(live):
    """Canvas: the requestFullWindowLaunch message to the frame's parent (doc/api/
    lti_window_post_message.md), with the target link, the resource link, and the placement
    when the launch named one."""
    behave_like(live, "canvas")
    _user, offer = _new_window_offer(live)
    message = json.loads(_attribute(offer.text, "open-new-window", "data-full-window-launch"))
    assert message == {
        "subject": "requestFullWindowLaunch",
        "data": {
            "url": f"{live.tool_url}/lti/launch",
            "launchType": "new_window",
            "resource_link_id": resource_link_id(live, WELCOME),
        },
    }
    assert 'src="/lti/static/lti/new-window.js"' in offer.text


def test_other_lms_new_window_offer_says_honestly_what_to_do(live):
    """An LMS with no known way to start a launch again: back to the course (the launch's
    return URL), and what to change if this page comes back."""
    behave_like(live, "moodle", family="generic")
    user, offer = _new_window_offer(live)
    assert 'id="open-new-window"' not in offer.text
    back = _attribute(offer.text, "back-to-course", "href")
    assert back == f"{live.devlms_url}/courses/{user.course_id()}"
    assert _attribute(offer.text, "back-to-course", "target") == "_top"
    assert "allow cookies" in offer.text


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

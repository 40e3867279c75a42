"""The post-launch session token (LTI-CHECKLIST C): carried by links, forms and headers, not
cookies; bound to the launch; sliding expiry; state changes only with the token in the body or
a header."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.conftest import TEST_SECRET
from tests.support.lms import LmsUser, field


@pytest.fixture
def launched(live):
    page = LmsUser(live, "jordan.lee@example.edu").launch()
    assert page.status_code == 200
    token = parse_qs(urlsplit(page.url).query)["lt"][0]
    return page, token


def test_launch_answers_with_its_page_whose_address_carries_a_session_token(live, launched):
    """The launch answers with the activity's page (no 303 to it): the page gives itself the
    activity's address with a session token (``complete_launch`` sets it as the browser's)."""
    page, token = launched
    assert page.history == [] and urlsplit(page.request.url).path == "/lti/launch"
    assert urlsplit(page.url).path == "/activity"
    assert token
    # Reloading the page asks for the page at that address, with no cookie.
    again = requests.get(page.url, timeout=30)
    assert again.status_code == 200 and "Welcome, Jordan Lee" in again.text


def test_home_page_works_with_the_token_and_no_cookies(live, launched):
    _page, token = launched
    fresh = requests.get(f"{live.tool_url}/home", params={"lt": token}, timeout=30)
    assert fresh.status_code == 200
    assert field(fresh.text, "name") == "Jordan Lee"


def test_home_page_without_a_token_asks_to_launch_again(live):
    page = requests.get(f"{live.tool_url}/home", timeout=30)
    assert page.status_code == 401
    assert "Open the activity again from your course page" in page.text


def test_tampered_token_is_refused(live, launched):
    _page, token = launched
    page = requests.get(f"{live.tool_url}/home", params={"lt": token[:-3] + "abc"}, timeout=30)
    assert page.status_code == 401
    assert "not valid" in page.text


def _resign(token: str, changes: dict, age_seconds: int = 0) -> str:
    serializer = URLSafeTimedSerializer(TEST_SECRET, salt="microcred-launch-session")
    claims = serializer.loads(token)
    claims.update(changes)

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_seconds

    return URLSafeTimedSerializer(
        TEST_SECRET, salt="microcred-launch-session", signer=PastSigner
    ).dumps(claims)


def test_token_idle_for_more_than_two_hours_has_expired(live, launched):
    _page, token = launched
    page = requests.get(
        f"{live.tool_url}/home", params={"lt": _resign(token, {}, 2 * 3600 + 5)}, timeout=30
    )
    assert page.status_code == 401
    assert "timed out" in page.text


@pytest.mark.parametrize(
    "changes",
    [
        {"u": "someone-else"},
        {"c": "another-course"},
        {"ro": "0" * 16},
        {"d": "99"},
        {"k": "another-link"},
    ],
)
def test_token_bound_to_its_launch(live, launched, changes):
    _page, token = launched
    page = requests.get(f"{live.tool_url}/home", params={"lt": _resign(token, changes)}, timeout=30)
    assert page.status_code == 401
    assert "does not match its launch" in page.text


def test_scripted_calls_use_the_authorization_header(live, launched):
    _page, token = launched
    answer = requests.get(
        f"{live.tool_url}/api/session", timeout=30, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["user"]["name"] == "Jordan Lee" and body["roles"] == ["Learner"]


def test_api_without_a_token_is_a_json_401(live):
    answer = requests.get(f"{live.tool_url}/api/session", timeout=30)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "session_ended"


def test_state_change_with_the_token_only_in_the_url_is_refused(live, launched):
    """CSRF without cookies: a token in a URL never authorises a change."""
    _page, token = launched
    answer = requests.post(f"{live.tool_url}/api/session/refresh", params={"lt": token}, timeout=30)
    assert answer.status_code == 401


@pytest.mark.parametrize("how", ["form", "header"])
def test_state_change_with_the_token_in_the_body_or_header_works(live, launched, how):
    _page, token = launched
    kwargs = (
        {"data": {"lt": token}}
        if how == "form"
        else {"headers": {"Authorization": f"Bearer {token}"}}
    )
    answer = requests.post(f"{live.tool_url}/api/session/refresh", timeout=30, **kwargs)
    assert answer.status_code == 200
    fresh = answer.json()["token"]
    assert requests.get(f"{live.tool_url}/home", params={"lt": fresh}, timeout=30).ok

"""The tool and the development LMS over HTTPS on loopback (``live_https``, a test CA): launches
and service calls work with every certificate verified, in both directions: the tool fetches
the LMS's key set and asks its token endpoint, the LMS fetches the tool's key set."""

from __future__ import annotations

import certifi
import pytest
import requests

from app.lti.ags import SCORE_SCOPES, Answer
from tests.support.ags import ags_client, demo_gradebook, grade, score, token_cache
from tests.support.lms import LmsUser, field
from tests.support.services import tool_nrps_call


def test_both_servers_serve_https_and_the_tool_knows_its_https_origin(live_https):
    assert live_https.tool_url.startswith("https://127.0.0.1:")
    assert live_https.devlms_url.startswith("https://127.0.0.1:")
    settings = live_https.tool.config["MICROCRED_SETTINGS"]
    assert settings.base_url == live_https.tool_url
    assert live_https.tool.config["SESSION_COOKIE_SECURE"] is True


def test_learner_launch_over_https_shows_who_launched(live_https):
    educator = LmsUser(live_https, "jordan.lee@example.edu")
    page = educator.launch()
    assert page.status_code == 200, page.text
    assert page.url.startswith(live_https.tool_url)
    assert field(page.text, "name") == "Jordan Lee"
    assert field(page.text, "role") == "Learner"


def test_the_tool_gets_a_token_and_the_roster_over_https(live_https):
    """The tool's client assertion goes to the LMS's token endpoint, which verifies it with the
    tool's key set fetched over HTTPS; then the roster call itself."""
    roster = tool_nrps_call(live_https)
    assert "Jordan Lee" in {member["name"] for member in roster["members"]}


def test_a_client_that_does_not_trust_the_test_ca_is_refused(live_https):
    """Certificates are really verified: without the test CA the tool's key set is out of
    reach."""
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(
            f"{live_https.tool_url}/.well-known/jwks.json", verify=certifi.where(), timeout=30
        )


def test_the_test_ca_verifies_the_tool(live_https):
    response = requests.get(
        f"{live_https.tool_url}/.well-known/jwks.json", verify=str(live_https.ca_cert), timeout=30
    )
    assert response.status_code == 200
    assert response.json()["keys"]


def test_a_score_reaches_the_lms_gradebook_over_https(live_https):
    """Scores go straight through urllib3 (not requests): the certificate is verified against
    the same CA bundle requests would use (``REQUESTS_CA_BUNDLE``)."""
    gradebook = demo_gradebook(live_https)
    client = ags_client(live_https, token_cache(live_https))
    jordan = gradebook.subs["jordan.lee@example.edu"]
    try:
        outcome = client.send_score(
            gradebook.registration_id, gradebook.line_item_url, score(jordan)
        )
    finally:
        client.close()
    assert outcome.answer is Answer.DELIVERED
    assert grade(live_https, gradebook.line_item_id, jordan).score_given == 80


def test_a_score_to_an_lms_whose_certificate_is_not_trusted_is_retry(live_https, monkeypatch):
    gradebook = demo_gradebook(live_https)
    tokens = token_cache(live_https)
    tokens.token(gradebook.registration_id, SCORE_SCOPES)  # while the test CA is trusted
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    client = ags_client(live_https, tokens)
    jordan = gradebook.subs["jordan.lee@example.edu"]
    try:
        outcome = client.send_score(
            gradebook.registration_id, gradebook.line_item_url, score(jordan)
        )
    finally:
        client.close()
    assert outcome.answer is Answer.RETRY and outcome.status is None
    assert outcome.reason == "The tool could not reach the LMS (SSLError); the tool will try again."
    assert grade(live_https, gradebook.line_item_id, jordan) is None

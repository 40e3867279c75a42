"""What the tool issues, checked by the official validators (issue 11): every OB 3.0 credential
verifies in the Digital Credentials Consortium verifier (did:web over HTTPS on loopback with a
test CA), every OB 2.0 assertion and baked PNG validates in 1EdTech's ``openbadges``; a tampered
credential fails; a revoked one is reported revoked by both; the recipient hash matches the
educator's email."""

from __future__ import annotations

import json

import pytest
import requests

from app.admin.services import CLI_ACTOR
from app.badges import services
from app.catalog.authoring import Rights
from app.db import get_db
from tests.badges.support import EMAIL, earn
from tests.support.validators import verify_ob2, verify_ob3

OPERATOR = Rights(actor=CLI_ACTOR, is_operator=True, roles={})


@pytest.fixture
def issued(live_https, validators):
    """An educator's earned badge, issued by the tool served over HTTPS."""
    return earn(live_https.tool)


def _revoke(live, public_id: str) -> None:
    with get_db(live.tool).begin() as session:
        services.revoke(session, public_id, "The evidence was not the educator's own.", OPERATOR)


def test_an_issued_credential_verifies_in_the_dcc_verifier(live_https, issued):
    result = verify_ob3(issued.credential_json, ca_cert=live_https.ca_cert)
    assert result.ok, result
    assert result.steps["valid_signature"] == "ok"
    assert result.steps["revocation_status"] == "ok"
    assert issued.credential_json["issuer"]["id"].startswith("did:web:127.0.0.1%3A")


def test_a_tampered_credential_fails_in_the_dcc_verifier(live_https, issued):
    tampered = json.loads(json.dumps(issued.credential_json))
    tampered["credentialSubject"]["achievement"]["name"] = "Master Teacher"
    result = verify_ob3(tampered, ca_cert=live_https.ca_cert)
    assert not result.ok
    assert "invalid_signature" in result.steps or result.steps.get("valid_signature") == "FAIL"


def test_a_revoked_credential_is_reported_revoked_by_the_dcc_verifier(live_https, issued):
    _revoke(live_https, issued.public_id)
    result = verify_ob3(issued.credential_json, ca_cert=live_https.ca_cert)
    assert not result.ok
    assert result.steps["revocation_status"] == "FAIL"
    assert result.steps["valid_signature"] == "ok"


def test_a_credential_signed_by_a_rotated_key_still_verifies(live_https, issued):
    from app.badges import identity
    from app.catalog.models import Organisation

    with get_db(live_https.tool).begin() as session:
        organisation = session.get_one(Organisation, issued.organisation_id)
        identity.rotate(
            session,
            organisation,
            services.signer_of(live_https.tool).cipher,
            actor="cli",
        )
    newer = earn(live_https.tool, sub="educator-2", email="bo@example.edu")
    assert newer.issuer_key_id != issued.issuer_key_id
    for award in (issued, newer):
        result = verify_ob3(award.credential_json, ca_cert=live_https.ca_cert)
        assert result.ok, result


def test_the_downloaded_json_verifies_in_the_dcc_verifier(live_https, issued):
    body = requests.get(
        f"{live_https.tool_url}/badges/{issued.public_id}/credential.json", timeout=30
    ).json()
    assert verify_ob3(body, ca_cert=live_https.ca_cert).ok


def test_the_hosted_ob2_assertion_validates_for_the_educators_email(live_https, issued):
    url = f"{live_https.tool_url}/ob2/assertions/{issued.public_id}"
    result = verify_ob2(url, recipient=EMAIL, ca_cert=live_https.ca_cert)
    assert result.ok, result


def test_the_ob2_assertion_does_not_validate_for_another_email(live_https, issued):
    url = f"{live_https.tool_url}/ob2/assertions/{issued.public_id}"
    result = verify_ob2(url, recipient="someone.else@example.edu", ca_cert=live_https.ca_cert)
    assert not result.ok


def test_a_revoked_ob2_assertion_does_not_validate(live_https, issued):
    _revoke(live_https, issued.public_id)
    url = f"{live_https.tool_url}/ob2/assertions/{issued.public_id}"
    result = verify_ob2(url, ca_cert=live_https.ca_cert)
    assert not result.ok
    gone = requests.get(url, timeout=30)
    assert gone.status_code == 410 and gone.json()["revoked"] is True


def test_the_baked_png_validates_in_the_ob2_validator(live_https, issued, tmp_path):
    png = requests.get(f"{live_https.tool_url}/badges/{issued.public_id}/badge.png", timeout=30)
    path = tmp_path / "badge.png"
    path.write_bytes(png.content)
    result = verify_ob2(path, recipient=EMAIL, ca_cert=live_https.ca_cert)
    assert result.ok, result


def test_a_milestone_credential_verifies_too(live_https, validators):
    from tests.badges.support import add_educator, awards, decide_attempt, load_sample, process

    app = live_https.tool
    load_sample(app)
    _registration, user_id = add_educator(app)
    for slug in (
        "questioning-to-check-for-understanding",
        "feedback-that-moves-learning-forward",
        "data-informed-small-group-instruction",
    ):
        decide_attempt(app, user_id, slug)
    process(app)
    (milestone,) = [a for a in awards(app) if a.stack_id is not None]
    result = verify_ob3(milestone.credential_json, ca_cert=live_https.ca_cert)
    assert result.ok, result


@pytest.fixture
def nameless(live_https, validators):
    """An educator's badge issued without their name (issue 23 item 6): the educator chose to
    leave it out, so the credential identifies them only by the salted hash of their email."""
    from app.lti.models import LtiUser
    from tests.badges.support import add_educator, awards, decide_attempt, load_sample, process

    app = live_https.tool
    load_sample(app)
    _registration, user_id = add_educator(app)
    with get_db(app).begin() as session:
        session.get_one(LtiUser, user_id).name_in_badges = False
    attempt_id = decide_attempt(app, user_id)
    process(app)
    (award,) = awards(app, attempt_id=attempt_id)
    identifiers = award.credential_json["credentialSubject"]["identifier"]
    assert [i["identityType"] for i in identifiers] == ["emailAddress"]
    return award


def test_a_credential_without_the_name_verifies_in_the_dcc_verifier(live_https, nameless):
    result = verify_ob3(nameless.credential_json, ca_cert=live_https.ca_cert)
    assert result.ok, result
    assert result.steps["valid_signature"] == "ok"


def test_the_ob2_assertion_of_a_nameless_badge_validates_for_the_educators_email(
    live_https, nameless
):
    url = f"{live_https.tool_url}/ob2/assertions/{nameless.public_id}"
    result = verify_ob2(url, recipient=EMAIL, ca_cert=live_https.ca_cert)
    assert result.ok, result


def test_the_baked_png_of_a_nameless_badge_validates(live_https, nameless, tmp_path):
    png = requests.get(f"{live_https.tool_url}/badges/{nameless.public_id}/badge.png", timeout=30)
    path = tmp_path / "badge.png"
    path.write_bytes(png.content)
    result = verify_ob2(path, recipient=EMAIL, ca_cert=live_https.ca_cert)
    assert result.ok, result

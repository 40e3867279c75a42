"""The development LMS's OAuth2 token endpoint checks the tool's client assertion for real
(1EdTech Security Framework §4.1; LTI-CHECKLIST G, first item)."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.devlms.platform import SCOPE_SCORE
from tests.support.tokens import assertion_claims, request_token, tool_sign


def _other_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_valid_assertion_gets_a_scoped_bearer_token(live):
    response = request_token(live, tool_sign(live, assertion_claims(live)), [SCOPE_SCORE])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == SCOPE_SCORE
    assert body["expires_in"] > 0
    assert response.headers["Cache-Control"] == "no-store"


def test_assertion_signed_with_another_key_is_refused(live):
    response = request_token(
        live, tool_sign(live, assertion_claims(live), key_pem=_other_key_pem())
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "signature" in response.json()["error_description"]


def test_reused_jti_is_refused(live):
    claims = assertion_claims(live)
    assert request_token(live, tool_sign(live, claims)).status_code == 200
    again = request_token(live, tool_sign(live, claims))
    assert again.status_code == 401
    assert "already used" in again.json()["error_description"]


def test_expired_assertion_is_refused(live):
    now = int(time.time())
    response = request_token(
        live, tool_sign(live, assertion_claims(live, iat=now - 600, exp=now - 300))
    )
    assert response.status_code == 401
    assert "expired" in response.json()["error_description"]


def test_assertion_for_another_audience_is_refused(live):
    response = request_token(
        live, tool_sign(live, assertion_claims(live, aud="https://elsewhere.example/token"))
    )
    assert response.status_code == 401
    assert "aud" in response.json()["error_description"]


def test_assertion_whose_sub_is_not_the_client_is_refused(live):
    response = request_token(live, tool_sign(live, assertion_claims(live, sub="someone-else")))
    assert response.status_code == 401
    assert "sub" in response.json()["error_description"]


def test_assertion_without_jti_is_refused(live):
    response = request_token(live, tool_sign(live, assertion_claims(live, jti=None)))
    assert response.status_code == 401
    assert "jti" in response.json()["error_description"]


def test_unknown_kid_is_refused(live):
    response = request_token(
        live, tool_sign(live, assertion_claims(live), kid="not-a-published-kid")
    )
    assert response.status_code == 401
    assert "kid" in response.json()["error_description"]


def test_scope_not_granted_is_refused(live):
    response = request_token(
        live,
        tool_sign(live, assertion_claims(live)),
        ["https://purl.imsglobal.org/spec/lti-ags/scope/everything"],
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_wrong_grant_type_is_refused(live):
    import requests

    response = requests.post(
        f"{live.devlms_url}/token", data={"grant_type": "password"}, timeout=30
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_garbage_assertion_is_refused(live):
    response = request_token(live, "not.a.jwt")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_canvas_token_endpoint_wants_its_own_url_as_aud_exactly(live):
    """Canvas expects aud = https://<the host asked>/login/oauth2/token, exactly
    (lib/canvas/oauth/client_credentials_provider.rb): not the bare host its OpenID
    configuration calls authorization_server, not the issuer's token URL."""
    url = f"{live.devlms_sso_url}/login/oauth2/token"
    for wrong in (
        live.devlms_sso_url.split("://", 1)[1],  # authorization_server
        f"{live.devlms_url}/login/oauth2/token",
        f"{live.devlms_sso_url}/login/oauth2/token/",
    ):
        refused = request_token(live, tool_sign(live, assertion_claims(live, aud=wrong)), url=url)
        assert refused.status_code == 401, wrong
        assert url in refused.json()["error_description"]
    response = request_token(live, tool_sign(live, assertion_claims(live, aud=url)), url=url)
    assert response.status_code == 200, response.text

"""The tool's keys and JWKS (LTI-CHECKLIST E)."""

from __future__ import annotations

import json

import jwt
from sqlalchemy import select

from app.db import get_db
from app.lti import keys
from app.lti.models import ToolKey


def test_jwks_publishes_the_public_key_with_kid_and_nothing_private(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]
    (key,) = response.get_json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    assert client.get("/lti/jwks").get_json() == response.get_json()


def test_first_key_is_created_once(app, client):
    client.get("/.well-known/jwks.json")
    client.get("/.well-known/jwks.json")
    with get_db(app).begin() as session:
        assert len(session.scalars(select(ToolKey)).all()) == 1


def test_private_key_is_encrypted_at_rest(app):
    with app.app_context(), get_db(app).begin() as session:
        signing = keys.signing_key(session, app.extensions["lti"].cipher)
        row = session.scalars(select(ToolKey)).one()
        assert "PRIVATE KEY" not in row.private_key_encrypted
        assert "PRIVATE KEY" in signing.private_pem
        assert "PRIVATE KEY" not in repr(signing)


def test_signatures_verify_with_the_published_key(app, client):
    with app.app_context(), get_db(app).begin() as session:
        signing = keys.signing_key(session, app.extensions["lti"].cipher)
    token = jwt.encode(
        {"hello": "platform"}, signing.private_pem, algorithm="RS256", headers={"kid": signing.kid}
    )
    (published,) = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert published["kid"] == signing.kid
    public = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(published))
    assert jwt.decode(token, public, algorithms=["RS256"]) == {"hello": "platform"}


def test_pylti1p3_client_assertions_carry_our_published_kid(app, client):
    """pylti1p3 derives the kid of its service-token assertions from the public key; it must be
    the kid our JWKS publishes, or platforms cannot verify our token requests."""
    from app.lti.models import Registration
    from app.lti.tool_config import DatabaseToolConf

    with app.app_context(), get_db(app).begin() as session:
        row = Registration(
            name="x",
            issuer="https://lms.example",
            client_id="c1",
            auth_login_url="https://lms.example/auth",
            auth_token_url="https://lms.example/token",
            key_set_url="https://lms.example/jwks",
        )
        session.add(row)
        session.flush()
        conf = DatabaseToolConf(session, app.extensions["lti"].cipher)
        registration = conf.find_registration_by_params("https://lms.example", "c1")
        kid = registration.get_kid()
        session.commit()
    (published,) = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert kid == published["kid"]

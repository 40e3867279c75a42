"""The tool's keys and JWKS (LTI-CHECKLIST E)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select

from app import audit
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


# --- the rotation schedule (LTI-CHECKLIST E: current and next/previous keys, overlap) ---------

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def db(app):
    with app.app_context(), get_db(app).begin() as session:
        yield session


@pytest.fixture
def cipher(app):
    return app.extensions["lti"].cipher


def first_key(db, cipher) -> str:
    return keys.ensure_active_key(db, cipher, T0).kid


def published(db, cipher, now) -> list[str]:
    return [k["kid"] for k in keys.jwks(db, cipher, now)["keys"]]


def states(db, now) -> list[tuple[str, str]]:
    return [(s.kid, s.state) for s in keys.key_states(db, now)]


def test_first_key_signs_from_its_creation(db, cipher):
    old = first_key(db, cipher)
    assert states(db, T0) == [(old, "signing")]
    assert published(db, cipher, T0) == [old]


def test_next_key_is_published_before_it_signs(db, cipher):
    old = first_key(db, cipher)
    new = keys.rotate(db, cipher, overlap=2 * DAY, now=T0).kid
    during = T0 + DAY
    assert keys.signing_key(db, cipher, during).kid == old
    assert published(db, cipher, during) == [old, new]
    assert states(db, during) == [(old, "signing"), (new, "next")]


def test_next_key_signs_once_the_overlap_has_passed(db, cipher):
    old = first_key(db, cipher)
    new = keys.rotate(db, cipher, overlap=2 * DAY, now=T0)
    assert new.signs_from == T0 + 2 * DAY
    assert keys.signing_key(db, cipher, T0 + 2 * DAY).kid == new.kid
    assert keys.signing_key(db, cipher, T0 + 2 * DAY - timedelta(seconds=1)).kid == old


def test_previous_key_stays_published_for_the_retention_then_leaves(db, cipher):
    """A token the old key signed just before the switch must still verify after it."""
    old = first_key(db, cipher)
    new = keys.rotate(db, cipher, overlap=2 * DAY, now=T0).kid
    just_before_retirement = T0 + 4 * DAY - timedelta(seconds=1)
    assert published(db, cipher, just_before_retirement) == [old, new]
    assert states(db, just_before_retirement) == [(old, "previous"), (new, "signing")]
    assert published(db, cipher, T0 + 4 * DAY) == [new]
    assert states(db, T0 + 4 * DAY) == [(old, "retired"), (new, "signing")]


def test_retain_sets_how_long_the_previous_key_stays_published(db, cipher):
    old = first_key(db, cipher)
    keys.rotate(db, cipher, overlap=2 * DAY, retain=timedelta(hours=1), now=T0)
    (old_state, _) = keys.key_states(db, T0)
    assert old_state.kid == old and old_state.retires_at == T0 + 2 * DAY + timedelta(hours=1)


def test_overlap_zero_switches_signing_at_once(db, cipher):
    old = first_key(db, cipher)
    new = keys.rotate(db, cipher, overlap=timedelta(0), retain=timedelta(0), now=T0 + DAY).kid
    assert keys.signing_key(db, cipher, T0 + DAY).kid == new
    assert published(db, cipher, T0 + DAY) == [new]
    assert states(db, T0 + DAY) == [(old, "retired"), (new, "signing")]


def test_rotation_is_refused_while_one_is_pending(db, cipher):
    first_key(db, cipher)
    pending = keys.rotate(db, cipher, overlap=2 * DAY, now=T0)
    with pytest.raises(keys.RotationPending) as refused:
        keys.rotate(db, cipher, overlap=2 * DAY, now=T0 + DAY)
    assert pending.kid in refused.value.message
    assert "2030-01-03T09:00:00Z" in refused.value.message
    assert f"flask keys retire {pending.kid}" in (refused.value.hint or "")
    assert len(keys.key_states(db, T0 + DAY)) == 2


def test_rotation_is_allowed_again_once_the_next_key_signs(db, cipher):
    first_key(db, cipher)
    second = keys.rotate(db, cipher, overlap=2 * DAY, now=T0).kid
    third = keys.rotate(db, cipher, overlap=2 * DAY, now=T0 + 3 * DAY).kid
    assert [s for _, s in states(db, T0 + 3 * DAY)] == ["previous", "signing", "next"]
    assert published(db, cipher, T0 + 5 * DAY) == [second, third]


def test_negative_overlap_is_refused(db, cipher):
    first_key(db, cipher)
    with pytest.raises(keys.InvalidSchedule):
        keys.rotate(db, cipher, overlap=-DAY, now=T0)


def test_retiring_the_signing_key_is_refused_with_what_to_do(db, cipher):
    old = first_key(db, cipher)
    with pytest.raises(keys.SigningKeyInUse) as refused:
        keys.retire(db, old, now=T0)
    assert "--overlap 0" in (refused.value.hint or "")
    assert keys.signing_key(db, cipher, T0).kid == old


def test_retiring_a_previous_key_withdraws_it_at_once(db, cipher):
    """The compromised-key path: rotate with no overlap, then retire the old key."""
    old = first_key(db, cipher)
    new = keys.rotate(db, cipher, overlap=timedelta(0), retain=2 * DAY, now=T0 + DAY).kid
    keys.retire(db, old, now=T0 + DAY)
    assert published(db, cipher, T0 + DAY) == [new]
    assert states(db, T0 + DAY) == [(old, "retired"), (new, "signing")]


def test_retiring_a_key_erases_its_private_half(db, cipher):
    old = first_key(db, cipher)
    keys.rotate(db, cipher, overlap=timedelta(0), now=T0 + DAY)
    row = keys.retire(db, old, now=T0 + DAY)
    assert row.private_key_encrypted == ""


def test_retiring_the_next_key_cancels_the_rotation(db, cipher):
    old = first_key(db, cipher)
    new = keys.rotate(db, cipher, overlap=2 * DAY, now=T0).kid
    keys.retire(db, new, now=T0 + DAY)
    later = T0 + 30 * DAY
    assert keys.signing_key(db, cipher, later).kid == old
    assert published(db, cipher, later) == [old]
    assert states(db, later) == [(old, "signing"), (new, "retired")]
    keys.rotate(db, cipher, overlap=2 * DAY, now=later)  # no longer pending


def test_retiring_an_unknown_kid_says_so(db, cipher):
    first_key(db, cipher)
    with pytest.raises(keys.UnknownKey) as refused:
        keys.retire(db, "no-such-kid", now=T0)
    assert refused.value.status == 404
    assert "no-such-kid" in refused.value.message


def test_retiring_a_retired_key_again_says_so(db, cipher):
    old = first_key(db, cipher)
    keys.rotate(db, cipher, overlap=timedelta(0), now=T0 + DAY)
    keys.retire(db, old, now=T0 + DAY)
    with pytest.raises(keys.KeyAlreadyRetired):
        keys.retire(db, old, now=T0 + 2 * DAY)


def test_rotation_ends_a_stray_published_key_too(db, cipher):
    """Two instances starting together may each create a first key; the next rotation gives
    the one that never signed a retirement time as well."""
    first_key(db, cipher)
    stray = keys.generate_key(cipher)
    stray.created_at = stray.signs_from = T0 - timedelta(minutes=1)
    db.add(stray)
    db.commit()
    keys.rotate(db, cipher, overlap=DAY, now=T0)
    assert stray.kid not in published(db, cipher, T0 + 2 * DAY)


def test_rotation_and_retirement_are_audited_with_their_actor(db, cipher):
    old = first_key(db, cipher)
    new = keys.rotate(db, cipher, overlap=timedelta(0), now=T0, actor="ops@example.edu").kid
    keys.retire(db, old, now=T0)
    events = {e.action: e for e in audit.recent(db)}
    scheduled = events["key.rotation_scheduled"]
    assert (scheduled.actor, scheduled.target) == ("ops@example.edu", f"key:{new}")
    assert scheduled.details["previous_kid"] == old
    retired = events["key.retired"]
    assert (retired.actor, retired.target) == ("cli", f"key:{old}")
    assert "PRIVATE" not in repr([e.details for e in events.values()])


def test_key_states_show_nothing_private(db, cipher):
    first_key(db, cipher)
    keys.rotate(db, cipher, overlap=DAY, now=T0)
    assert "PRIVATE" not in repr(keys.key_states(db, T0))


def test_jwks_cache_time_is_far_shorter_than_the_default_overlap(client):
    cache_control = client.get("/.well-known/jwks.json").headers["Cache-Control"]
    assert cache_control == f"public, max-age={keys.JWKS_MAX_AGE}"
    assert keys.JWKS_MAX_AGE <= 300

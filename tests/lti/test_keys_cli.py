"""``flask keys``: list, rotate, retire (LTI-CHECKLIST E: rotation by CLI with an overlap)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import get_db, utcnow
from app.lti import keys
from app.lti.models import ToolKey


def invoke(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["keys", *args], input=input)


def rows(app) -> list[ToolKey]:
    with get_db(app).begin() as session:
        return list(session.scalars(select(ToolKey).order_by(ToolKey.id)))


def test_list_shows_each_key_and_its_state(app):
    result = invoke(app, "list")
    assert result.exit_code == 0, result.output
    header, line = result.output.splitlines()
    assert header.split()[:2] == ["KID", "STATE"]
    (key,) = rows(app)
    assert line.split() == [
        key.kid,
        "signing",
        keys.iso(key.created_at),
        keys.iso(key.signs_from),
        "-",
    ]


def test_rotate_prints_the_next_kid_and_when_it_signs_and_the_old_key_retires(app):
    invoke(app, "list")
    before = utcnow()
    result = invoke(app, "rotate", "--overlap", "2d", "--retain", "12h")
    assert result.exit_code == 0, result.output
    old, new = rows(app)
    assert before + timedelta(days=2) <= new.signs_from <= utcnow() + timedelta(days=2)
    assert old.retires_at == new.signs_from + timedelta(hours=12)
    assert f"Next key {new.kid} is published" in result.output
    assert f"starts signing at {keys.iso(new.signs_from)} (UTC)" in result.output
    assert f"Key {old.kid} signs until then" in result.output
    assert f"leaves the JWKS at {keys.iso(old.retires_at)} (UTC)" in result.output
    assert "Warning" not in result.output


def test_rotate_defaults_to_two_days_of_overlap_and_retention(app):
    result = invoke(app, "rotate")
    assert result.exit_code == 0, result.output
    old, new = rows(app)
    assert new.signs_from - new.created_at == timedelta(days=2)
    assert old.retires_at - new.signs_from == timedelta(days=2)


def test_list_shows_the_next_key_after_a_rotation(app):
    invoke(app, "rotate", "--overlap", "1h")
    listing = invoke(app, "list").output.splitlines()[1:]
    assert [line.split()[1] for line in listing] == ["signing", "next"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("90m", timedelta(minutes=90)),
        ("12h", timedelta(hours=12)),
        ("3d", timedelta(days=3)),
        ("0", timedelta(0)),
    ],
)
def test_rotate_accepts_durations_with_s_m_h_d_suffixes(app, text, expected):
    result = invoke(app, "rotate", "--overlap", text)
    assert result.exit_code == 0, result.output
    _, new = rows(app)
    assert new.signs_from - new.created_at == expected


@pytest.mark.parametrize("text", ["2", "2w", "-1d", "soon", "1.5h"])
def test_rotate_refuses_what_is_not_a_duration(app, text):
    result = invoke(app, "rotate", "--overlap", text)
    assert result.exit_code == 2
    assert "is not a duration" in result.output
    assert len(rows(app)) <= 1


def test_rotate_warns_when_the_overlap_is_shorter_than_the_jwks_cache(app):
    result = invoke(app, "rotate", "--overlap", "1m")
    assert result.exit_code == 0, result.output
    assert "Warning: the overlap is shorter than" in result.output


def test_rotate_help_states_the_overlap_rule(app):
    result = invoke(app, "rotate", "--help")
    assert "overlap must exceed the longest time any platform caches" in result.output
    assert f"at most {keys.JWKS_MAX_AGE} seconds" in result.output


def test_second_rotate_while_one_is_pending_is_refused(app):
    invoke(app, "rotate", "--overlap", "1h")
    result = invoke(app, "rotate", "--overlap", "1h")
    assert result.exit_code == 1
    assert "A rotation is already scheduled" in result.output
    assert len(rows(app)) == 2


def test_retire_asks_for_confirmation(app):
    invoke(app, "rotate", "--overlap", "0")
    old, _ = rows(app)
    result = invoke(app, "retire", old.kid, input="n\n")
    assert result.exit_code == 1
    assert rows(app)[0].status == ToolKey.ACTIVE


def test_retire_with_yes_withdraws_the_old_key(app, client):
    invoke(app, "rotate", "--overlap", "0")
    old, new = rows(app)
    result = invoke(app, "retire", old.kid, "--yes")
    assert result.exit_code == 0, result.output
    assert f"Key {old.kid} is retired" in result.output
    published = [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert published == [new.kid]


def test_retire_of_the_signing_key_is_refused_with_what_to_do(app):
    invoke(app, "list")
    (key,) = rows(app)
    result = invoke(app, "retire", key.kid, "--yes")
    assert result.exit_code == 1
    assert "is the key signing now" in result.output
    assert "flask keys rotate --overlap 0 --retain 0" in result.output


def test_retire_of_an_unknown_kid_says_so(app):
    result = invoke(app, "retire", "nope", "--yes")
    assert result.exit_code == 1
    assert "There is no key with kid 'nope'" in result.output


def test_retire_takes_a_kid_that_begins_with_a_dash_as_the_kid(app):
    """base64url kids may begin with "-" (one in 64)."""
    result = invoke(app, "retire", "-Xb3_kid", "--yes")
    assert result.exit_code == 1
    assert "There is no key with kid '-Xb3_kid'" in result.output


def test_no_command_prints_a_private_key(app):
    outputs = [
        invoke(app, "rotate", "--overlap", "0").output,
        invoke(app, "list").output,
        invoke(app, "retire", rows(app)[0].kid, "--yes").output,
    ]
    assert not any("PRIVATE" in out or "-----BEGIN" in out for out in outputs)

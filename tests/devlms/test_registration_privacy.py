"""What a dynamically registered tool learns about people: only the identity claims its
registration asked for, by Canvas's privacy level or Moodle's "share name / email" settings
(LTI-CHECKLIST D)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from sqlalchemy import select

from app.db import get_db
from app.devlms import course_tools, registration
from app.devlms.models import DevTool
from tests.support.lms import LmsUser, forms
from tests.support.registration import TOOL_CONFIGURATION, register, tool_configuration
from tests.support.tokens import demo_tool

IDENTITY = {"name", "given_name", "family_name", "email"}


def id_token_claims(live, client_id: str) -> dict[str, Any]:
    """Activate the tool and show it in the activity chooser (Moodle), start a Deep Linking
    launch of it as the instructor, and return the claims of the id_token the LMS signs (the
    tool's own login page is not needed)."""
    with get_db(live.devlms).begin() as session:
        tool = session.scalars(select(DevTool).where(DevTool.client_id == client_id)).one()
        registration.activate_tool(session, tool.id)
        course_tools.set_usage(session, tool.id, course_tools.ACTIVITY_CHOOSER)
        tool_id, redirect_uri = tool.id, tool.redirect_uris[0]
    teacher = LmsUser(live, "maria.alvarez@example.edu")
    initiation = teacher.initiation(f"/launch/deep-link/{teacher.course_id()}/{tool_id}")
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": "state",
        "nonce": "nonce",
        "login_hint": initiation.fields["login_hint"],
        "lti_message_hint": initiation.fields["lti_message_hint"],
    }
    page = teacher.http.get(f"{live.devlms_url}/auth", params=params, timeout=30)
    assert page.status_code == 200, page.text
    claims: dict[str, Any] = jwt.decode(
        forms(page.text)[0].fields["id_token"], options={"verify_signature": False}
    )
    return claims


def registered_with(live, flavour: str, **config: Any) -> str:
    answer = register(live, flavour, **{TOOL_CONFIGURATION: tool_configuration(live, **config)})
    return str(answer["client_id"])


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_tool_that_asked_for_names_and_email_gets_them(live, flavour):
    claims = id_token_claims(live, registered_with(live, flavour))
    assert claims["name"] == "Maria Alvarez"
    assert claims["email"] == "maria.alvarez@example.edu"
    assert {"given_name", "family_name"} <= set(claims)


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_tool_that_asked_for_no_identity_claims_is_anonymous(live, flavour):
    claims = id_token_claims(live, registered_with(live, flavour, claims=["iss", "sub"]))
    assert IDENTITY.isdisjoint(claims)
    assert claims["sub"]


def test_canvas_tool_asking_only_for_names_gets_name_only(live):
    claims = id_token_claims(
        live, registered_with(live, "canvas", claims=["sub", "given_name", "family_name"])
    )
    assert {"name", "given_name", "family_name"} <= set(claims)
    assert "email" not in claims


def test_canvas_privacy_level_stated_by_the_tool_wins_over_claims(live):
    client_id = registered_with(
        live,
        "canvas",
        claims=["sub", "name", "email"],
        **{"https://canvas.instructure.com/lti/privacy_level": "email_only"},
    )
    claims = id_token_claims(live, client_id)
    assert claims["email"] == "maria.alvarez@example.edu"
    assert "name" not in claims


def test_moodle_tool_asking_for_email_only_gets_no_name(live):
    claims = id_token_claims(live, registered_with(live, "moodle", claims=["sub", "email"]))
    assert claims["email"] == "maria.alvarez@example.edu"
    assert {"name", "given_name", "family_name"}.isdisjoint(claims)


def test_moodle_shares_every_name_claim_when_one_is_asked_for(live):
    claims = id_token_claims(live, registered_with(live, "moodle", claims=["sub", "name"]))
    assert {"name", "given_name", "family_name"} <= set(claims)
    assert "email" not in claims


def test_moodle_answer_lists_the_claims_it_will_send(live):
    answer = register(
        live, "moodle", **{TOOL_CONFIGURATION: tool_configuration(live, claims=["email"])}
    )
    assert answer[TOOL_CONFIGURATION]["claims"] == ["sub", "iss", "email"]


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_tool_set_up_by_hand_keeps_getting_names_and_email(live, flavour):
    demo = demo_tool(live)
    with get_db(live.devlms).begin() as session:
        tool = session.get(DevTool, demo.id)
        assert tool is not None and tool.registration_document is None
        tool.flavour = flavour
    claims = id_token_claims(live, demo.client_id)
    assert set(claims) >= IDENTITY

"""The development LMS's Deep Linking return: it verifies the tool's signed response and
creates course links and gradebook columns (LTI-CHECKLIST F, platform side)."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevLineItem, DevLink
from tests.support.lms import LmsUser, bridge_data, deep_link_path, forms, set_flavour, submit
from tests.support.tokens import demo_tool, tool_sign

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


@pytest.fixture
def request_claims(live):
    """Start a Deep Linking launch as the instructor; return the id_token's claims."""
    instructor = LmsUser(live, "maria.alvarez@example.edu")
    tool = demo_tool(live)
    initiation = instructor.initiation(f"/launch/deep-link/{instructor.course_id()}/{tool.id}")
    login_page = submit(instructor.http, live.devlms_url, initiation)
    auth_page = instructor.http.get(bridge_data(login_page.text)["next"], timeout=30)
    post = forms(auth_page.text)[0]
    claims = jwt.decode(post.fields["id_token"], options={"verify_signature": False})
    launched = submit(instructor.http, auth_page.url, post)
    assert launched.status_code == 200, launched.text
    assert "/lti/deep-link" in launched.url, "the instructor lands on the picker"
    return claims


def response_claims(live, request_claims, items, **changes):
    tool = demo_tool(live)
    now = int(time.time())
    claims = {
        "iss": tool.client_id,
        "aud": live.devlms_url,
        "iat": now,
        "exp": now + 300,
        "nonce": uuid.uuid4().hex,
        LTI + "message_type": "LtiDeepLinkingResponse",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": tool.deployment_id,
        DL + "data": request_claims[DL + "deep_linking_settings"].get("data"),
        DL + "content_items": items,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def return_url(request_claims):
    return request_claims[DL + "deep_linking_settings"]["deep_link_return_url"]


GRADED = {
    "type": "ltiResourceLink",
    "title": "Micro-credential: Questioning",
    "text": "Earn it",
    "url": "http://127.0.0.1:5000/lti/launch",
    "custom": {"credential": "questioning"},
    "lineItem": {
        "scoreMaximum": 100,
        "label": "Questioning",
        "resourceId": "questioning",
        "tag": "microcredential",
    },
}


def test_signed_response_creates_links_and_gradebook_columns(live, request_claims):
    token = tool_sign(live, response_claims(live, request_claims, [GRADED]))
    page = requests.post(return_url(request_claims), data={"JWT": token}, timeout=30)
    assert page.status_code == 200, page.text
    assert "Added 1 activity" in page.text
    with get_db(live.devlms).begin() as session:
        link = session.scalars(select(DevLink).where(DevLink.title == GRADED["title"])).one()
        column = session.get(DevLineItem, link.line_item_id)
        assert column.label == "Questioning" and column.score_maximum == 100
        assert column.resource_id == "questioning" and column.tag == "microcredential"
        assert column.resource_link_id == link.resource_link_id
        assert link.custom == {"credential": "questioning"}


def test_response_signed_with_a_foreign_key_is_refused(live, request_claims):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    token = tool_sign(live, response_claims(live, request_claims, [GRADED]), key_pem=pem)
    page = requests.post(return_url(request_claims), data={"JWT": token}, timeout=30)
    assert page.status_code == 400
    assert "signature" in page.text


def test_response_for_another_audience_is_refused(live, request_claims):
    token = tool_sign(
        live, response_claims(live, request_claims, [GRADED], aud="https://other.example")
    )
    page = requests.post(return_url(request_claims), data={"JWT": token}, timeout=30)
    assert page.status_code == 400


def test_response_with_tampered_data_is_refused(live, request_claims):
    token = tool_sign(
        live, response_claims(live, request_claims, [GRADED], **{DL + "data": "forged"})
    )
    page = requests.post(return_url(request_claims), data={"JWT": token}, timeout=30)
    assert page.status_code == 400
    assert "data" in page.text


def test_response_with_wrong_deployment_is_refused(live, request_claims):
    token = tool_sign(
        live, response_claims(live, request_claims, [GRADED], **{LTI + "deployment_id": "99"})
    )
    assert (
        requests.post(return_url(request_claims), data={"JWT": token}, timeout=30).status_code
        == 400
    )


def test_line_item_without_score_maximum_is_refused_and_nothing_created(live, request_claims):
    bad = dict(GRADED, lineItem={"label": "No maximum"})
    token = tool_sign(live, response_claims(live, request_claims, [bad]))
    page = requests.post(return_url(request_claims), data={"JWT": token}, timeout=30)
    assert page.status_code == 400
    with get_db(live.devlms).begin() as session:
        assert (
            session.scalars(select(DevLink).where(DevLink.title == GRADED["title"])).first() is None
        )


def test_empty_response_adds_nothing_and_shows_the_message(live, request_claims):
    token = tool_sign(
        live, response_claims(live, request_claims, [], **{DL + "msg": "Nothing chosen"})
    )
    page = requests.post(return_url(request_claims), data={"JWT": token}, timeout=30)
    assert page.status_code == 200
    assert "Nothing was added" in page.text and "Nothing chosen" in page.text


@pytest.fixture
def canvas_request_claims(live):
    set_flavour(live, "canvas")
    instructor = LmsUser(live, "maria.alvarez@example.edu")
    path = deep_link_path(instructor.course_id(), demo_tool(live).id, "assignment_selection")
    return instructor.id_token_claims(path)


def test_canvas_takes_a_response_without_data_at_its_courses_return_url(
    live, canvas_request_claims
):
    """Canvas sends no data claim (nothing to echo): the course is in the return URL's path,
    the placement in its query (deep_linking_request.rb)."""
    claims = response_claims(live, canvas_request_claims, [GRADED])
    assert DL + "data" not in claims
    page = requests.post(
        return_url(canvas_request_claims), data={"JWT": tool_sign(live, claims)}, timeout=30
    )
    assert page.status_code == 200, page.text
    with get_db(live.devlms).begin() as session:
        link = session.scalars(select(DevLink).where(DevLink.title == GRADED["title"])).one()
        assert link.placement == "assignment"


def test_canvas_return_url_of_another_course_is_refused(live, canvas_request_claims):
    claims = response_claims(live, canvas_request_claims, [GRADED])
    url = return_url(canvas_request_claims).replace("/courses/", "/courses/9999")
    page = requests.post(url, data={"JWT": tool_sign(live, claims)}, timeout=30)
    assert page.status_code == 404


def test_moodle_return_without_data_is_refused(live, request_claims):
    claims = response_claims(live, request_claims, [GRADED], **{DL + "data": None})
    page = requests.post(return_url(request_claims), data={"JWT": tool_sign(live, claims)})
    assert page.status_code == 400
    assert "data" in page.text

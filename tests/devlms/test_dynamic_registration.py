"""LTI Dynamic Registration on the development LMS, platform side, Moodle and Canvas flavours
(LTI-CHECKLIST D; 1EdTech LTI Dynamic Registration 1.0)."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevTool, DevUsedJti
from app.devlms.platform import SCOPE_NRPS, SCOPE_SCORE
from tests.support.registration import (
    TOOL_CONFIGURATION,
    client_registration,
    post_registration,
    register,
    registration_endpoint,
    registration_token,
    tool_configuration,
)

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
REQUIRED = [
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "jwks_uri",
    "registration_endpoint",
    "scopes_supported",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "claims_supported",
    PLATFORM_CONFIGURATION,
]


def stored_tool(live, client_id: str) -> DevTool:
    with get_db(live.devlms).begin() as session:
        tool = session.scalars(select(DevTool).where(DevTool.client_id == client_id)).one()
        session.expunge(tool)
        return tool


def get_configuration(live, flavour: str, *, with_token: bool = True) -> requests.Response:
    url, token = registration_token(live, flavour)
    headers = {"Authorization": f"Bearer {token}"} if with_token else {}
    return requests.get(url, headers=headers, timeout=30)


# --- the OpenID configuration ----------


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_configuration_has_every_field_a_tool_reads(live, flavour):
    response = get_configuration(live, flavour)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [name for name in REQUIRED if name not in body] == []
    assert body[PLATFORM_CONFIGURATION]["product_family_code"] == flavour
    assert body["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert "id_token" in body["response_types_supported"]


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_configuration_is_on_its_issuers_host(live, flavour):
    """LTI DR §3.5.1: the issuer's host is the configuration URL's host."""
    url, token = registration_token(live, flavour)
    body = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert urlsplit(body["issuer"]).netloc == urlsplit(url).netloc
    assert body["issuer"] == live.devlms_url


def test_moodle_configuration_has_every_endpoint_under_the_issuer(live):
    body = get_configuration(live, "moodle").json()
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        assert body[name].startswith(live.devlms_url + "/"), name
    # Moodle's mod/lti/openid-configuration.php names no authorization_server: the aud of a
    # client assertion is then the token endpoint (LTI DR §3.4.1).
    assert "authorization_server" not in body


def test_canvas_configuration_spreads_over_canvas_hosts(live):
    """As hosted Canvas (security_controller.rb#openid_configuration): issuer
    canvas.instructure.com, authorization, JWKS and token on sso.canvaslms.com, registration on
    the school's domain, and authorization_server a bare host name, not a URL."""
    body = get_configuration(live, "canvas").json()
    sso, account = live.devlms_sso_url, live.devlms_account_url
    assert len({live.devlms_url, sso, account}) == 3
    assert body["issuer"] == live.devlms_url
    assert body["authorization_endpoint"] == f"{sso}/api/lti/authorize_redirect"
    assert body["jwks_uri"] == f"{sso}/api/lti/security/jwks"
    assert body["token_endpoint"] == f"{sso}/login/oauth2/token"
    assert body["registration_endpoint"] == f"{account}/api/lti/registrations"
    assert body["authorization_server"] == urlsplit(sso).netloc
    assert "://" not in body["authorization_server"]


def test_canvas_configuration_takes_the_token_as_a_query_parameter(live):
    """Canvas's code reads ``params[:registration_token]``."""
    url, token = registration_token(live, "canvas")
    response = requests.get(url, params={"registration_token": token}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["issuer"] == live.devlms_url


def test_canvas_registration_takes_the_token_as_a_query_parameter(live):
    _url, token = registration_token(live, "canvas")
    response = requests.post(
        registration_endpoint(live, "canvas"),
        params={"registration_token": token},
        json=client_registration(live),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert stored_tool(live, response.json()["client_id"]).flavour == "canvas"


def test_moodle_registration_reads_only_the_authorization_header(live):
    _url, token = registration_token(live, "moodle")
    response = requests.post(
        registration_endpoint(live, "moodle"),
        params={"registration_token": token},
        json=client_registration(live),
        timeout=30,
    )
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["error_description"]


def test_moodle_configuration_is_served_without_a_token(live):
    response = get_configuration(live, "moodle", with_token=False)
    assert response.status_code == 200
    assert response.json()["registration_endpoint"] == registration_endpoint(live, "moodle")


def test_moodle_configuration_offers_deep_linking_in_content_area(live):
    messages = get_configuration(live, "moodle").json()[PLATFORM_CONFIGURATION][
        "messages_supported"
    ]
    assert {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]} in messages


def test_canvas_configuration_needs_the_registration_token(live):
    response = get_configuration(live, "canvas", with_token=False)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert "registration_token" in response.json()["error_description"]


def test_canvas_configuration_refuses_a_forged_token(live):
    url, token = registration_token(live, "canvas")
    response = requests.get(url, headers={"Authorization": f"Bearer {token}x"}, timeout=30)
    assert response.status_code == 401


def test_canvas_configuration_lists_the_placements_the_tool_asks_for(live):
    platform = get_configuration(live, "canvas").json()[PLATFORM_CONFIGURATION]
    deep_linking = next(
        m for m in platform["messages_supported"] if m["type"] == "LtiDeepLinkingRequest"
    )
    resource_link = next(
        m for m in platform["messages_supported"] if m["type"] == "LtiResourceLinkRequest"
    )
    assert {"assignment_selection", "link_selection"} <= set(deep_linking["placements"])
    assert "course_navigation" in resource_link["placements"]
    assert platform["variables"]


# --- the client registration ----------


def test_moodle_registration_is_pending_and_answers_the_deployment_id(live):
    answer = register(live, "moodle")
    tool = stored_tool(live, answer["client_id"])
    assert tool.status == "pending"
    assert tool.flavour == "moodle"
    assert answer[TOOL_CONFIGURATION]["deployment_id"] == tool.deployment_id
    assert answer["registration_client_uri"].startswith(live.devlms_url + "/admin/lti-tools")


def test_canvas_registration_is_active_and_keeps_the_deployment_id_for_the_launch(live):
    answer = register(live, "canvas")
    tool = stored_tool(live, answer["client_id"])
    assert tool.status == "active"
    assert tool.flavour == "canvas"
    assert tool.deployment_id
    assert "deployment_id" not in answer[TOOL_CONFIGURATION]
    assert "deployment_id" not in answer


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_registration_stores_the_tool_as_posted(live, flavour):
    document = client_registration(live)
    answer = register(live, flavour)
    tool = stored_tool(live, answer["client_id"])
    assert tool.name == "Microcred"
    assert tool.redirect_uris == document["redirect_uris"]
    assert tool.initiate_login_uri == document["initiate_login_uri"]
    assert tool.jwks_uri == document["jwks_uri"]
    assert tool.target_link_uri == document[TOOL_CONFIGURATION]["target_link_uri"]
    assert tool.deep_link_uri == document[TOOL_CONFIGURATION]["messages"][0]["target_link_uri"]
    assert tool.registration_document == document


def test_registration_grants_only_scopes_this_lms_serves(live):
    extra = "https://canvas.instructure.com/lti/public_jwk/scope/update"
    answer = register(live, "canvas", scope=f"{SCOPE_SCORE} {SCOPE_NRPS} {extra}")
    assert stored_tool(live, answer["client_id"]).scopes == [SCOPE_SCORE, SCOPE_NRPS]
    assert answer["scope"] == f"{SCOPE_SCORE} {SCOPE_NRPS}"


def test_registration_without_deep_linking_message_has_no_deep_link_uri(live):
    answer = register(live, "moodle", **{TOOL_CONFIGURATION: tool_configuration(live, messages=[])})
    assert stored_tool(live, answer["client_id"]).deep_link_uri is None


def course_navigation_messages(live, placement: str = "course_navigation") -> list[dict]:
    """The messages Microcred registers with Canvas: the course menu opens the catalog."""
    return [
        {
            "type": "LtiResourceLinkRequest",
            "target_link_uri": f"{live.tool_url}/catalog",
            "label": "Micro-credentials",
            "placements": [placement],
        },
        {
            "type": "LtiDeepLinkingRequest",
            "target_link_uri": f"{live.tool_url}/lti/launch",
            "placements": ["assignment_selection", "link_selection"],
        },
    ]


def test_canvas_registration_sets_the_course_menu_from_the_course_navigation_message(live):
    messages = course_navigation_messages(live)
    answer = register(
        live, "canvas", **{TOOL_CONFIGURATION: tool_configuration(live, messages=messages)}
    )
    assert stored_tool(live, answer["client_id"]).course_navigation_uri == (
        f"{live.tool_url}/catalog"
    )


def test_canvas_registration_reads_the_prefixed_course_navigation_placement(live):
    messages = course_navigation_messages(
        live, "https://canvas.instructure.com/lti/course_navigation"
    )
    answer = register(
        live, "canvas", **{TOOL_CONFIGURATION: tool_configuration(live, messages=messages)}
    )
    assert stored_tool(live, answer["client_id"]).course_navigation_uri is not None


def test_course_navigation_message_without_a_target_opens_the_tools_target(live):
    [menu, deep_linking] = course_navigation_messages(live)
    del menu["target_link_uri"]
    config = tool_configuration(live, messages=[menu, deep_linking])
    answer = register(live, "canvas", **{TOOL_CONFIGURATION: config})
    assert stored_tool(live, answer["client_id"]).course_navigation_uri == config["target_link_uri"]


def test_canvas_registration_without_course_navigation_has_no_course_menu(live):
    answer = register(live, "canvas")
    assert stored_tool(live, answer["client_id"]).course_navigation_uri is None


def test_moodle_registration_has_no_course_menu_whatever_it_asks(live):
    """Moodle has no course navigation placement."""
    messages = course_navigation_messages(live)
    answer = register(
        live, "moodle", **{TOOL_CONFIGURATION: tool_configuration(live, messages=messages)}
    )
    assert stored_tool(live, answer["client_id"]).course_navigation_uri is None


def test_registration_records_the_tokens_jti(live):
    _url, token = registration_token(live, "moodle")
    response = post_registration(live, "moodle", client_registration(live), token)
    assert response.status_code == 200
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    with get_db(live.devlms).begin() as session:
        assert session.scalars(select(DevUsedJti).where(DevUsedJti.jti == jti)).one()


BAD_DOCUMENTS = {
    "client_name missing": ({"client_name": None}, "client_name"),
    "client_secret auth": ({"token_endpoint_auth_method": "client_secret_basic"}, "private_key"),
    "redirect_uris not URLs": ({"redirect_uris": ["/lti/launch"]}, "redirect_uris"),
    "redirect_uris empty": ({"redirect_uris": []}, "redirect_uris"),
    "jwks_uri relative": ({"jwks_uri": "jwks.json"}, "jwks_uri"),
    "initiate_login_uri missing": ({"initiate_login_uri": None}, "initiate_login_uri"),
    "no id_token response": ({"response_types": ["code"]}, "id_token"),
    "scope as an array": ({"scope": [SCOPE_SCORE]}, "space-separated"),
    "native application": ({"application_type": "native"}, "web"),
    "no tool configuration": ({TOOL_CONFIGURATION: None}, "lti-tool-configuration"),
}
BAD_TOOL_CONFIGURATIONS = {
    "no target_link_uri": ({"target_link_uri": None}, "target_link_uri"),
    "no domain": ({"domain": None}, "domain"),
    "claims not a list": ({"claims": "name email"}, "claims"),
    "unknown message type": ({"messages": [{"type": "LtiSubmissionReviewRequest"}]}, "type"),
}


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
@pytest.mark.parametrize(
    ("changes", "mentions"), list(BAD_DOCUMENTS.values()), ids=list(BAD_DOCUMENTS)
)
def test_bad_registration_is_refused_as_invalid_client_metadata(live, flavour, changes, mentions):
    _url, token = registration_token(live, flavour)
    response = post_registration(live, flavour, client_registration(live, **changes), token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert mentions in response.json()["error_description"]


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
@pytest.mark.parametrize(
    ("changes", "mentions"),
    list(BAD_TOOL_CONFIGURATIONS.values()),
    ids=list(BAD_TOOL_CONFIGURATIONS),
)
def test_bad_tool_configuration_is_refused(live, flavour, changes, mentions):
    _url, token = registration_token(live, flavour)
    document = client_registration(
        live, **{TOOL_CONFIGURATION: tool_configuration(live, **changes)}
    )
    response = post_registration(live, flavour, document, token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert mentions in response.json()["error_description"]


def test_body_that_is_not_json_is_refused(live):
    _url, token = registration_token(live, "moodle")
    response = requests.post(
        registration_endpoint(live, "moodle"),
        data="client_name=Microcred",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 400
    assert "JSON object" in response.json()["error_description"]


def test_canvas_refuses_a_placement_it_does_not_have(live):
    _url, token = registration_token(live, "canvas")
    messages = [{"type": "LtiDeepLinkingRequest", "placements": ["gradebook_menu"]}]
    document = client_registration(
        live, **{TOOL_CONFIGURATION: tool_configuration(live, messages=messages)}
    )
    response = post_registration(live, "canvas", document, token)
    assert response.status_code == 400
    assert "gradebook_menu" in response.json()["error_description"]


def test_canvas_requires_application_type_where_moodle_does_not(live):
    _url, canvas_token = registration_token(live, "canvas")
    _url, moodle_token = registration_token(live, "moodle")
    document = client_registration(live, application_type=None)
    assert post_registration(live, "canvas", document, canvas_token).status_code == 400
    assert post_registration(live, "moodle", document, moodle_token).status_code == 200


def test_refused_document_leaves_the_token_usable(live):
    _url, token = registration_token(live, "moodle")
    bad = post_registration(live, "moodle", client_registration(live, client_name=None), token)
    assert bad.status_code == 400
    assert post_registration(live, "moodle", client_registration(live), token).status_code == 200


# --- the registration token ----------


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_registration_without_a_token_is_401(live, flavour):
    response = post_registration(live, flavour, client_registration(live), None)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_reused_token_is_401(live, flavour):
    _url, token = registration_token(live, flavour)
    assert post_registration(live, flavour, client_registration(live), token).status_code == 200
    again = post_registration(live, flavour, client_registration(live), token)
    assert again.status_code == 401
    assert "already used" in again.json()["error_description"]


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_expired_token_is_401(live, flavour):
    _url, token = registration_token(live, flavour, lifetime=timedelta(seconds=-60))
    response = post_registration(live, flavour, client_registration(live), token)
    assert response.status_code == 401
    assert "expired" in response.json()["error_description"]


def test_forged_token_is_401(live):
    """A token with the right claims and kid, signed by a key that is not the platform's."""
    _url, genuine = registration_token(live, "moodle")
    claims = jwt.decode(genuine, options={"verify_signature": False})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    forged = jwt.encode(
        claims, pem, algorithm="RS256", headers={"kid": jwt.get_unverified_header(genuine)["kid"]}
    )
    response = post_registration(live, "moodle", client_registration(live), forged)
    assert response.status_code == 401
    assert "not one this LMS issued" in response.json()["error_description"]


def test_token_for_another_flavour_is_401(live):
    _url, moodle_token = registration_token(live, "moodle")
    response = post_registration(live, "canvas", client_registration(live), moodle_token)
    assert response.status_code == 401
    assert "another registration endpoint" in response.json()["error_description"]


def test_unsigned_token_is_401(live):
    now = int(time.time())
    unsigned = jwt.encode(
        {"iss": live.devlms_url, "sub": "x", "scope": "reg", "iat": now, "exp": now + 60},
        key=None,
        algorithm="none",
    )
    response = post_registration(live, "moodle", client_registration(live), unsigned)
    assert response.status_code == 401


def test_token_is_signed_by_the_platform_and_lasts_an_hour(live):
    url, token = registration_token(live, "canvas")
    assert url == live.devlms_url + "/api/lti/security/openid-configuration"
    keys = requests.get(f"{live.devlms_url}/jwks", timeout=30).json()["keys"]
    assert jwt.get_unverified_header(token)["kid"] in {k["kid"] for k in keys}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600


def test_canvas_authorization_endpoint_sends_the_browser_on_to_the_lms(live):
    """Canvas's sso host only redirects an OIDC authentication request, parameters and all, to
    the host the person is signed in to."""
    url = get_configuration(live, "canvas").json()["authorization_endpoint"]
    response = requests.get(
        url, params={"client_id": "c", "state": "s t"}, allow_redirects=False, timeout=30
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{live.devlms_url}/auth?client_id=c&state=s+t"

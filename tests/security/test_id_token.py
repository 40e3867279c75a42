"""Every id_token check of LTI-CHECKLIST A, one forged or altered launch each.

Each case starts a genuine login (state, nonce, state cookie) and authorization at the
development LMS, alters the token, and posts it. All are refused with a 4xx page that says what
failed; none is a 500; none is accepted. The controls show an unaltered re-signed token passes,
so the refusals come from the check named, not from the re-signing.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.support.forge import CLAIM, Forge, foreign_key_pem
from tests.support.lms import field


@pytest.fixture
def forge(live):
    return Forge(live)


def refused(response, status=400, *words):
    assert response.status_code == status, response.text[:500]
    assert "Traceback" not in response.text
    assert "request id" in response.text
    for word in words:
        assert word in response.text, f"{word!r} not in page"
    return response


def _register_platform_b(live, key_set_url: str, deployment_id: str) -> None:
    """Register a second platform, B, with one approved deployment."""
    from app.db import get_db
    from app.lti.registrations import register_platform

    with get_db(live.tool).begin() as session:
        register_platform(
            session,
            name="Platform B",
            issuer="https://b.example",
            client_id="b",
            auth_login_url="https://b.example/auth",
            auth_token_url="https://b.example/token",
            key_set_url=key_set_url,
            active_deployment_ids=[deployment_id],
        )


def test_control_resigned_genuine_token_is_accepted(forge):
    pending = forge.start()
    response = pending.post(forge.sign(pending.claims))
    assert response.status_code == 200, response.text
    assert field(response.text, "name") == "Jordan Lee"


# A1 ------------------------------------------------------------------------------------------


def test_token_signed_by_a_foreign_key_with_the_platforms_kid_is_refused(forge):  # A1
    pending = forge.start()
    refused(
        pending.post(forge.sign(pending.claims, key_pem=foreign_key_pem())),
        400,
        "signature does not verify",
    )


def test_unknown_kid_is_refetched_once_then_refused(forge, live):  # A1
    fetched = []
    http = live.tool.extensions["lti"].http
    original = http.get

    def counting_get(url, **kwargs):
        fetched.append(url)
        return original(url, **kwargs)

    http.get = counting_get
    try:
        pending = forge.start()
        refused(pending.post(forge.sign(pending.claims, kid="rotated-away")), 400, "rotated-away")
        jwks_fetches = [u for u in fetched if u.endswith("/jwks")]
        assert len(jwks_fetches) == 2  # the first fetch, then exactly one refetch
        # A second bad kid inside the refetch interval does not reach the LMS again.
        second = forge.start()
        refused(second.post(forge.sign(second.claims, kid="another-unknown")), 400)
        assert len([u for u in fetched if u.endswith("/jwks")]) == 2
    finally:
        http.get = original


# A2 ------------------------------------------------------------------------------------------


def test_wrong_issuer_is_refused(forge):  # A2
    pending = forge.start()
    refused(pending.post(forge.sign(dict(pending.claims, iss="https://other-lms.example"))), 400)


# A3-A5 -----------------------------------------------------------------------------------------


def test_token_for_another_tool_is_refused(forge):  # A3
    pending = forge.start()
    claims = dict(pending.claims, aud="another-client", azp="another-client")
    refused(pending.post(forge.sign(claims)), 400)


def test_extra_untrusted_audience_is_refused(forge):  # A3
    pending = forge.start()
    claims = pending.claims
    claims["aud"] = [claims["aud"], "someone-else"]
    refused(pending.post(forge.sign(claims)), 400, "other parties")


def test_several_audiences_without_azp_are_refused(forge):  # A4
    pending = forge.start()
    claims = pending.claims
    claims["aud"] = [claims["aud"], "someone-else"]
    del claims["azp"]
    refused(pending.post(forge.sign(claims)), 400)


def test_azp_naming_another_party_is_refused(forge):  # A5
    pending = forge.start()
    refused(
        pending.post(forge.sign(dict(pending.claims, azp="someone-else"))), 400, "authorised party"
    )


# A6 ------------------------------------------------------------------------------------------


def test_alg_none_is_refused(forge):  # A6
    pending = forge.start()
    refused(pending.post(forge.unsigned(pending.claims)), 400, "only RS256")


def test_hs256_signed_with_the_platform_public_key_is_refused(forge):  # A6
    pending = forge.start()
    refused(pending.post(forge.hs256_with_public_key(pending.claims)), 400, "only RS256")


def test_rs512_is_not_on_the_allow_list(forge):  # A6
    pending = forge.start()
    refused(pending.post(forge.sign(pending.claims, alg="RS512")), 400, "only RS256")


# A7, A8 --------------------------------------------------------------------------------------


def test_expired_token_is_refused(forge):  # A7
    pending = forge.start()
    now = int(time.time())
    refused(
        pending.post(forge.sign(dict(pending.claims, iat=now - 600, exp=now - 120))), 400, "expired"
    )


def test_token_expired_within_the_leeway_is_accepted(forge):  # A7
    pending = forge.start()
    now = int(time.time())
    assert pending.post(forge.sign(dict(pending.claims, iat=now - 300, exp=now - 30))).ok


def test_token_issued_beyond_the_leeway_in_the_future_is_refused(forge):  # A8
    pending = forge.start()
    now = int(time.time())
    refused(
        pending.post(forge.sign(dict(pending.claims, iat=now + 300, exp=now + 600))),
        400,
        "in the future",
    )


def test_token_issued_within_the_leeway_in_the_future_is_accepted(forge):  # A8
    pending = forge.start()
    now = int(time.time())
    assert pending.post(forge.sign(dict(pending.claims, iat=now + 30, exp=now + 330))).ok


# A9, A10 -------------------------------------------------------------------------------------


def test_replayed_id_token_is_refused(forge):  # A9, A10
    pending = forge.start()
    assert pending.post().status_code == 200
    refused(pending.post(), 400, "already used")


def test_nonce_other_than_the_one_issued_is_refused(forge):  # A9
    pending = forge.start()
    refused(pending.post(forge.sign(dict(pending.claims, nonce="made-up"))), 400, "nonce")


def test_missing_nonce_is_refused(forge):  # A9
    pending = forge.start()
    claims = pending.claims
    del claims["nonce"]
    refused(pending.post(forge.sign(claims)), 400)


def test_token_moved_to_another_login_is_refused(forge):  # A9, A10
    first, second = forge.start(), forge.start()
    # The second login's browser and state, the first login's token (its nonce).
    refused(first.post(state=second.state, http=second.user.http), 400, "nonce")


def test_unknown_state_is_refused(forge):  # A10
    pending = forge.start()
    refused(pending.post(state="state-never-issued"), 400, "expired")


def test_state_from_another_browser_is_not_finished_without_its_proof(forge):  # A10, C
    import requests

    from tests.support.lms import bridge_data, forms, submit

    pending = forge.start()
    stranger = requests.Session()
    bridge_page = pending.post(http=stranger)
    assert bridge_data(bridge_page.text)["step"] == "launch"
    refused(submit(stranger, bridge_page.url, forms(bridge_page.text)[0]), 401, "new window")


# A11, A12 ------------------------------------------------------------------------------------


def test_unknown_message_type_is_refused(forge):  # A11
    pending = forge.start()
    claims = dict(pending.claims, **{CLAIM + "message_type": "LtiStartProctoring"})
    refused(pending.post(forge.sign(claims)), 400, "LtiStartProctoring")


@pytest.mark.parametrize("version", [None, "1.1", "1.3"])
def test_missing_or_wrong_version_is_refused(forge, version):  # A12
    pending = forge.start()
    claims = pending.claims
    if version is None:
        del claims[CLAIM + "version"]
    else:
        claims[CLAIM + "version"] = version
    refused(pending.post(forge.sign(claims)), 400, "1.3.0")


# A13 -----------------------------------------------------------------------------------------


def test_deployment_of_another_platform_is_refused_and_held_pending(forge, live):  # A13
    from sqlalchemy import select

    from app.db import get_db
    from app.lti.models import Deployment

    _register_platform_b(live, "https://b.example/jwks", "b-7")
    pending = forge.start()
    claims = dict(pending.claims, **{CLAIM + "deployment_id": "b-7"})
    refused(pending.post(forge.sign(claims)), 403, "deployment b-7 is not approved")
    with get_db(live.tool).begin() as session:
        statuses = {
            (d.registration.name, d.deployment_id): d.status
            for d in session.scalars(select(Deployment))
        }
    assert statuses[("Development LMS", "b-7")] == "pending"
    assert statuses[("Platform B", "b-7")] == "active"


def test_overlong_deployment_id_is_refused(forge):  # A13
    pending = forge.start()
    refused(
        pending.post(forge.sign(dict(pending.claims, **{CLAIM + "deployment_id": "d" * 256}))),
        400,
        "255",
    )


# A14 -----------------------------------------------------------------------------------------


def test_foreign_target_link_uri_claim_is_refused(forge):  # A14
    pending = forge.start()
    claims = dict(pending.claims, **{CLAIM + "target_link_uri": "https://evil.example/"})
    refused(pending.post(forge.sign(claims)), 400, "target_link_uri")


def test_target_link_uri_other_than_the_logins_is_refused(forge, live):  # A14
    pending = forge.start()
    claims = dict(pending.claims, **{CLAIM + "target_link_uri": f"{live.tool_url}/elsewhere"})
    refused(pending.post(forge.sign(claims)), 400, "differs")


# A15, A16 ------------------------------------------------------------------------------------


def test_resource_link_launch_without_resource_link_id_is_refused(forge):  # A15
    pending = forge.start()
    claims = dict(pending.claims, **{CLAIM + "resource_link": {"title": "no id"}})
    refused(pending.post(forge.sign(claims)), 400, "resource link")


def test_missing_roles_claim_is_refused(forge):  # A16
    pending = forge.start()
    claims = pending.claims
    del claims[CLAIM + "roles"]
    refused(pending.post(forge.sign(claims)), 400, "roles")


def test_empty_roles_are_accepted(forge):  # A16
    pending = forge.start()
    response = pending.post(forge.sign(dict(pending.claims, **{CLAIM + "roles": []})))
    assert response.status_code == 200
    assert field(response.text, "role") == "No course role"


# A17, A18 ------------------------------------------------------------------------------------


def test_launch_without_sub_is_anonymous(forge):  # A17
    pending = forge.start()
    claims = pending.claims
    for name in ("sub", "name", "given_name", "family_name", "email"):
        claims.pop(name, None)
    response = pending.post(forge.sign(claims))
    assert response.status_code == 200, response.text
    assert "Anonymous" in field(response.text, "name")


def test_unknown_claims_are_ignored(forge):  # A18
    pending = forge.start()
    claims = dict(pending.claims, **{"https://vendor.example/claim/shoe_size": 44, "xyz": [1]})
    assert pending.post(forge.sign(claims)).status_code == 200


def _post_concurrently(pending, count=2):
    import threading

    import requests

    statuses, barrier = [], threading.Barrier(count)

    def post():
        http = requests.Session()
        http.cookies.update(pending.user.http.cookies)
        barrier.wait()
        statuses.append(pending.post(http=http).status_code)

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_two_concurrent_posts_of_one_id_token_exactly_one_wins(forge):  # A9, A10
    assert _post_concurrently(forge.start(), 4) == [200, 400, 400, 400]


def test_token_from_another_registered_platform_cannot_finish_this_login(forge, live):  # A2
    """Platform B is registered too (here with the same keys, the worst case): a token issued
    as B must not complete a login that the tool started for the development LMS."""
    _register_platform_b(live, f"{live.devlms_url}/jwks", "1")
    pending = forge.start()
    claims = dict(pending.claims, iss="https://b.example", aud="b", azp="b")
    refused(pending.post(forge.sign(claims)), 400, "another LMS")


# Types before trust ---------------------------------------------------------------------------
# Every claim the tool reads has the JSON type the standards give it, checked before any is used:
# a signed token of the wrong shape is refused with a 4xx that names the claim, and writes no row.

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def refused_for_its_type(forge, claims, *words, status=400):
    """Post ``claims``, correctly signed, to a genuine login: refused, and nothing written."""
    pending = forge.start()
    before = forge.rows()
    # Signed as raw JSON: PyJWT would not even encode some of these (an ``iss`` list).
    signed = forge.sign_payload(json.dumps(claims(pending.claims)).encode())
    refused(pending.post(signed), status, *words)
    forge.assert_nothing_written(before)
    return pending


@pytest.mark.parametrize("payload", [b'["a", "signed", "array"]', b'"a string"', b"42", b"null"])
def test_payload_that_is_not_a_json_object_is_refused_before_any_lookup(forge, payload):  # A1
    pending = forge.start()
    before = forge.rows()
    refused(pending.post(forge.sign_payload(payload)), 400, "JSON object")
    forge.assert_nothing_written(before)
    # Before any lookup: the login it was posted to is still there for the LMS's own token.
    assert pending.post().status_code == 200


def test_header_that_is_not_a_json_object_is_refused(forge):  # A1
    pending = forge.start()
    before = forge.rows()
    refused(pending.post(forge.with_header(pending.claims, b'["RS256"]')), 400, "JSON object")
    forge.assert_nothing_written(before)


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", "4102444800"),  # a number in a string: PyJWT would cast it
        ("exp", True),
        ("exp", None),
        ("exp", float("inf")),
        ("iat", "1700000000"),
        ("nbf", "1700000000"),
        ("nbf", [1700000000]),
    ],
)
def test_time_claims_that_are_not_numbers_are_refused(forge, claim, value):  # A7, A8
    refused_for_its_type(forge, lambda c: dict(c, **{claim: value}), f"“{claim}”", "number")


@pytest.mark.parametrize("sub", ["", None, 42, ["u1"]])
def test_a_sub_present_but_not_a_non_empty_string_is_refused(forge, sub):  # A17
    """Only a launch *without* ``sub`` is anonymous; an empty one is a broken launch."""
    refused_for_its_type(forge, lambda c: dict(c, sub=sub), "“sub”")


def test_an_overlong_sub_is_refused(forge):  # A17 (OpenID Connect Core §2: at most 255)
    refused_for_its_type(forge, lambda c: dict(c, sub="u" * 256), "“sub”", "255")


@pytest.mark.parametrize(
    "roles",
    ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor", [1], [None], {"a": "b"}],
)
def test_roles_that_are_not_a_list_of_strings_are_refused(forge, roles):  # A16
    refused_for_its_type(forge, lambda c: dict(c, **{CLAIM + "roles": roles}), "“roles”")


@pytest.mark.parametrize(
    "link", ["link-1", ["link-1"], {"id": 5}, {"id": "link-1", "title": ["t"]}, {"id": "l" * 256}]
)
def test_resource_link_of_the_wrong_type_is_refused(forge, link):  # A15
    refused_for_its_type(forge, lambda c: dict(c, **{CLAIM + "resource_link": link}), "resource")


@pytest.mark.parametrize(
    ("claim", "value", "words"),
    [
        ("context", "a course", "“context”"),  # used to pass every check, then crash (500)
        ("context", {"title": "no id"}, "“context.id”"),
        ("context", {"id": 7}, "“context.id”"),
        ("context", {"id": "c1", "label": 7}, "“context.label”"),
        ("custom", "credential=x", "“custom”"),
        ("custom", ["credential"], "“custom”"),
        ("launch_presentation", "iframe", "“launch_presentation”"),
        ("launch_presentation", {"return_url": 7}, "“launch_presentation.return_url”"),
        ("tool_platform", "Moodle", "“tool_platform”"),
        ("for_user", "learner-7", "“for_user”"),
    ],
)
def test_known_claims_of_the_wrong_type_are_refused(forge, claim, value, words):  # A18
    """Unknown claims are ignored (A18); the ones the tool reads must have their type."""
    refused_for_its_type(forge, lambda c: dict(c, **{CLAIM + claim: value}), words)


@pytest.mark.parametrize(
    ("claim", "value", "words"),
    [
        ("iss", ["https://lms.example"], "“iss”"),  # A2
        ("aud", 5, "“aud”"),  # A3
        ("aud", ["ok", 5], "“aud”"),  # A3
        ("azp", ["a"], "“azp”"),  # A5
        ("nonce", 12345, "“nonce”"),  # A9
        (CLAIM + "message_type", ["LtiResourceLinkRequest"], "“message_type”"),  # A11
        (CLAIM + "version", 1.3, "“version”"),  # A12
        (CLAIM + "deployment_id", 1, "“deployment_id”"),  # A13
        (CLAIM + "target_link_uri", ["https://x.example/"], "“target_link_uri”"),  # A14
        ("name", ["Jordan", "Lee"], "“name”"),  # A17: the person's profile
        ("email", {"address": "j@example.edu"}, "“email”"),  # A17
    ],
)
def test_checked_claims_of_the_wrong_type_are_refused(forge, claim, value, words):  # A2-A17
    refused_for_its_type(forge, lambda c: dict(c, **{claim: value}), words)


@pytest.mark.parametrize(
    ("claim", "value", "words"),
    [
        (AGS, "https://lms.example/lineitems", "“endpoint”"),  # G
        (AGS, {"scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score"}, "“endpoint.scope”"),
        (AGS, {"lineitems": ["https://lms.example/lineitems"]}, "“endpoint.lineitems”"),
        (NRPS, ["https://lms.example/members"], "“namesroleservice”"),  # H
        (NRPS, {"context_memberships_url": 5}, "“namesroleservice.context_memberships_url”"),
    ],
)
def test_service_claims_of_the_wrong_type_are_refused(forge, claim, value, words):  # G, H
    refused_for_its_type(forge, lambda c: dict(c, **{claim: value}), words)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ("https://lms.example/return", "“deep_linking_settings”"),
        (
            {"deep_link_return_url": "https://lms.example/r", "accept_types": "ltiResourceLink"},
            "“deep_linking_settings.accept_types”",
        ),
        (
            {
                "deep_link_return_url": "https://lms.example/r",
                "accept_types": ["ltiResourceLink"],
                "accept_multiple": "false",
            },
            "“deep_linking_settings.accept_multiple”",
        ),
        (
            {
                "deep_link_return_url": "https://lms.example/r",
                "accept_types": ["ltiResourceLink"],
                "data": {"state": 1},
            },
            "“deep_linking_settings.data”",
        ),
    ],
)
def test_deep_linking_settings_of_the_wrong_type_are_refused(forge, settings, words):  # F
    def deep_linking(claims):
        claims = dict(claims, **{CLAIM + "message_type": "LtiDeepLinkingRequest", DL: settings})
        claims.pop(CLAIM + "resource_link", None)
        return claims

    refused_for_its_type(forge, deep_linking, words)


# The size of the posted id_token ---------------------------------------------------------------


def _padded(forge, pending, size):
    """The genuine token's claims with an unknown claim padding the token to about ``size``."""
    claims = dict(pending.claims, **{"https://vendor.example/claim/padding": ""})
    bare = len(forge.sign(claims))
    claims["https://vendor.example/claim/padding"] = "x" * int((size - bare) * 3 / 4)
    return forge.sign(claims)


def test_a_signed_id_token_of_a_megabyte_is_refused_with_a_413_before_decoding(forge):  # A1
    pending = forge.start()
    before = forge.rows()
    page = refused(pending.post(_padded(forge, pending, 1_000_000)), 413, "64 kB", "1.0 MB")
    assert "LMS administrator" in page.text  # what to do, for the teacher who sees it
    forge.assert_nothing_written(before)
    assert pending.post().status_code == 200  # the login was not touched


def test_an_oversized_post_that_is_not_even_a_token_is_refused_by_its_size(forge):  # A1
    """Refused before decoding: garbage of that size is "too large", not "malformed"."""
    pending = forge.start()
    refused(pending.post("x" * 200_000), 413, "64 kB")


def test_an_oversized_launch_sent_in_chunks_is_refused_by_its_size(forge):  # A1
    """No Content-Length (chunked): the body is read only up to the limit."""
    from urllib.parse import urlencode

    pending = forge.start()
    body = urlencode({"state": pending.state, "id_token": _padded(forge, pending, 300_000)})

    def chunks():
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384].encode()

    response = pending.user.http.post(
        pending.action,
        data=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    refused(response, 413, "64 kB")


def test_a_large_id_token_under_the_limit_is_accepted(forge):  # A1
    """Platforms send long custom parameters: a token of 60 kB is a launch like any other."""
    pending = forge.start()
    assert pending.post(_padded(forge, pending, 60_000)).status_code == 200

"""Every id_token check of LTI-CHECKLIST A, one forged or altered launch each.

Each case starts a genuine login (state, nonce, state cookie) and authorization at the
development LMS, alters the token, and posts it. All are refused with a 4xx page that says what
failed; none is a 500; none is accepted. The controls show an unaltered re-signed token passes,
so the refusals come from the check named, not from the re-signing.
"""

from __future__ import annotations

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

"""Dynamic Registration, the tool's side (LTI-CHECKLIST D): one-time links, the checks on the
platform's configuration, and refusals that leave nothing half-registered. The full flow
against the development LMS (both flavours) is in tests/integration."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.db import get_db, utcnow
from app.lti import dynamic_registration, registration_links
from app.lti.models import Deployment, Registration, RegistrationLink
from tests.support.fake_platform import Answer, start_fake_platform


@pytest.fixture
def platform():
    fake = start_fake_platform()
    yield fake
    fake.close()


def _issue(app, **kwargs):
    with get_db(app).begin() as session:
        issued = registration_links.issue(
            session, label="Northside Moodle", created_by="ops@example.org", **kwargs
        )
        return issued.token, issued.link.id


def _params(platform):
    return {"openid_configuration": platform.configuration_url, "registration_token": "reg-tok"}


def _count(app, model):
    with get_db(app).begin() as session:
        return session.scalar(select(func.count()).select_from(model))


def _link(app, link_id):
    with get_db(app).begin() as session:
        return session.get(RegistrationLink, link_id)


def test_register_page_explains_what_will_be_shared_and_may_be_framed_by_the_lms(
    app, client, platform
):
    token, _ = _issue(app)
    response = client.get(f"/lti/register/{token}", query_string=_params(platform))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Register Microcred in your LMS" in page and "Northside Moodle" in page
    assert "name and email" in page
    assert (
        f"frame-ancestors 'self' {platform.base_url}" in response.headers["Content-Security-Policy"]
    )
    assert platform.requests == []  # nothing is contacted before the admin agrees


def _frame_ancestors(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    directive = next(d for d in policy.split("; ") if d.startswith("frame-ancestors "))
    return directive.split()[1:]


SCHOOL = "https://school.instructure.example"


def test_register_page_may_be_framed_by_the_admins_page_on_another_host(app, client, platform):
    """Hosted Canvas: the admin's page (which frames ours) is on the school's domain, the
    configuration URL on the issuer's host. The Referer names the page that framed us."""
    token, _ = _issue(app)
    response = client.get(
        f"/lti/register/{token}",
        query_string=_params(platform),
        headers={"Referer": f"{SCHOOL}/accounts/1/developer_keys"},
    )
    assert response.status_code == 200
    assert _frame_ancestors(response) == ["'self'", platform.base_url, SCHOOL]
    # The admin's Register posts from our page (then the Referer is ours): the form keeps it.
    assert f'name="lms_origin" value="{SCHOOL}"' in response.get_data(as_text=True)


@pytest.mark.parametrize("referer", [None, "", "about:blank", "javascript:alert(1)", "nonsense"])
def test_register_page_without_a_usable_referer_is_framed_by_the_issuer_only(
    app, client, platform, referer
):
    token, _ = _issue(app)
    headers = {} if referer is None else {"Referer": referer}
    response = client.get(f"/lti/register/{token}", query_string=_params(platform), headers=headers)
    assert _frame_ancestors(response) == ["'self'", platform.base_url]
    assert 'name="lms_origin" value=""' in response.get_data(as_text=True)


def test_registration_done_page_may_be_framed_and_closed_by_the_admins_page(app, client, platform):
    """The answer to Register shows in the same frame: the admin's page may frame it, and the
    close message goes to it, to the issuer, and to the registration endpoint's origin (hosted
    Canvas: the school's domain, even when no Referer came)."""
    account = platform.base_url.replace("127.0.0.1", "localhost")
    config = platform.good_configuration("canvas")
    config["registration_endpoint"] = f"{account}/api/lti/registrations"
    platform.configuration = Answer(body=config)
    token, _ = _issue(app)
    response = client.post(
        f"/lti/register/{token}", data={**_params(platform), "lms_origin": SCHOOL}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _frame_ancestors(response) == ["'self'", platform.base_url, SCHOOL, account]
    origins = f"{platform.base_url} {SCHOOL} {account}"
    assert f'data-platform-origins="{origins}"' in response.get_data(as_text=True)


def test_a_refusal_shows_in_the_admins_frame_too(app, client, platform):
    platform.configuration = Answer(status=401, body={"error": "invalid_token"})
    token, _ = _issue(app)
    response = client.post(
        f"/lti/register/{token}", data={**_params(platform), "lms_origin": SCHOOL}
    )
    assert response.status_code == 400
    assert _frame_ancestors(response) == ["'self'", platform.base_url, SCHOOL]


@pytest.mark.parametrize(
    "posted",
    [
        "'none' https://a.example",
        "https://a.example; script-src *",
        "https://a.example *",
        "https://*.example",
        "https://a.example:port",
    ],
)
def test_a_posted_lms_origin_that_is_not_an_origin_is_ignored(app, client, platform, posted):
    """The value goes into the Content-Security-Policy header: nothing but an origin passes."""
    token, _ = _issue(app)
    response = client.post(
        f"/lti/register/{token}", data={**_params(platform), "lms_origin": posted}
    )
    assert response.status_code == 200
    assert _frame_ancestors(response) == ["'self'", platform.base_url]
    assert "script-src 'self'; object-src" in response.headers["Content-Security-Policy"]


def test_link_opened_outside_the_lms_says_where_to_paste_it(app, client):
    token, _ = _issue(app)
    response = client.get(f"/lti/register/{token}")
    assert response.status_code == 400
    assert "Paste this link into your LMS" in response.get_data(as_text=True)


def test_successful_registration_stores_platform_deployment_and_audit(app, client, platform):
    token, link_id = _issue(app)
    assert platform.base_url not in client.get("/").headers["Content-Security-Policy"]
    response = client.post(f"/lti/register/{token}", data=_params(platform))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Microcred is registered" in page and "fake-client-1" in page
    assert "Activate" in page  # Moodle's next step: activate the pending tool
    assert f'data-platform-origins="{platform.base_url}"' in page

    get, post = platform.requests
    # The token as a bearer header (the spec, Canvas's documentation) and as a query parameter
    # (Canvas's code reads params[:registration_token]), on both requests.
    for sent, path in ((get, "/.well-known/openid-configuration"), (post, "/register")):
        assert sent["authorization"] == "Bearer reg-tok"
        assert urlsplit(sent["path"]).path == path
        assert parse_qs(urlsplit(sent["path"]).query) == {"registration_token": ["reg-tok"]}
    document = post["body"]
    assert document["token_endpoint_auth_method"] == "private_key_jwt"
    assert document["initiate_login_uri"] == "http://127.0.0.1:5000/lti/login"
    assert document["jwks_uri"] == "http://127.0.0.1:5000/.well-known/jwks.json"
    tool = document["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert {"name", "email", "given_name", "family_name"} <= set(tool["claims"])
    assert {m["type"] for m in tool["messages"]} == {
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    }
    # Only the scopes the platform says it supports are asked for.
    assert document["scope"] == "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    # Course copy: where the platform substitutes it, a copied link names its original.
    assert tool["custom_parameters"] == {"resource_link_id_history": "$ResourceLink.id.history"}

    with get_db(app).begin() as session:
        registration = session.scalars(select(Registration)).one()
        assert (registration.issuer, registration.client_id) == (platform.base_url, "fake-client-1")
        assert registration.name == "Northside Moodle"
        assert (registration.source, registration.platform_family) == ("dynamic", "moodle")
        assert registration.auth_login_url == f"{platform.base_url}/auth"
        assert registration.auth_audience is None  # the token URL
        assert [(d.deployment_id, d.status) for d in registration.deployments] == [
            ("7", Deployment.ACTIVE)
        ]
        link = session.get(RegistrationLink, link_id)
        assert link.registration_id == registration.id and link.used_at is not None
        event = session.scalars(select(AuditEvent)).one()
        assert (event.actor, event.action) == ("dynamic-registration", "registration.created")
    # The new platform may frame launches at once (not after the origin cache's 30 s).
    policy = client.get("/").headers["Content-Security-Policy"]
    assert platform.base_url in policy.split("frame-ancestors", 1)[1]


def test_canvas_registration_asks_for_placements_and_public_privacy(app, client, platform):
    platform.configuration = Answer(body=platform.good_configuration("canvas"))
    platform.registration = Answer(body={"client_id": "10000000000042"})
    token, _ = _issue(app)
    assert client.post(f"/lti/register/{token}", data=_params(platform)).status_code == 200
    tool = platform.requests[1]["body"]["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert tool["https://canvas.instructure.com/lti/privacy_level"] == "public"
    placements = {p for m in tool["messages"] for p in m.get("placements", [])}
    assert placements == {"course_navigation", "assignment_selection", "link_selection"}
    with get_db(app).begin() as session:
        registration = session.scalars(select(Registration)).one()
        assert registration.platform_family == "canvas"
        assert registration.deployments == []  # Canvas's deployment id comes with a launch


def test_used_link_cannot_register_again(app, client, platform):
    token, _ = _issue(app)
    assert client.post(f"/lti/register/{token}", data=_params(platform)).status_code == 200
    again = client.post(f"/lti/register/{token}", data=_params(platform))
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    assert _count(app, Registration) == 1


@pytest.mark.parametrize(
    ("setup", "status", "words"),
    [
        ("unknown", 404, "not valid"),
        ("expired", 410, "has expired"),
        ("revoked", 410, "withdrawn"),
    ],
)
def test_unusable_links_get_a_clear_page(app, client, platform, setup, status, words):
    token, link_id = _issue(app)
    if setup == "unknown":
        token = "not-a-real-token"
    with get_db(app).begin() as session:
        link = session.get(RegistrationLink, link_id)
        if setup == "expired":
            link.expires_at = utcnow() - timedelta(seconds=1)
        if setup == "revoked":
            link.revoked_at = utcnow()
    for response in (
        client.get(f"/lti/register/{token}", query_string=_params(platform)),
        client.post(f"/lti/register/{token}", data=_params(platform)),
    ):
        assert response.status_code == status
        assert words in response.get_data(as_text=True)
    assert platform.requests == []


def _refused(app, client, platform, token):
    response = client.post(
        f"/lti/register/{token}", data=_params(platform), headers={"Accept": "text/html"}
    )
    assert 400 <= response.status_code < 600 and response.status_code != 500
    assert _count(app, Registration) == 0 and _count(app, Deployment) == 0
    assert "Traceback" not in response.get_data(as_text=True)
    return response


def test_configuration_naming_another_issuer_is_refused(app, client, platform):
    config = platform.good_configuration()
    config["issuer"] = "https://lms.attacker.example"
    platform.configuration = Answer(body=config)
    token, link_id = _issue(app)
    response = _refused(app, client, platform, token)
    assert response.status_code == 400
    assert "names another issuer" in response.get_data(as_text=True)
    assert [r["method"] for r in platform.requests] == ["GET"]  # nothing was posted
    # The failed attempt gave the link back: the admin can try again.
    assert registration_links.state(_link(app, link_id), utcnow()) == "open"
    assert _link(app, link_id).used_at is None


def test_hosted_canvas_configuration_registers(app, client, platform):
    """Hosted Canvas: the registration endpoint on the school's domain, the other endpoints on
    its sso host, and authorization_server that host's bare name (not an audience: Canvas's
    token endpoint takes only its token URL as aud). "localhost" is the platform's server
    under another host name."""
    other_host = platform.base_url.replace("127.0.0.1", "localhost")
    sso = "https://sso.canvaslms.example"
    config = platform.good_configuration("canvas") | {
        "authorization_endpoint": f"{sso}/api/lti/authorize_redirect",
        "token_endpoint": f"{sso}/login/oauth2/token",
        "jwks_uri": f"{sso}/api/lti/security/jwks",
        "registration_endpoint": f"{other_host}/api/lti/registrations",
        "authorization_server": "sso.canvaslms.example",
    }
    platform.configuration = Answer(body=config)
    token, _ = _issue(app)
    response = client.post(f"/lti/register/{token}", data=_params(platform))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert urlsplit(platform.requests[1]["path"]).path == "/api/lti/registrations"
    with get_db(app).begin() as session:
        registration = session.scalars(select(Registration)).one()
        assert registration.issuer == platform.base_url
        assert registration.auth_login_url == f"{sso}/api/lti/authorize_redirect"
        assert registration.auth_token_url == f"{sso}/login/oauth2/token"
        assert registration.key_set_url == f"{sso}/api/lti/security/jwks"
        assert registration.auth_audience is None  # the token URL


def test_an_authorization_server_url_is_the_token_audience(app, client, platform):
    """LTI DR §3.4.1: an authorization server named by URL is the aud of client assertions."""
    config = platform.good_configuration()
    config["authorization_server"] = "https://auth.lms.example/oauth2/token"
    platform.configuration = Answer(body=config)
    token, _ = _issue(app)
    assert client.post(f"/lti/register/{token}", data=_params(platform)).status_code == 200
    with get_db(app).begin() as session:
        registration = session.scalars(select(Registration)).one()
        assert registration.auth_audience == "https://auth.lms.example/oauth2/token"


@pytest.mark.parametrize(
    ("server", "allow_http", "audience"),
    [
        (None, False, None),
        ("", False, None),
        ("sso.canvaslms.com", False, None),
        ("sso.canvaslms.com/login/oauth2/token", False, None),
        ("https://auth.lms.example/token", False, "https://auth.lms.example/token"),
        ("http://127.0.0.1:5001/token", True, "http://127.0.0.1:5001/token"),
        ("http://lms.example/token", False, None),
        ("https://user:pw@lms.example/token", False, None),
        ("urn:lms:token", False, None),
    ],
)
def test_token_audience_is_the_authorization_server_only_when_it_is_a_url(
    server, allow_http, audience
):
    assert dynamic_registration.token_audience(server, allow_http=allow_http) == audience


def test_expired_registration_token_is_explained(app, client, platform):
    platform.configuration = Answer(status=401, body={"error": "invalid_token"})
    token, _ = _issue(app)
    response = _refused(app, client, platform, token)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "refused the registration token" in page and "start the registration again" in page


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (Answer(status=503, body={"error": "maintenance"}), "HTTP 503"),
        (Answer(raw=b"<html>login</html>", content_type="text/html"), "is not JSON"),
        (Answer(body=["not", "an", "object"]), "not an object"),
        (Answer(body={"issuer": "x"}), "is not an"),
    ],
)
def test_platform_configuration_errors_are_explained(app, client, platform, answer, words):
    platform.configuration = answer
    token, _ = _issue(app)
    response = _refused(app, client, platform, token)
    assert words in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        (
            Answer(
                status=400,
                body={"error": "invalid_client_metadata", "error_description": "bad uri"},
            ),
            400,
            "bad uri",
        ),
        (Answer(status=422, body={"errors": ["no"]}), 400, "refused the registration"),
        (Answer(status=500, raw=b"oops", content_type="text/plain"), 502, "HTTP 500"),
        (Answer(body={"no": "client id"}), 502, "no client_id"),
        (Answer(raw=b"{", content_type="application/json"), 502, "is not JSON"),
    ],
)
def test_registration_answers_that_fail_leave_nothing_registered(
    app, client, platform, answer, status, words
):
    platform.registration = answer
    token, link_id = _issue(app)
    response = _refused(app, client, platform, token)
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    assert _link(app, link_id).used_at is None


def test_json_callers_get_the_refusal_as_json(app, client, platform):
    platform.configuration = Answer(status=503, body={})
    token, _ = _issue(app)
    response = client.post(
        f"/lti/register/{token}", data=_params(platform), headers={"Accept": "application/json"}
    )
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "registration_platform_error"


def test_a_claimed_link_cannot_be_claimed_twice(app):
    _, link_id = _issue(app)
    with get_db(app).begin() as session:
        link = session.get(RegistrationLink, link_id)
        registration_links.claim(session, link)
        with pytest.raises(registration_links.LinkUnusable) as raised:
            registration_links.claim(session, link)
        assert raised.value.reason == registration_links.LinkUnusable.BUSY


def test_production_requires_https_platform_urls(app, platform):
    from app.lti.dynamic_registration import RegistrationRefused, check_url

    with pytest.raises(RegistrationRefused, match="is not an https URL"):
        check_url("issuer", "http://moodle.example.edu", allow_http=False)
    assert check_url("issuer", "https://moodle.example.edu", allow_http=False)


def test_links_are_stored_as_digests_only(app):
    token, link_id = _issue(app)
    link = _link(app, link_id)
    assert token not in link.token_digest and len(link.token_digest) == 64


def test_cli_issues_lists_and_revokes_links(app):
    runner = app.test_cli_runner()
    issued = runner.invoke(args=["registration-links", "issue", "--label", "Canvas district"])
    assert issued.exit_code == 0, issued.output
    assert "http://127.0.0.1:5000/lti/register/" in issued.output
    listed = runner.invoke(args=["registration-links", "list"])
    assert "open\tCanvas district" in listed.output
    link_id = listed.output.split("\t", 1)[0]
    assert runner.invoke(args=["registration-links", "revoke", link_id]).exit_code == 0
    assert "revoked\tCanvas district" in runner.invoke(args=["registration-links", "list"]).output
    missing = runner.invoke(args=["registration-links", "revoke", "999"])
    assert missing.exit_code != 0 and "no registration link 999" in missing.output
    with get_db(app).begin() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["registration_link.issued", "registration_link.revoked"]


def test_setup_page_lists_every_value_moodle_asks_for(client):
    response = client.get("/lti/setup")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for field in (
        "Tool URL",
        "Public keyset",
        "Initiate login URL",
        "Redirection URI(s)",
        "Content Selection URL",
        "Accept grades from the tool",
    ):
        assert field in page
    assert "http://127.0.0.1:5000/lti/login" in page
    assert "/lti/canvas.json" in page


def test_setup_page_tells_a_moodle_admin_how_teachers_find_microcred(client):
    """Moodle 4.3+ puts a tool in the activity chooser only when its Tool configuration usage
    says so or a teacher turns it on in the course (moodle-as-it-is.md item 2): after Dynamic
    Registration and by hand."""
    page = unescape(client.get("/lti/setup").get_data(as_text=True))
    after_registration = page.split('id="moodle-dynamic-title"', 1)[-1].split("</section>", 1)[0]
    assert "Tools pending" in after_registration
    assert (
        "“Tool configuration usage” to “Show in activity chooser and as a preconfigured tool”"
        in after_registration
    )
    assert "More → LTI External tools, turn on “Show in activity chooser”" in after_registration
    manual = page.split('id="moodle-title"', 1)[-1].split("</section>", 1)[0]
    usage = re.search(r"Tool configuration usage</th>\s*<td>(.*?)</td>", manual, re.S)
    assert usage and "Show in activity chooser and as a preconfigured tool" in usage.group(1)


def test_canvas_developer_key_json(client):
    key = client.get("/lti/canvas.json").get_json()
    assert key["oidc_initiation_url"] == "http://127.0.0.1:5000/lti/login"
    assert key["public_jwk_url"] == "http://127.0.0.1:5000/.well-known/jwks.json"
    canvas = key["extensions"][0]
    assert canvas["privacy_level"] == "public"
    placements = {p["placement"]: p["message_type"] for p in canvas["settings"]["placements"]}
    assert placements == {
        "course_navigation": "LtiResourceLinkRequest",
        "assignment_selection": "LtiDeepLinkingRequest",
        "link_selection": "LtiDeepLinkingRequest",
    }
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in key["scopes"]
    assert key["custom_fields"] == {"resource_link_id_history": "$ResourceLink.id.history"}


def test_the_canvas_course_menu_opens_the_catalog(client):
    """Micro-credentials are self-directed: the course navigation placement is the catalog."""
    key = client.get("/lti/canvas.json").get_json()
    placements = {p["placement"]: p for p in key["extensions"][0]["settings"]["placements"]}
    assert placements["course_navigation"]["target_link_uri"] == "http://127.0.0.1:5000/catalog"
    assert placements["assignment_selection"]["target_link_uri"].endswith("/lti/launch")

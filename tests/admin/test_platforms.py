"""Platforms and deployments in the console: the manual form, edits, activation,
auto-approve, approving and refusing deployments; each change is one audit event."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from app.admin import services
from app.db import get_db
from app.lti.models import Deployment, Registration
from tests.admin.console import (
    EMAIL,
    MOODLE_FORM,
    add_pending_deployment,
    add_platform,
    csrf,
    deployment_status,
    events,
    registration,
    signed_in_client,
)


def _post(client, path, data):
    return client.post(path, data={"csrf_token": csrf(client), **data})


def _only_change(app, before: int):
    """The one audit event written since ``before`` events (sign-in events excluded)."""
    new = [e for e in events(app)[before:] if not e.action.startswith("operator.")]
    assert len(new) == 1, [e.action for e in new]
    return new[0]


# --- The manual form ----------------------------------------------------------------------------


def test_manual_form_registers_a_platform_and_approves_its_deployments(app, operator_client):
    form = {**MOODLE_FORM, "deployment_ids": "1\n2, 3\n1"}
    response = _post(operator_client, "/admin/platforms/new", form)
    assert response.status_code == 303
    with get_db(app).begin() as session:
        row = session.scalars(select(Registration)).one()
        assert (row.name, row.issuer, row.client_id, row.platform_family, row.source) == (
            "District Moodle",
            "https://moodle.example.edu",
            "AbC123",
            "moodle",
            "manual",
        )
        assert row.auth_audience is None
        assert sorted((d.deployment_id, d.status) for d in row.deployments) == [
            ("1", "active"),
            ("2", "active"),
            ("3", "active"),
        ]
        assert response.headers["Location"] == f"/admin/platforms/{row.uuid}?done=added"
    page = operator_client.get(response.headers["Location"]).text
    assert "The platform is registered." in page


def test_manual_form_writes_one_audit_event(app, operator_client):
    before = len(events(app))
    _post(operator_client, "/admin/platforms/new", {**MOODLE_FORM, "deployment_ids": "1"})
    event = _only_change(app, before)
    uuid = events(app)[-1].target.removeprefix("registration:")
    assert (event.actor, event.action, event.target) == (
        EMAIL,
        "registration.created",
        f"registration:{uuid}",
    )
    assert event.operator_id is not None
    assert event.details["client_id"] == "AbC123"
    assert event.details["approved_deployments"] == ["1"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter a name, e.g. District Moodle."),
        ("name", "x" * 201, "Name must be at most 200 characters long."),
        ("issuer", "", "Enter the issuer the LMS shows."),
        ("issuer", "moodle.example.edu", "Enter a full web address starting with https://"),
        ("client_id", "", "Enter the client ID the LMS gave Microcred."),
        ("client_id", "Ab C", "Client ID cannot contain spaces."),
        ("auth_login_url", "", "Enter the OIDC authentication URL the LMS shows."),
        ("auth_login_url", "http://moodle.example.edu/auth", "Use https://."),
        ("auth_login_url", "https://user:pw@moodle.example.edu/auth", "without a user name"),
        ("auth_token_url", "", "Enter the access token URL the LMS shows."),
        ("auth_token_url", "ftp://moodle.example.edu/token", "starting with https://"),
        ("auth_audience", "has space", "Token audience cannot contain spaces."),
        ("key_set_url", "", "Enter the public keyset URL the LMS shows."),
        ("key_set_url", "https://moodle.example.edu/certs#x", "without a # part"),
        ("platform_family", "", "Choose which LMS this is"),
        ("platform_family", "blackboard", "Choose which LMS this is"),
        ("deployment_ids", "x" * 256, "at most 255 characters"),
    ],
)
def test_manual_form_says_what_is_wrong_with_each_field(
    app, operator_client, field, value, message
):
    response = _post(operator_client, "/admin/platforms/new", {**MOODLE_FORM, field: value})
    assert response.status_code == 400
    page = response.text
    assert "There is a problem" in page
    assert f'<a href="#{field}">' in page  # the summary links to the field
    assert f'id="{field}-error"' in page
    assert message in page
    with get_db(app).begin() as session:
        assert session.scalars(select(Registration)).first() is None


def test_manual_form_keeps_what_was_typed(operator_client):
    form = {**MOODLE_FORM, "client_id": "", "name": "Northside Moodle"}
    page = _post(operator_client, "/admin/platforms/new", form).text
    assert 'value="Northside Moodle"' in page
    assert 'value="moodle" checked' in page


def test_manual_form_accepts_http_on_localhost_outside_production(operator_client):
    form = {
        **MOODLE_FORM,
        "issuer": "http://localhost:8080",
        "auth_login_url": "http://127.0.0.1:8080/auth",
        "auth_token_url": "http://[::1]:8080/token",
        "key_set_url": "http://localhost:8080/jwks",
    }
    assert _post(operator_client, "/admin/platforms/new", form).status_code == 303


def test_manual_form_refuses_http_in_production(settings_override):
    production = create_app(
        {**settings_override, "MICROCRED_ENV": "production", "MICROCRED_ALLOW_HTTP": "true"}
    )
    try:
        client = signed_in_client(production)
        form = {**MOODLE_FORM, "key_set_url": "http://localhost:8080/jwks"}
        response = _post(client, "/admin/platforms/new", form)
        assert response.status_code == 400
        assert "Plain http:// is not accepted in production." in response.text
    finally:
        production.extensions["db"].dispose()


def test_manual_form_refuses_a_duplicate_issuer_and_client_id(app, operator_client):
    add_platform(app)
    before = len(events(app))
    response = _post(operator_client, "/admin/platforms/new", {**MOODLE_FORM, "name": "Again"})
    assert response.status_code == 409
    assert "already registered, as “District Moodle”" in response.text
    assert '<a href="#client_id">' in response.text
    assert len(events(app)) == before


def test_same_issuer_with_another_client_id_is_a_second_platform(app, operator_client):
    add_platform(app)
    response = _post(operator_client, "/admin/platforms/new", {**MOODLE_FORM, "client_id": "2"})
    assert response.status_code == 303


# --- Platform values ----------------------------------------------------------------------------


def _edit_form(**changes):
    form = {k: v for k, v in MOODLE_FORM.items() if k not in {"issuer", "client_id"}}
    return {**form, **changes}


def test_edit_changes_values_and_records_before_and_after(app, operator_client):
    uuid = add_platform(app)
    before = len(events(app))
    response = _post(
        operator_client,
        f"/admin/platforms/{uuid}/edit",
        _edit_form(name="Northside Moodle", auth_audience="https://moodle.example.edu/aud"),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("?done=updated")
    row = registration(app, uuid)
    assert row.name == "Northside Moodle"
    assert row.auth_audience == "https://moodle.example.edu/aud"
    event = _only_change(app, before)
    assert (event.actor, event.action, event.target) == (
        EMAIL,
        "registration.updated",
        f"registration:{uuid}",
    )
    assert event.details["name"] == {"from": "District Moodle", "to": "Northside Moodle"}
    assert event.details["auth_audience"] == {
        "from": None,
        "to": "https://moodle.example.edu/aud",
    }
    assert "key_set_url" not in event.details


def test_edit_cannot_change_issuer_or_client_id(app, operator_client):
    uuid = add_platform(app)
    _post(
        operator_client,
        f"/admin/platforms/{uuid}/edit",
        _edit_form(issuer="https://evil.example", client_id="other"),
    )
    row = registration(app, uuid)
    assert (row.issuer, row.client_id) == ("https://moodle.example.edu", "AbC123")


def test_edit_without_changes_records_nothing(app, operator_client):
    uuid = add_platform(app)
    before = len(events(app))
    response = _post(
        operator_client,
        f"/admin/platforms/{uuid}/edit",
        _edit_form(
            auth_login_url="https://moodle.example.edu/mod/lti/auth.php",
            auth_token_url="https://moodle.example.edu/mod/lti/token.php",
            key_set_url="https://moodle.example.edu/mod/lti/certs.php",
        ),
    )
    assert response.headers["Location"].endswith("?done=unchanged")
    assert [e for e in events(app)[before:] if not e.action.startswith("operator.")] == []


def test_edit_with_a_bad_value_says_so_and_changes_nothing(app, operator_client):
    uuid = add_platform(app)
    response = _post(
        operator_client, f"/admin/platforms/{uuid}/edit", _edit_form(key_set_url="certs.php")
    )
    assert response.status_code == 400
    assert '<a href="#key_set_url">' in response.text
    assert registration(app, uuid).key_set_url.endswith("certs.php")
    assert registration(app, uuid).key_set_url.startswith("https://")


def test_edit_form_shows_the_current_values(app, operator_client):
    uuid = add_platform(app)
    page = operator_client.get(f"/admin/platforms/{uuid}/edit").text
    assert 'value="District Moodle"' in page
    assert 'value="https://moodle.example.edu/mod/lti/token.php"' in page
    assert "cannot be changed" in page


# --- Deactivate and activate --------------------------------------------------------------------


def test_deactivate_asks_for_confirmation_first(app, operator_client):
    uuid = add_platform(app)
    page = operator_client.get(f"/admin/platforms/{uuid}/status").text
    assert "Deactivate District Moodle?" in page
    assert "every launch from this platform is refused" in page
    assert "Yes, deactivate District Moodle" in page
    assert registration(app, uuid).is_active


def test_deactivate_switches_the_platform_off_and_records_it(app, operator_client):
    uuid = add_platform(app)
    before = len(events(app))
    response = _post(operator_client, f"/admin/platforms/{uuid}/status", {"active": "0"})
    assert response.headers["Location"].endswith("?done=deactivated")
    assert not registration(app, uuid).is_active
    event = _only_change(app, before)
    assert (event.actor, event.action, event.target) == (
        EMAIL,
        "registration.deactivated",
        f"registration:{uuid}",
    )
    page = operator_client.get(response.headers["Location"]).text
    assert "Launches from this platform are refused." in page


def test_activate_switches_it_back_on(app, operator_client):
    uuid = add_platform(app)
    _post(operator_client, f"/admin/platforms/{uuid}/status", {"active": "0"})
    assert (
        "Activate District Moodle?" in operator_client.get(f"/admin/platforms/{uuid}/status").text
    )
    before = len(events(app))
    _post(operator_client, f"/admin/platforms/{uuid}/status", {"active": "1"})
    assert registration(app, uuid).is_active
    assert _only_change(app, before).action == "registration.activated"


def test_deactivating_twice_records_once(app, operator_client):
    uuid = add_platform(app)
    _post(operator_client, f"/admin/platforms/{uuid}/status", {"active": "0"})
    _post(operator_client, f"/admin/platforms/{uuid}/status", {"active": "0"})
    assert len(events(app, "registration.deactivated")) == 1


def test_status_change_without_a_choice_is_a_400(app, operator_client):
    uuid = add_platform(app)
    response = _post(operator_client, f"/admin/platforms/{uuid}/status", {})
    assert response.status_code == 400
    assert registration(app, uuid).is_active


# --- Auto-approve -------------------------------------------------------------------------------


def test_auto_approve_can_be_switched_on_and_off(app, operator_client):
    uuid = add_platform(app)
    before = len(events(app))
    _post(operator_client, f"/admin/platforms/{uuid}/auto-approve", {"enabled": "1"})
    assert registration(app, uuid).auto_approve_deployments
    event = _only_change(app, before)
    assert (event.actor, event.action, event.target) == (
        EMAIL,
        "registration.auto_approve_enabled",
        f"registration:{uuid}",
    )
    response = _post(operator_client, f"/admin/platforms/{uuid}/auto-approve", {"enabled": "0"})
    assert not registration(app, uuid).auto_approve_deployments
    assert events(app)[-1].action == "registration.auto_approve_disabled"
    page = operator_client.get(response.headers["Location"]).text
    assert "will wait for an operator" in page


# --- Deployments --------------------------------------------------------------------------------


def test_platform_page_lists_a_pending_deployment_with_its_buttons(app, operator_client):
    uuid = add_platform(app)
    add_pending_deployment(app, uuid, "7")
    page = operator_client.get(f"/admin/platforms/{uuid}").text
    assert "Waiting for a decision" in page
    assert 'name="decision" value="approve"' in page
    assert 'name="decision" value="refuse"' in page


def test_approving_a_pending_deployment_activates_it_and_records_it(app, operator_client):
    uuid = add_platform(app)
    add_pending_deployment(app, uuid, "7")
    before = len(events(app))
    response = _post(
        operator_client,
        f"/admin/platforms/{uuid}/deployments",
        {"deployment_id": "7", "decision": "approve"},
    )
    assert response.status_code == 303
    assert deployment_status(app, uuid, "7") == "active"
    event = _only_change(app, before)
    assert (event.actor, event.action, event.target) == (
        EMAIL,
        "deployment.approved",
        f"registration:{uuid}",
    )
    assert event.details["deployment_id"] == "7"
    assert event.details["previous_status"] == "pending"
    page = operator_client.get(response.headers["Location"]).text
    assert "Deployment 7 is approved" in page


def test_refusing_a_deployment_records_it(app, operator_client):
    uuid = add_platform(app)
    add_pending_deployment(app, uuid, "7")
    before = len(events(app))
    _post(
        operator_client,
        f"/admin/platforms/{uuid}/deployments",
        {"deployment_id": "7", "decision": "refuse"},
    )
    assert deployment_status(app, uuid, "7") == "refused"
    assert _only_change(app, before).action == "deployment.refused"


def test_a_refused_deployment_can_be_approved_later(app, operator_client):
    uuid = add_platform(app)
    add_pending_deployment(app, uuid, "7")
    for decision in ("refuse", "approve"):
        _post(
            operator_client,
            f"/admin/platforms/{uuid}/deployments",
            {"deployment_id": "7", "decision": decision},
        )
    assert deployment_status(app, uuid, "7") == "active"
    assert events(app, "deployment.approved")[0].details["previous_status"] == "refused"


def test_deciding_on_an_unknown_deployment_is_a_404(app, operator_client):
    uuid = add_platform(app)
    response = _post(
        operator_client,
        f"/admin/platforms/{uuid}/deployments",
        {"deployment_id": "99", "decision": "approve"},
    )
    assert response.status_code == 404
    assert "has no deployment with the id “99”" in response.text


def test_a_deployment_of_another_platform_cannot_be_decided_here(app, operator_client):
    moodle = add_platform(app)
    canvas = add_platform(app, issuer="https://canvas.instructure.com", client_id="1000")
    add_pending_deployment(app, canvas, "7")
    response = _post(
        operator_client,
        f"/admin/platforms/{moodle}/deployments",
        {"deployment_id": "7", "decision": "approve"},
    )
    assert response.status_code == 404
    assert deployment_status(app, canvas, "7") == "pending"


def test_an_unknown_decision_is_a_400(app, operator_client):
    uuid = add_platform(app)
    add_pending_deployment(app, uuid, "7")
    response = _post(
        operator_client,
        f"/admin/platforms/{uuid}/deployments",
        {"deployment_id": "7", "decision": "delete"},
    )
    assert response.status_code == 400
    assert deployment_status(app, uuid, "7") == "pending"


def test_platforms_list_shows_values_and_deployment_counts(app, operator_client):
    uuid = add_platform(app)
    add_platform(app, issuer="https://canvas.instructure.com", client_id="1000")
    add_pending_deployment(app, uuid, "7")
    add_pending_deployment(app, uuid, "8")
    with get_db(app).begin() as session:
        row = services.get_platform(session, uuid)
        services.decide_deployment(session, services.CLI_ACTOR, row, "8", Deployment.ACTIVE)
    page = operator_client.get("/admin/platforms").text
    assert "<code>https://canvas.instructure.com</code>" in page
    assert "<code>AbC123</code>" in page
    assert "<td>Moodle</td>" in page
    assert "<strong>1 waiting</strong>" in page
    assert "<td>An operator, in the console</td>" in page


# --- Where the platform's course pages are ------------------------------------------------------


def _ancestors(client) -> list[str]:
    policy = client.get("/").headers["Content-Security-Policy"]
    return next(d for d in policy.split("; ") if d.startswith("frame-ancestors ")).split()[1:]


def test_an_operator_names_the_origins_course_pages_are_on(app, operator_client):
    """A Canvas on a vanity domain, or a Moodle behind a portal: its course pages frame the tool
    from a site that no registration field names; the operator says which."""
    uuid = add_platform(app)
    before = len(events(app))
    response = _post(
        operator_client,
        f"/admin/platforms/{uuid}/edit",
        _edit_form(
            course_page_origins="https://learn.district.example/courses/12\n"
            "https://portal.district.example\nhttps://learn.district.example"
        ),
    )
    assert response.status_code == 303, response.text[:500]
    row = registration(app, uuid)
    assert row.course_page_origins == [
        "https://learn.district.example",
        "https://portal.district.example",
    ]
    event = _only_change(app, before)
    assert event.details["course_page_origins"]["to"] == row.course_page_origins
    assert "https://portal.district.example" in _ancestors(app.test_client())
    page = operator_client.get(f"/admin/platforms/{uuid}").text
    assert "https://portal.district.example" in page
    edit = operator_client.get(f"/admin/platforms/{uuid}/edit").text
    assert "https://learn.district.example\nhttps://portal.district.example</textarea>" in edit


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("learn.district.example", "Line 1: Enter a full web address"),
        ("https://ok.example\nhttp://plain.example", "Line 2: Use https://"),
        ("\n".join(f"https://s{n}.example" for n in range(21)), "at most 20"),
    ],
)
def test_course_page_origins_that_cannot_be_used_are_refused(app, operator_client, typed, message):
    uuid = add_platform(app)
    response = _post(
        operator_client, f"/admin/platforms/{uuid}/edit", _edit_form(course_page_origins=typed)
    )
    assert response.status_code == 400
    assert '<a href="#course_page_origins">' in response.text
    assert message in response.text
    assert registration(app, uuid).course_page_origins == []


HOSTED_CANVAS = {
    **MOODLE_FORM,
    "name": "Hosted Canvas",
    "issuer": "https://canvas.instructure.com",
    "client_id": "10000000000001",
    "auth_login_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "auth_token_url": "https://sso.canvaslms.com/login/oauth2/token",
    "key_set_url": "https://sso.canvaslms.com/api/lti/security/jwks",
    "platform_family": "canvas",
}


def test_hosted_canvas_course_pages_on_any_instructure_host_frame_the_tool(app, operator_client):
    """Hosted Canvas signs as canvas.instructure.com; each school's course pages are on its own
    instructure.com host, unknown before its first launch (canvas-as-it-is.md, framing row)."""
    assert _post(operator_client, "/admin/platforms/new", HOSTED_CANVAS).status_code == 303
    ancestors = _ancestors(app.test_client())
    assert "https://*.instructure.com" in ancestors
    assert "https://sso.canvaslms.com" in ancestors


def test_a_self_hosted_canvas_opens_no_instructure_host(app, operator_client):
    self_hosted = {
        **HOSTED_CANVAS,
        "name": "District Canvas",
        "issuer": "https://canvas.district.example",
        "auth_login_url": "https://canvas.district.example/api/lti/authorize_redirect",
        "auth_token_url": "https://canvas.district.example/login/oauth2/token",
        "key_set_url": "https://canvas.district.example/api/lti/security/jwks",
    }
    assert _post(operator_client, "/admin/platforms/new", self_hosted).status_code == 303
    ancestors = _ancestors(app.test_client())
    assert "https://canvas.district.example" in ancestors
    assert "https://*.instructure.com" not in ancestors

"""The console's pages: signed-in only, well-formed, never framed, never cached."""

from __future__ import annotations

import re

import pytest

from app import audit
from app.db import get_db
from tests.admin.console import (
    add_pending_deployment,
    add_platform,
    check_html,
    create_operator,
    csrf,
    events,
    sign_in,
)

PAGES = [
    "/admin/",
    "/admin/platforms",
    "/admin/platforms/new",
    "/admin/platforms/{uuid}",
    "/admin/platforms/{uuid}/edit",
    "/admin/platforms/{uuid}/status",
    "/admin/audit",
    "/admin/keys",
    "/admin/registration-links",
]
FORMS = [
    ("/admin/sign-out", {}),
    ("/admin/platforms/new", {"name": "x"}),
    ("/admin/platforms/{uuid}/edit", {"name": "x"}),
    ("/admin/platforms/{uuid}/status", {"active": "0"}),
    ("/admin/platforms/{uuid}/auto-approve", {"enabled": "1"}),
    ("/admin/platforms/{uuid}/deployments", {"deployment_id": "7", "decision": "approve"}),
    ("/admin/keys/rotate", {"overlap": "2d"}),
    ("/admin/registration-links", {"label": "x", "lifetime": "7"}),
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_asks_for_sign_in(app, client, path):
    uuid = add_platform(app)
    url = path.format(uuid=uuid)
    response = client.get(url)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/sign-in?next={url}"


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_every_form_asks_for_sign_in_and_changes_nothing(app, client, path, data):
    uuid = add_platform(app)
    before = len(events(app))
    response = client.post(path.format(uuid=uuid), data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/sign-in"
    assert len(events(app)) == before


@pytest.mark.parametrize("path", PAGES)
def test_json_callers_get_401(app, client, path):
    uuid = add_platform(app)
    response = client.get(path.format(uuid=uuid), headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_well_formed(app, operator_client, path):
    uuid = add_platform(app)
    add_pending_deployment(app, uuid, "7")
    response = operator_client.get(path.format(uuid=uuid))
    assert response.status_code == 200
    check_html(response.text)


def test_sign_in_page_is_well_formed(client):
    check_html(client.get("/admin/sign-in").text)


def test_form_with_errors_is_well_formed(operator_client):
    response = operator_client.post(
        "/admin/platforms/new", data={"csrf_token": csrf(operator_client), "issuer": "ftp://x"}
    )
    assert response.status_code == 400
    check_html(response.text)


def test_failed_sign_in_page_is_well_formed(app, client):
    create_operator(app)
    check_html(sign_in(client, password="wrong password!").text)


@pytest.mark.parametrize("path", ["/admin/sign-in", "/admin/", "/admin/no-such-page"])
def test_console_pages_cannot_be_framed(app, client, path):
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "form-action 'self'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_console_error_pages_cannot_be_framed(app, operator_client):
    response = operator_client.post("/admin/sign-out", data={})
    assert response.status_code == 403
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_tool_pages_keep_their_own_policy(app, client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" not in policy


def test_navigation_marks_the_current_page(operator_client):
    page = operator_client.get("/admin/platforms").text
    assert '<a href="/admin/platforms" aria-current="page">Platforms</a>' in page


def test_platform_pages_mark_platforms_as_current(app, operator_client):
    uuid = add_platform(app)
    page = operator_client.get(f"/admin/platforms/{uuid}").text
    assert '<a href="/admin/platforms" aria-current="page">Platforms</a>' in page


def test_unknown_platform_is_a_404_page(operator_client):
    response = operator_client.get("/admin/platforms/no-such-id")
    assert response.status_code == 404
    assert "There is no platform at this address." in response.text


def test_overview_counts_platforms_pending_deployments_and_events(app, operator_client):
    uuid = add_platform(app)
    add_platform(app, issuer="https://canvas.instructure.com", client_id="1000")
    add_pending_deployment(app, uuid, "7")
    add_pending_deployment(app, uuid, "8")
    page = operator_client.get("/admin/").text
    assert '<a href="/admin/platforms">2</a>' in page
    assert "<dt>Deployments waiting for a decision</dt><dd>2</dd>" in page
    assert "registration.created" in page


def test_audit_log_is_paged_newest_first(app, operator_client):
    with get_db(app).begin() as session:
        for n in range(60):
            audit.record(session, actor="cli", action=f"test.event_{n:02d}")
    first = operator_client.get("/admin/audit").text
    # 60 events after the operator was created and signed in: 62, newest first, 50 a page.
    assert "Page 1 of 2 · 62 events" in first
    assert first.index("test.event_59") < first.index("test.event_58")
    assert "test.event_09" not in first
    assert 'rel="next"' in first
    second = operator_client.get("/admin/audit?page=2").text
    assert "test.event_09" in second
    assert "operator.signed_in" in second
    assert 'rel="prev"' in second


def test_audit_log_gives_each_time_as_a_utc_instant_for_the_viewers_zone(app, operator_client):
    """The instant in UTC (ISO 8601) for the page's script, and a default naming its zone."""
    page = operator_client.get("/admin/audit").text
    assert re.search(
        r"<time datetime=\"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\" data-moment=\"datetime\">"
        r"\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC</time>",
        page,
    )


def test_audit_log_page_out_of_range_shows_the_last(operator_client):
    response = operator_client.get("/admin/audit?page=99")
    assert response.status_code == 200
    assert "Page 1 of 1" in response.text
    assert operator_client.get("/admin/audit?page=x").status_code == 200

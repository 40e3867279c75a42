"""Service calls to the platform through pylti1p3's connector, against the development LMS."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.platform import SCOPE_NRPS
from app.lti import platform_services, runtime
from app.lti.models import Registration
from tests.support.services import MEMBERSHIP_TYPE, memberships_url, tool_nrps_call


def registration_like_the_demo(live, **changes) -> Registration:
    """A registration that is not stored: the demo's values with ``changes``."""
    with get_db(live.tool).begin() as session:
        demo = session.scalars(select(Registration)).one()
        values = {
            "name": demo.name,
            "issuer": demo.issuer,
            "client_id": demo.client_id,
            "auth_login_url": demo.auth_login_url,
            "auth_token_url": demo.auth_token_url,
            "key_set_url": demo.key_set_url,
        }
    return Registration(**{**values, **changes})


def test_access_token_obtained_by_the_tool_opens_the_roster(live):
    with live.tool.app_context(), get_db(live.tool).begin() as session:
        rt = runtime()
        registration = session.scalars(select(Registration)).one()
        token = platform_services.access_token(
            session,
            rt.cipher,
            registration,
            [SCOPE_NRPS],
            http=rt.http,
            timeout=rt.settings.http_timeout,
        )
    response = requests.get(
        memberships_url(live),
        headers={"Authorization": f"Bearer {token}", "Accept": MEMBERSHIP_TYPE},
        timeout=30,
    )
    assert response.status_code == 200


def test_service_request_returns_the_roster(live):
    body = tool_nrps_call(live)
    assert body["context"]["title"] == "Teaching with Evidence"
    assert "Jordan Lee" in {m["name"] for m in body["members"]}


def test_refused_token_request_names_the_platform_and_its_reason(live):
    stranger = registration_like_the_demo(live, client_id="not-registered")
    with pytest.raises(platform_services.PlatformServiceError) as refused:
        tool_nrps_call(live, stranger)
    message = refused.value.message
    assert message.startswith("Development LMS refused or failed the tool's access token")
    assert "HTTP 401: invalid_client (Unknown or inactive client 'not-registered'.)" in message
    assert "PRIVATE" not in message


def test_refused_service_request_names_the_url_and_the_status(live):
    missing = f"{live.devlms_url}/api/lti/courses/999/memberships"
    with pytest.raises(platform_services.PlatformServiceError) as refused:
        tool_nrps_call(live, url=missing)
    assert f"refused or failed a service request to {missing}: HTTP 404" in refused.value.message


def test_unreachable_token_endpoint_is_a_platform_service_error(live):
    nowhere = registration_like_the_demo(live, auth_token_url="http://127.0.0.1:1/token")
    with pytest.raises(platform_services.PlatformServiceError) as refused:
        tool_nrps_call(live, nowhere)
    assert "ConnectionError" in refused.value.message
    assert refused.value.status == 502

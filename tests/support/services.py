"""Service calls through the tool's own code (``app.lti.platform_services``), for tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevCourse
from app.devlms.platform import SCOPE_NRPS
from app.lti import platform_services, runtime
from app.lti.models import Registration
from tests.support.live import LiveServers

MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def memberships_url(live: LiveServers) -> str:
    with get_db(live.devlms).begin() as session:
        course_id = session.scalars(select(DevCourse.id)).one()
    return f"{live.devlms_url}/api/lti/courses/{course_id}/memberships"


def tool_nrps_call(
    live: LiveServers, registration: Registration | None = None, url: str | None = None
) -> Any:
    """Read the demo course's roster as the tool does: an access token requested with a client
    assertion signed by the tool's key of the moment, then the NRPS request."""
    url = url or memberships_url(live)
    with live.tool.app_context(), get_db(live.tool).begin() as session:
        rt = runtime()
        row = registration or session.scalars(select(Registration)).one()
        return platform_services.get_json(
            session,
            rt.cipher,
            row,
            [SCOPE_NRPS],
            url,
            accept=MEMBERSHIP_TYPE,
            http=rt.http,
            timeout=rt.settings.http_timeout,
        )

"""The console's Records requests page: an operator exports a person's records, joined across
platforms by email, audited as the operator; a request naming nobody is refused on the page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import get_db
from tests.admin.console import EMAIL, csrf, signed_in_client
from tests.evidence.support import LEARNER
from tests.privacy.support import BETA_ANSWER, OTHERS_ANSWER, build_world, everything, read_export
from tests.support.live import LiveServers


def test_an_operator_exports_a_person_joined_by_email(live: LiveServers, tmp_path: Path) -> None:
    world = build_world(live)
    client = signed_in_client(live.tool)
    page = client.get("/admin/records")
    assert page.status_code == 200
    assert 'href="/admin/records"' in page.text  # in the console's navigation

    zipped = client.post(
        "/admin/records/export", data={"csrf_token": csrf(client), "email": LEARNER.upper()}
    )

    assert zipped.status_code == 200, zipped.text[:500]
    assert zipped.headers["Content-Type"] == "application/zip"
    assert zipped.headers["Cache-Control"] == "no-store"
    out = tmp_path / "records.zip"
    out.write_bytes(zipped.data)
    zipped.close()
    export = read_export(out)
    assert len(export.data["people"]) == 2
    assert BETA_ANSWER.encode() in everything(export)
    assert OTHERS_ANSWER.encode() not in everything(export)
    with get_db(live.tool).begin() as session:
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "privacy.export")
        ).all()
        assert event.actor == EMAIL and event.operator_id is not None
        assert event.details["joined_by_email"] is True
        assert LEARNER not in json.dumps(event.details).lower()
    assert world.badge


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"email": "jordan at school"}, 400, "is not an email address"),
        ({"email": "nobody@example.edu"}, 404, "No platform has sent the tool that email"),
        ({"platform": "No such LMS", "sub": "x"}, 404, "No platform is called"),
        ({"platform": "", "sub": ""}, 400, "Say which platform and which LMS user id"),
        ({"email": LEARNER, "sub": "x"}, 400, "not both"),
    ],
)
def test_a_request_naming_nobody_is_refused_on_the_page(
    app, form: dict[str, str], status: int, message: str
) -> None:
    client = signed_in_client(app)

    refused = client.post("/admin/records/export", data={"csrf_token": csrf(client), **form})

    assert refused.status_code == status
    assert message in refused.text.replace("&#39;", "'")
    assert "Nothing was exported" in refused.text
    for value in form.values():
        assert f'value="{value}"' in refused.text  # what was typed is kept
    with get_db(app).begin() as session:
        assert not session.scalars(
            select(AuditEvent).where(AuditEvent.action == "privacy.export")
        ).all()

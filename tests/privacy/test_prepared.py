"""Records too large to build while the educator waits: the worker prepares the zip (in the
evidence store, both kinds), the page says how far it has come, the download works until it
expires, and then the zip is gone from the store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.db import get_db, utcnow
from app.evidence.storage import evidence_store
from app.lti.models import LtiUser
from app.privacy.building import Builder
from app.privacy.models import ExportRequest
from tests.evidence.support import LEARNER, launch
from tests.privacy.support import PLAN, build_world, read_export
from tests.support.live import LiveServers
from tests.support.lms import forms, submit


@pytest.fixture
def settings_override(settings_override: dict[str, Any]) -> dict[str, Any]:
    """Anything over a kilobyte of files is 'large' here."""
    return {**settings_override, "MICROCRED_EXPORT_INLINE_BYTES": 1024}


def _form(page: requests.Response, ending: str) -> Any:
    (form,) = [f for f in forms(page.text) if f.action.split("?")[0].endswith(ending)]
    return form


@pytest.mark.parametrize("store_kind", ["local", "s3"], indirect=True)
def test_the_worker_prepares_a_large_export_that_expires(live: LiveServers, tmp_path: Path) -> None:
    world = build_world(live)
    educator = launch(live, LEARNER, "Microcred: welcome")
    page = educator.get("/my/records")
    assert "Download my records" not in page.text
    asked = submit(requests.Session(), page.url, _form(page, "/my/records/prepare"))
    assert asked.status_code == 200, asked.text[:500]
    assert "Waiting to be prepared." in asked.text

    builder = Builder(live.tool)
    builder.run(until_idle=True)

    assert builder.counters.built == 1
    with get_db(live.tool).begin() as session:
        (row,) = session.query(ExportRequest).all()
        assert row.state == ExportRequest.READY
        assert row.total == row.done == 2 + 3  # two files; a badge's credential and 2 images
        key = row.storage_key
        export_id = row.id
    ready = requests.get(asked.url, timeout=30)
    assert "can be downloaded until" in ready.text
    zipped = submit(requests.Session(), ready.url, _form(ready, f"/my/records/exports/{export_id}"))
    assert zipped.status_code == 200
    assert zipped.headers["Cache-Control"] == "no-store"
    out = tmp_path / "prepared.zip"
    out.write_bytes(zipped.content)
    export = read_export(out)
    (person,) = export.data["people"]
    assert person["profile"]["sub"] == world.sub
    (attempt,) = person["attempts"]
    plan = next(f for f in attempt["files"] if f["name"] == "Lesson plan, Year 7.pdf")
    assert export.entries[plan["path"]] == PLAN

    # Past its time, the link says so and the worker deletes the zip from the store.
    with get_db(live.tool).begin() as session:
        session.get_one(ExportRequest, export_id).expires_at = utcnow() - timedelta(minutes=1)
    expired = submit(
        requests.Session(), ready.url, _form(ready, f"/my/records/exports/{export_id}")
    )
    assert expired.status_code == 410
    assert "This download of your records has expired." in expired.text
    Builder(live.tool).run(until_idle=True)
    with live.tool.app_context():
        assert key is not None and not evidence_store().exists(key)
    again = requests.get(asked.url, timeout=30)
    assert "The last zip prepared for you has expired." in again.text
    assert "Prepare my records" in again.text


def test_someone_elses_prepared_export_is_not_theirs_to_download(
    live: LiveServers,
) -> None:
    build_world(live)
    educator = launch(live, LEARNER, "Microcred: welcome")
    page = educator.get("/my/records")
    submit(requests.Session(), page.url, _form(page, "/my/records/prepare"))
    Builder(live.tool).run(until_idle=True)
    with get_db(live.tool).begin() as session:
        (row,) = session.query(ExportRequest).all()
        export_id = row.id
    other = launch(live, "priya.natarajan@example.edu", "Microcred: welcome")

    refused = other.post(f"/my/records/exports/{export_id}")

    assert refused.status_code == 404
    assert "There is no such export of your records." in refused.text
    # Nor another platform's: the beta platform's person has one ready too.
    with get_db(live.tool).begin() as session:
        beta = session.scalars(select(LtiUser).where(LtiUser.sub == "beta-user")).one()
        theirs = ExportRequest(
            registration_id=beta.registration_id,
            user_id=beta.id,
            state=ExportRequest.READY,
            storage_key=row_key(live, export_id),
            expires_at=utcnow() + timedelta(days=1),
        )
        session.add(theirs)
        session.flush()
        beta_export = theirs.id
    assert educator.post(f"/my/records/exports/{beta_export}").status_code == 404
    assert educator.post(f"/my/records/exports/{export_id}").status_code == 200


def row_key(live: LiveServers, export_id: int) -> str | None:
    with get_db(live.tool).begin() as session:
        return session.get_one(ExportRequest, export_id).storage_key


def test_a_build_whose_worker_stopped_is_taken_up_once_its_lease_lapses(
    live: LiveServers,
) -> None:
    build_world(live)
    educator = launch(live, LEARNER, "Microcred: welcome")
    page = educator.get("/my/records")
    submit(requests.Session(), page.url, _form(page, "/my/records/prepare"))
    stopped = Builder(live.tool)
    export_id = stopped.claim()  # a worker took it, then its process ended
    assert export_id is not None
    assert Builder(live.tool).claim() is None  # held: nobody else takes it

    with get_db(live.tool).begin() as session:
        row = session.get_one(ExportRequest, export_id)
        assert row.state == ExportRequest.BUILDING
        row.lease_until = utcnow() - timedelta(seconds=1)
    builder = Builder(live.tool)
    builder.run(until_idle=True)

    assert builder.counters.built == 1
    with get_db(live.tool).begin() as session:
        assert session.get_one(ExportRequest, export_id).state == ExportRequest.READY

"""The privacy pages: an educator's download of their own records, from their profile page
inside the LMS's frame. The page and the download work on the launch's session token alone
(a form posts it), so a browser that refuses the tool's cookies in a frame still gets its zip.

The educator's records are those of the person their launch names, on the platform it came
from (platform + ``sub``): joining records across platforms is an operator's decision, by email,
and audited (``flask privacy export --email``)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, send_file, url_for
from werkzeug.wrappers import Response

from app import lti
from app.badges.services import site_of
from app.db import db_session
from app.errors import AppError
from app.evidence.files import human_size
from app.evidence.storage import evidence_store
from app.lti import services as lti_services
from app.privacy import building, export
from app.privacy.models import ExportRequest

bp = Blueprint("privacy", __name__, template_folder="templates")


def _own_records() -> tuple[object, list[export.Person]]:
    launch = lti.require_launch()
    if launch.is_anonymous or launch.user is None:
        raise AppError(
            "Your LMS did not tell Microcred who you are, so there are no records of you here.",
            status=403,
            code="anonymous_launch",
            title="No records for anonymous visitors",
            hint="Ask your LMS administrator to share your name with Microcred.",
        )
    lti.session_token_for(launch)
    session = db_session()
    if lti_services.find_user(session, launch) is None:
        raise AppError("Open Microcred from your course again.", status=403)
    return launch, export.people_on_launch(session, launch.registration_id, launch.user.sub)


@bp.get("/my/records")
def my_records() -> str:
    """What an export holds, and the button that downloads it; for records too large to build
    while one waits, the button that asks the worker, and how far it has come."""
    launch, people = _own_records()
    session = db_session()
    size = export.evidence_bytes(session, people)
    prepared = building.latest(session, people[0].user_id)
    return render_template(
        "privacy/mine.html",
        launch=launch,
        size=human_size(size),
        large=size > building.inline_limit(current_app),
        prepared=prepared,
        ready=building.downloadable(prepared),
        prepared_size=human_size(prepared.size) if prepared and prepared.size else "",
    )


def _back() -> Response:
    values: dict[str, Any] = {lti.session.SESSION_PARAM: g.session_token}
    return redirect(url_for("privacy.my_records", **values), code=303)


@bp.post("/my/records/prepare")
def prepare() -> Response:
    """Ask the worker to build the zip; the records page shows how far it has come."""
    _launch, people = _own_records()
    session = db_session()
    building.request_export(session, people[0])
    session.commit()
    return _back()


@bp.post("/my/records/exports/<int:export_id>")
def download_prepared(export_id: int) -> Response:
    """A zip the worker built, streamed from the evidence store while it has not expired."""
    _launch, people = _own_records()
    session = db_session()
    row = session.get(ExportRequest, export_id)
    if row is None or row.user_id != people[0].user_id:
        raise AppError("There is no such export of your records.", status=404, code="no_export")
    if not building.downloadable(row) or row.storage_key is None:
        raise AppError(
            "This download of your records has expired.",
            status=410,
            code="export_expired",
            title="Download expired",
            hint="Open Your records and prepare them again.",
        )
    store = evidence_store()
    response = Response(
        store.read(row.storage_key),
        mimetype="application/zip",
        headers={
            "Content-Disposition": 'attachment; filename="microcred-records.zip"',
            "Cache-Control": "no-store",
        },
    )
    if row.size is not None:
        response.headers["Content-Length"] = str(row.size)
    return response


@bp.post("/my/records/download")
def download() -> Response:
    """The zip of the educator's records, built into a temporary file (the evidence streamed
    into it from the store), sent from there; no copy stays behind."""
    _launch, people = _own_records()
    handle, path = tempfile.mkstemp(prefix="microcred-records-", suffix=".zip")
    os.close(handle)
    try:
        export.write(db_session(), evidence_store(), site_of(current_app), people, path)
        response = send_file(
            path,
            mimetype="application/zip",
            as_attachment=True,
            download_name="microcred-records.zip",
        )
    finally:
        # ``send_file`` has opened the file: its name can go now, the bytes stay readable
        # until the response is sent and closes it (a response's close hooks do not run for
        # a file it passes straight through).
        os.unlink(path)
    response.headers["Cache-Control"] = "no-store"
    return response

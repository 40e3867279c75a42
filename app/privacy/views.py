"""The privacy pages: an educator's download of their own records, from their profile page
inside the LMS's frame. The page and the download work on the launch's session token alone
(a form posts it), so a browser that refuses the tool's cookies in a frame still gets its zip.

The educator's records are those of the person their launch names, on the platform it came
from (platform + ``sub``): joining records across platforms is an operator's decision, by email,
and audited (``flask privacy export --email``)."""

from __future__ import annotations

import os
import tempfile

from flask import Blueprint, current_app, render_template, send_file
from werkzeug.wrappers import Response

from app import lti
from app.badges.services import site_of
from app.db import db_session
from app.errors import AppError
from app.evidence.storage import evidence_store
from app.lti import services as lti_services
from app.privacy import export

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
    """What an export holds, and the button that downloads it."""
    launch, _people = _own_records()
    return render_template("privacy/mine.html", launch=launch)


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

"""The console's Records requests page: an operator exports one person's records, named by
platform and LMS user id, or joined across platforms by email (``flask privacy export`` does
the same from the command line). Every export is audited as the signed-in operator.

A plain HTML form that works without script; a request that names nobody shows the form again
with what was typed and a message saying what to do."""

from __future__ import annotations

import os
import tempfile

from flask import Blueprint, current_app, render_template, send_file
from werkzeug.wrappers import Response

from app import inputs
from app.admin import console
from app.badges.services import site_of
from app.db import db_session
from app.errors import AppError
from app.evidence.storage import evidence_store
from app.lti import registrations
from app.privacy import export

bp = Blueprint("privacy_admin", __name__, template_folder="templates")
console.attach(bp, operators_only=True)


def _page(values: dict[str, str], error: AppError | None = None) -> str:
    return render_template(
        "privacy/admin_records.html",
        platforms=registrations.list_registrations(db_session()),
        values=values,
        error=error,
        section="privacy_admin.records",
    )


@bp.get("/records", endpoint="records")
def records_page() -> str:
    return _page({"platform": "", "sub": "", "email": ""})


@bp.post("/records/export", endpoint="export")
def export_records() -> Response | tuple[str, int]:
    """Build the zip into a temporary file, audit the export, send the zip."""
    form = inputs.form()
    values = {
        "platform": form.text("platform", max_length=inputs.LONG_TEXT),
        "sub": form.text("sub", max_length=inputs.LONG_TEXT),
        "email": form.text("email", max_length=inputs.LONG_TEXT),
    }
    session = db_session()
    try:
        if values["email"] and (values["platform"] or values["sub"]):
            raise export.BadRequest(
                "Give either a platform and an LMS user id, or an email, not both.",
                hint="An email joins the person's records on every platform that sent it.",
            )
        if values["email"]:
            people = export.people_with(session, values["email"])
        else:
            people = export.people_on(session, values["platform"], values["sub"])
    except AppError as refused:
        return _page(values, refused), refused.status
    handle, path = tempfile.mkstemp(prefix="microcred-records-", suffix=".zip")
    os.close(handle)
    try:
        counts = export.write(session, evidence_store(), site_of(current_app), people, path)
        actor = console.current_actor()
        export.audit(
            session,
            people,
            counts,
            actor=actor.label,
            operator_id=actor.operator_id,
            by_email=bool(values["email"]),
        )
        session.commit()
        response = send_file(
            path,
            mimetype="application/zip",
            as_attachment=True,
            download_name=f"microcred-records-{people[0].user_id}.zip",
        )
    finally:
        os.unlink(path)  # send_file has it open: the bytes stay readable until sent
    response.headers["Cache-Control"] = "no-store"
    return response

"""The console's review pages: assessor grants (``/admin/assessors``, for operators and
organisation admins), turnaround per organisation (``/admin/turnaround``, operators only), and
a credential's calibration (``/admin/catalog/credentials/<slug>/calibration``, for whoever may
author the credential).

Plain HTML forms that work without script; a refused grant shows the form again with what was
typed and a message saying what to do."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import inputs
from app.admin import console
from app.catalog import authoring
from app.db import db_session
from app.errors import NotFound
from app.grading import assessors, sync
from app.grading.calibration import calibration as calibration_of
from app.grading.turnaround import WINDOW_DAYS
from app.grading.turnaround import turnaround as turnaround_of
from app.lti.registrations import list_registrations

bp = Blueprint("grading_admin", __name__, template_folder="templates")
console.attach(
    bp,
    operators_only=True,
    open_to_all=(
        "grading_admin.assessors",
        "grading_admin.revoke",
        "grading_admin.calibration",
    ),
)

NOTICES = {
    "granted": "{person} can now assess {organisation}'s credentials.",
    "regranted": "{person} can assess {organisation}'s credentials again.",
    "lead-changed": "{person}'s grant for {organisation} is changed.",
    "unchanged": "{person} already had this grant for {organisation}: nothing was changed.",
    "revoked": "{person} no longer assesses {organisation}'s credentials.",
}


def _rights() -> authoring.Rights:
    return authoring.rights_of(db_session(), console.current_account())


def _notice() -> str | None:
    template = NOTICES.get(request.args.get("done", ""))
    if template is None:
        return None
    return template.format(
        person=request.args.get("person", ""), organisation=request.args.get("organisation", "")
    )


@bp.route("/assessors", methods=["GET", "POST"], endpoint="assessors")
def assessors_page() -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    organisations = assessors.manageable_organisations(session, rights)
    form = inputs.form()
    typed: dict[str, Any] = {
        "organisation": inputs.values().text("organisation", max_length=inputs.SLUG_CHARS),
        "platform": form.text("platform", max_length=64),
        "email": form.text("email", max_length=320, strip=True),
        "sub": form.text("sub", max_length=255, strip=True),
        "lead": form.text("lead") in {"1", "on"},
    }
    if request.method == "GET":
        if len(organisations) == 1:
            typed["organisation"] = organisations[0].slug
        return _page(organisations, typed, {}, 200)
    errors: dict[str, str] = {}
    organisation = registration = None
    try:
        organisation = assessors.organisation_to_manage(session, rights, typed["organisation"])
    except NotFound:
        errors["organisation"] = "Choose the organisation whose credentials they will assess."
    try:
        registration = assessors.find_registration(session, typed["platform"])
    except NotFound:
        errors["platform"] = "Choose the platform they open Microcred from."
    if not typed["email"] and not typed["sub"]:
        errors["email"] = "Enter their email as their LMS sends it, or their LMS user id."
    if errors or organisation is None or registration is None:
        return _page(organisations, typed, errors, 400)
    try:
        result = assessors.grant(
            session,
            rights,
            organisation,
            registration,
            email=typed["email"],
            sub=typed["sub"],
            lead=typed["lead"],
        )
    except assessors.GrantRefused as exc:
        session.rollback()
        return _page(organisations, typed, {exc.field: exc.message}, exc.status)
    session.commit()
    return redirect(
        url_for(
            "grading_admin.assessors",
            done=result.outcome,
            person=result.person,
            organisation=organisation.name,
        ),
        303,
    )


def _page(
    organisations: list[Any], typed: dict[str, Any], errors: dict[str, str], status: int
) -> tuple[str, int]:
    session = db_session()
    page = render_template(
        "grading/admin/assessors.html",
        groups=assessors.grants_by_organisation(session, organisations),
        organisation_options=[(o.slug, o.name) for o in organisations],
        platform_options=[
            (p.uuid, p.name if p.is_active else f"{p.name} (switched off)")
            for p in list_registrations(session)
        ],
        typed=typed,
        errors=errors,
        notice=_notice(),
    )
    return page, status


@bp.route("/assessors/<int:grant_id>/revoke", methods=["GET", "POST"])
def revoke(grant_id: int) -> Response | str:
    session = db_session()
    rights = _rights()
    if request.method == "GET":
        row, organisation = assessors.grant_to_revoke(session, rights, grant_id)
        return render_template("grading/admin/revoke.html", grant=row, organisation=organisation)
    row, organisation = assessors.revoke(session, rights, grant_id)
    session.commit()
    return redirect(
        url_for(
            "grading_admin.assessors",
            done="revoked",
            person=row.person,
            organisation=organisation.name,
        ),
        303,
    )


@bp.get("/turnaround")
def turnaround() -> str:
    return render_template(
        "grading/admin/turnaround.html",
        rows=turnaround_of(db_session()),
        window_days=WINDOW_DAYS,
    )


@bp.get("/gradebook")
def gradebook() -> str:
    session = db_session()
    chosen = inputs.query().optional_integer("platform")
    return render_template(
        "grading/admin/gradebook.html",
        platforms=sync.overview(session),
        failures=sync.failures(session, chosen),
        chosen=chosen,
        shown=sync.FAILURES_SHOWN,
        notice=request.args.get("retried"),
    )


@bp.post("/gradebook/retry")
def gradebook_retry() -> Response:
    session = db_session()
    form = inputs.form()
    chosen = form.optional_integer("platform")
    ids = form.integers("delivery")
    account = console.current_account()
    count = sync.operator_retry(
        session, actor=account.email, operator_id=account.id, ids=ids, registration_id=chosen
    )
    return redirect(url_for("grading_admin.gradebook", retried=count), code=303)


@bp.get("/catalog/credentials/<slug>/calibration")
def calibration(slug: str) -> str:
    session = db_session()
    credential = authoring.credential_for(session, _rights(), slug)
    return render_template(
        "grading/admin/calibration.html",
        credential=credential,
        result=calibration_of(session, credential.id),
    )

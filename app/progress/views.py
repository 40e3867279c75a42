"""Where people stand on a course activity, inside a launch: the activity's page (its
credential, or "not set up yet"; one's own work; what waits for a teacher's review), the
instructor's view of who has opened it, the class's progress on it (the LMS's roster joined
with each learner's state; also as CSV), and the course overview (every credential placed in the
course by every learner; also as CSV). The URLs are the activity's (``/activity``...); the
pages read evidence, grading and linking (``app.progress.services``, ``app.progress.course``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.catalog import services as catalog
from app.db import db_session
from app.evidence import services as evidence
from app.grading import assessors, gradebook
from app.grading import services as grading
from app.linking import services as linking
from app.lti import deep_linking, require_launch, session_token_for
from app.lti.launch import Launch
from app.lti.session import SESSION_PARAM
from app.progress import course as overview
from app.progress import services as progress

bp = Blueprint("progress", __name__, template_folder="templates")


def _with_session(endpoint: str, launch: Launch) -> str:
    values: dict[str, Any] = {SESSION_PARAM: session_token_for(launch)}
    return url_for(endpoint, **values)


@bp.get("/activity")
def activity() -> Response | str:
    launch = require_launch()
    session_token_for(launch)
    if deep_linking.request_of(launch) is not None:
        return redirect(_with_session("linking.picker", launch), code=303)
    session = db_session()
    resolved = linking.resolve(session, launch)
    visitor = linking.record_visit(session, launch)
    if visitor is not None and not isinstance(resolved, linking.Unbound):
        gradebook.catch_up(session, launch.registration_id, visitor, resolved.credential.id)
    session.commit()
    if isinstance(resolved, linking.Unbound):
        return render_template("lti/launched.html", launch=launch, unbound=True)
    page = catalog.CredentialPage(
        credential=resolved.credential,
        version=resolved.version,
        content=resolved.version.content,
        stacks=catalog.stacks_of_credential(session, resolved.credential.id),
    )
    work = evidence.launch_summary(session, launch, resolved.credential.id)
    # Someone who does not teach the course may still review as an assessor: their way in.
    assessor = (
        not launch.may_add_content
        and launch.user is not None
        and assessors.is_assessor(session, launch.registration_id, launch.user.sub)
    )
    return render_template(
        "progress/activity.html",
        launch=launch,
        page=page,
        resolved=resolved,
        work=work,
        assessor=assessor,
        waiting=progress.waiting_here(session, launch, resolved.credential.slug),
        progress=progress.own_review_progress(session, launch, work, resolved.credential.id),
    )


@bp.get("/activity/people")
def people() -> str:
    launch = require_launch()
    linking.require_content_rights(launch, "see who has opened this activity")
    session_token_for(launch)
    session = db_session()
    resolved = linking.resolve(session, launch)
    return render_template(
        "progress/people.html",
        launch=launch,
        resolved=None if isinstance(resolved, linking.Unbound) else resolved,
        blind=not isinstance(resolved, linking.Unbound)
        and grading.reviewed_blind(session, resolved.credential, resolved.version),
        visitors=progress.visitors(
            session,
            launch,
            None if isinstance(resolved, linking.Unbound) else resolved.credential.id,
        ),
    )


@bp.get("/activity/progress")
def progress_page() -> str:
    launch = require_launch()
    progress.require_teaching_rights(launch)
    session_token_for(launch)
    session = db_session()
    resolved = progress.bound_credential(session, launch)
    filters = progress.Filters.parse(request.args)
    page = progress.course_progress(
        session,
        launch,
        resolved,
        filters,
        refresh=request.args.get("refresh") == "1",
    )
    return render_template(
        "progress/progress.html",
        launch=launch,
        resolved=resolved,
        blind=grading.reviewed_blind(session, resolved.credential, resolved.version),
        progress=page,
        age=progress.age,
        sorts=progress.SORTS,
    )


@bp.get("/activity/progress.csv")
def progress_csv() -> Response:
    launch = require_launch()
    progress.require_teaching_rights(launch)
    session = db_session()
    resolved = progress.bound_credential(session, launch)
    page = progress.course_progress(session, launch, resolved, progress.Filters.parse(request.args))
    name = progress.csv_filename(resolved.credential.slug)
    return Response(
        progress.csv_bytes(page.rows),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # Names and emails: never kept in a shared cache.
            "Cache-Control": "no-store",
        },
    )


@bp.get("/activity/course")
def course_page() -> str:
    launch = require_launch()
    progress.require_teaching_rights(launch, "the course overview")
    session_token_for(launch)
    return render_template(
        "progress/course.html",
        launch=launch,
        overview=overview.course_overview(
            db_session(), launch, refresh=request.args.get("refresh") == "1"
        ),
        cell_text=overview.cell_text,
        age=progress.age,
    )


@bp.get("/activity/course.csv")
def course_csv() -> Response:
    launch = require_launch()
    progress.require_teaching_rights(launch, "the course overview")
    found = overview.course_overview(db_session(), launch)
    name = overview.csv_filename(launch.context.title if launch.context else None)
    return Response(
        overview.csv_bytes(found),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # Names and emails: never kept in a shared cache.
            "Cache-Control": "no-store",
        },
    )

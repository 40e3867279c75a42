"""The educator's workspace for a credential, inside a launch: the credential's page in the
catalog with their standing on it, the parts with their guidance and criteria, text answers
(autosaved by script as JSON, or posted as a form without it), links, the submission checklist
and submit, and the next attempt after "not yet".

Scripted saves send the launch session as ``Authorization: Bearer``; forms carry it in the body
(app/lti/session.py). Every access goes through app/evidence/access.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app import inputs
from app.catalog import services as catalog
from app.catalog.models import Credential, CredentialVersion
from app.db import db_session
from app.errors import AppError, NotFound
from app.evidence import access, services
from app.evidence.models import Attempt
from app.evidence.services import parts_of
from app.grading import educator as review_progress
from app.linking import services as linking
from app.lti import require_launch, session_token_for
from app.lti.launch import Launch
from app.lti.session import SESSION_PARAM

bp = Blueprint(
    "evidence",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/evidence/static",
)


def _to_workspace(launch: Launch, attempt: Attempt, anchor: str | None = None) -> Response:
    values: dict[str, Any] = {SESSION_PARAM: session_token_for(launch)}
    url = url_for("evidence.workspace", slug=attempt.credential.slug, **values)
    return redirect(url + (f"#{anchor}" if anchor else ""), code=303)


def _version_for_launch(
    launch: Launch, credential: Credential
) -> tuple[CredentialVersion, int | None]:
    """The version a first attempt is made against: the course activity's (pinned or latest
    published, as app/linking resolves it) when launched from an activity for this credential,
    else the latest published one; and the course link it was opened from."""
    session = db_session()
    if launch.resource_link is not None:
        try:
            resolved = linking.resolve(session, launch)
        except AppError:
            resolved = linking.UNBOUND  # the activity's own trouble; the catalog still serves
        if isinstance(resolved, linking.Resolved) and resolved.credential.id == credential.id:
            return resolved.version, resolved.binding.resource_link_id
    return services.published_version(session, credential), None


def _page(
    launch: Launch,
    credential: Credential,
    attempt: Attempt | None,
    *,
    status: int = 200,
    conflicts: dict[str, services.AnswerConflict] | None = None,
    errors: dict[str, services.InvalidEvidence] | None = None,
    values: dict[str, str] | None = None,
) -> tuple[str, int]:
    session = db_session()
    session_token_for(launch)
    ws = services.workspace(session, attempt) if attempt is not None else None
    version = attempt.version if attempt else _version_for_launch(launch, credential)[0]
    # Before an attempt exists, the parts are shown as what will be asked, with nothing in them.
    parts = ws.parts if ws else [services.PartWork(p, None, 0, [], []) for p in parts_of(version)]
    page = render_template(
        "evidence/workspace.html",
        launch=launch,
        credential=credential,
        version=version,
        ws=ws,
        parts=parts,
        editable=bool(ws and launch.can_submit and ws.attempt.state == Attempt.DRAFT),
        contact=ws.contact if ws else services.contact_of(session, credential.id),
        limit=ws.limit if ws else services.attempt_limit(version),
        conflicts=conflicts or {},
        errors=errors or {},
        values=values or {},
        labels=services.STATE_LABELS,
        Attempt=Attempt,
        progress=review_progress.review_progress(session, attempt) if attempt else None,
    )
    return page, status


@bp.get("/catalog/credentials/<slug>")
def credential(slug: str) -> str:
    """A credential's page in the catalog (everything to know before starting), with the
    educator's own standing on it."""
    launch = require_launch()
    session_token_for(launch)
    page = catalog.credential_page(db_session(), slug)
    if page is None:
        raise NotFound(
            "There is no published micro-credential at this address.",
            hint="Go back to the catalog and choose one from the list.",
        )
    work = services.launch_summary(db_session(), launch, page.credential.id)
    return render_template("evidence/credential.html", launch=launch, page=page, work=work)


@bp.get("/work/<slug>")
def workspace(slug: str) -> tuple[str, int]:
    launch = require_launch()
    session = db_session()
    credential = services.credential_by_slug(session, slug)
    attempt = None
    if launch.can_submit:
        user = access.educator(session, launch)
        attempt = services.latest_attempt(session, user.id, credential.id)
    return _page(launch, credential, attempt)


@bp.post("/work/<slug>/start")
def start(slug: str) -> Response:
    launch = require_launch()
    session = db_session()
    user = access.educator(session, launch)
    credential = services.credential_by_slug(session, slug)
    version, link_id = _version_for_launch(launch, credential)
    attempt = services.start_attempt(session, user, credential, version, resource_link_id=link_id)
    session.commit()
    return _to_workspace(launch, attempt)


# --- Text answers ---------------------------------------------------------------------------


def _json_save_input() -> tuple[str, int]:
    hint = "Reload the page if this came from the workspace."
    with inputs.reworded(
        services.InvalidEvidence, 'Send the answer as JSON: {"text": "…", "version": 3}.', hint=hint
    ):
        body = inputs.json_object()
    with inputs.reworded(
        services.InvalidEvidence,
        "The answer needs its text (a string) and the version it was written from (a whole "
        "number, 0 for a first save).",
        hint=hint,
    ):
        if "text" not in body:
            raise inputs.BadInput("text", "is missing")
        return body.text("text", max_length=inputs.LONG_TEXT), body.integer("version")


@bp.put("/work/attempts/<int:attempt_id>/answers/<part_key>")
def save_answer_json(attempt_id: int, part_key: str) -> tuple[Response, int]:
    """Autosave: 200 with the new version, or 409 with both texts (nothing overwritten)."""
    launch = require_launch()
    session = db_session()
    attempt = access.own_attempt(session, launch, attempt_id)
    text, version = _json_save_input()
    try:
        saved = services.save_answer(session, attempt, part_key, text, version)
    except services.AnswerConflict as exc:
        session.rollback()
        body = {
            "error": {"code": exc.code, "title": exc.title, "message": exc.message},
            "message": exc.message,
            "your_text": exc.your_text,
            "server_text": exc.server_text,
            "server_version": exc.server_version,
        }
        return jsonify(body), exc.status
    session.commit()
    return jsonify(
        version=saved.version,
        saved_at=saved.saved_at.isoformat(),
        words=saved.words,
        over_limit=saved.over_limit,
        changed=saved.changed,
        session=session_token_for(launch),
    ), 200


def _form_version() -> int:
    return inputs.form().integer("version", 0)


@bp.post("/work/attempts/<int:attempt_id>/answers/<part_key>")
def save_answer_form(attempt_id: int, part_key: str) -> Response | tuple[str, int]:
    """The same save as a plain form post (no script): back to the part, or the conflict."""
    launch = require_launch()
    session = db_session()
    attempt = access.own_attempt(session, launch, attempt_id)
    text = inputs.form().text("text", max_length=inputs.LONG_TEXT)
    try:
        services.save_answer(session, attempt, part_key, text, _form_version())
    except services.AnswerConflict as exc:
        session.rollback()
        return _page(launch, attempt.credential, attempt, status=409, conflicts={part_key: exc})
    except services.InvalidEvidence as exc:
        session.rollback()
        return _page(
            launch, attempt.credential, attempt, status=400, errors={f"text-{part_key}": exc}
        )
    session.commit()
    return _to_workspace(launch, attempt, f"part-{part_key}")


# --- Links ----------------------------------------------------------------------------------


@bp.post("/work/attempts/<int:attempt_id>/links")
def add_link(attempt_id: int) -> Response | tuple[str, int]:
    launch = require_launch()
    session = db_session()
    attempt = access.own_attempt(session, launch, attempt_id)
    form = inputs.form()
    part_key = form.text("part", max_length=inputs.SLUG_CHARS)
    url = form.text("url", max_length=inputs.LONG_TEXT)
    title = form.text("title", max_length=inputs.LONG_TEXT)
    try:
        services.add_link(session, attempt, part_key, url, title)
    except services.InvalidEvidence as exc:
        session.rollback()
        return _page(
            launch,
            attempt.credential,
            attempt,
            status=400,
            errors={f"link-{part_key}": exc},
            values={"part": part_key, "url": url[:3000], "title": title[:500]},
        )
    session.commit()
    return _to_workspace(launch, attempt, f"part-{part_key}")


@bp.post("/work/attempts/<int:attempt_id>/links/<int:link_id>/remove")
def remove_link(attempt_id: int, link_id: int) -> Response:
    launch = require_launch()
    session = db_session()
    attempt = access.own_attempt(session, launch, attempt_id)
    part_key = inputs.form().text("part", max_length=inputs.SLUG_CHARS)
    services.remove_link(session, attempt, link_id)
    session.commit()
    return _to_workspace(launch, attempt, f"part-{part_key}")


# --- Submitting and the next attempt --------------------------------------------------------


@bp.get("/work/attempts/<int:attempt_id>/submit")
def confirm_submit(attempt_id: int) -> tuple[str, int]:
    launch = require_launch()
    session = db_session()
    attempt = access.own_attempt(session, launch, attempt_id)
    access.require_open(attempt)
    session_token_for(launch)
    ws = services.workspace(session, attempt)
    return render_template("evidence/submit.html", launch=launch, ws=ws), 200


@bp.post("/work/attempts/<int:attempt_id>/submit")
def submit(attempt_id: int) -> Response | tuple[str, int]:
    launch = require_launch()
    session = db_session()
    attempt = access.own_attempt(session, launch, attempt_id)
    try:
        services.submit(session, attempt)
    except services.NotReady as exc:
        session.rollback()
        session_token_for(launch)
        ws = services.workspace(session, attempt)
        page = render_template("evidence/submit.html", launch=launch, ws=ws, error=exc)
        return page, exc.status
    session.commit()
    return _to_workspace(launch, attempt, "state")


@bp.post("/work/attempts/<int:attempt_id>/next")
def next_attempt(attempt_id: int) -> Response | tuple[str, int]:
    launch = require_launch()
    session = db_session()
    previous = access.own_attempt(session, launch, attempt_id)
    note = inputs.form().text("note", max_length=inputs.LONG_TEXT)
    try:
        attempt = services.start_next_attempt(session, previous, note)
    except services.InvalidEvidence as exc:
        session.rollback()
        return _page(
            launch,
            previous.credential,
            previous,
            status=400,
            errors={"note": exc},
            values={"note": note[: services.MAX_NOTE_CHARS + 100]},
        )
    session.commit()
    return _to_workspace(launch, attempt)

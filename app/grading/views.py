"""The review queue and the review page, inside a launch (an instructor's or an assessor's).

Opening a submission from the queue claims it (a POST); the review page then shows the rubric
beside the evidence. The judgement autosaves by script (JSON, ``Authorization: Bearer``) and
also posts as a plain form. "Continue to the decision" shows what the passing rule gives and
asks for confirmation before anything is final. Every access goes through
app/grading/services.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app import inputs
from app.db import db_session
from app.errors import AppError
from app.evidence import files
from app.evidence.file_views import INLINE_TYPES
from app.evidence.models import Attempt
from app.grading import opening, rules, services, sync
from app.grading import queue as review_queue
from app.grading.models import Review
from app.linking import services as linking
from app.lti import require_launch, session_token_for
from app.lti.launch import Launch
from app.lti.session import SESSION_PARAM

bp = Blueprint(
    "grading",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/grading/static",
)


def _redirect(endpoint: str, launch: Launch, *, anchor: str = "", **values: Any) -> Response:
    values[SESSION_PARAM] = session_token_for(launch)
    return redirect(url_for(endpoint, **values) + anchor, code=303)


@bp.get("/review")
def queue_page() -> str:
    launch = require_launch()
    session = db_session()
    reviewer = services.reviewer_of(session, launch)
    session_token_for(launch)
    filters = review_queue.Filters.parse(inputs.query())
    page = review_queue.queue(session, reviewer, filters)
    return render_template(
        "grading/queue.html",
        launch=launch,
        queue=page,
        waited_choices=review_queue.WAITED_CHOICES,
        notice=NOTICES.get(inputs.query().text("notice")),
    )


NOTICES = {
    "earned": "Decision recorded: earned. The educator sees it now, and the gradebook and badge "
    "follow shortly.",
    "not_yet": "Decision recorded: not yet. The educator sees your feedback now and may resubmit.",
    "second": "Your review is submitted. The submission now waits for a second, independent "
    "review by someone else: another instructor or a teaching assistant of this course, or an "
    "assessor of the credential's organisation (Microcred's operator grants assessors in the "
    "console, under Assessors).",
    "lead": "Your review is submitted. The two reviews disagree, so a lead reviewer will "
    "settle it.",
    "released": "You gave the submission back to the queue.",
    "empty": "Nothing is waiting for you to review right now.",
}


@bp.post("/review/next")
def review_next() -> Response:
    launch = require_launch()
    session = db_session()
    reviewer = services.reviewer_of(session, launch)
    filters = review_queue.Filters.parse(inputs.form())
    for attempt_id in review_queue.next_available(session, reviewer, filters):
        try:
            services.claim(session, reviewer, services.target(session, reviewer, attempt_id))
        except (services.ClaimedByOther, services.NotYourTurn, services.AlreadyDecided):
            session.rollback()
            continue
        session.commit()
        return _redirect("grading.review_page", launch, attempt_id=attempt_id)
    return _redirect("grading.queue_page", launch, notice="empty", **filters.query_args())


@bp.post("/review/attempts/<int:attempt_id>/claim")
def claim(attempt_id: int) -> Response:
    launch = require_launch()
    session = db_session()
    reviewer = services.reviewer_of(session, launch)
    found = services.target(session, reviewer, attempt_id)
    services.claim(session, reviewer, found)
    session.commit()
    return _redirect("grading.review_page", launch, attempt_id=attempt_id)


@bp.post("/review/attempts/<int:attempt_id>/release")
def release(attempt_id: int) -> Response:
    launch = require_launch()
    session = db_session()
    reviewer = services.reviewer_of(session, launch)
    services.release(session, reviewer, services.target(session, reviewer, attempt_id))
    session.commit()
    return _redirect("grading.queue_page", launch, notice="released")


def _judgement_from_form(found: services.Target) -> tuple[dict[str, Any], str]:
    form = inputs.form()
    criteria: dict[str, Any] = {}
    for criterion in rules.criteria_of(found.version.content):
        value = form.text(f"met-{criterion.key}")
        criteria[criterion.key] = {
            "met": {"met": True, "not_yet": False}.get(value),
            "comment": form.text(f"comment-{criterion.key}", max_length=inputs.LONG_TEXT),
        }
    return criteria, form.text("feedback", max_length=inputs.LONG_TEXT)


def _form_number(name: str) -> int:
    form = inputs.form()
    if not form.has(name):
        raise services.InvalidReview(
            "This form is missing its review number.",
            hint="Reload the review page and try again.",
        )
    return form.integer(name)


def _review_page(
    launch: Launch,
    reviewer: services.Reviewer,
    found: services.Target,
    *,
    status: int = 200,
    error: AppError | None = None,
    posted: tuple[dict[str, Any], str] | None = None,
) -> tuple[str, int]:
    page = services.review_page(db_session(), reviewer, found)
    session_token_for(launch)
    judged: dict[str, Any] = page.claim.criteria if page.claim else {}
    feedback = page.claim.feedback if page.claim else ""
    if posted is not None:  # a refused form: show what was typed, not the stored draft
        judged, feedback = posted
    html = render_template(
        "grading/review.html",
        launch=launch,
        page=page,
        judged=judged,
        feedback=feedback,
        error=error,
        error_fields=set(getattr(error, "fields", []) or []),
        inline_types=INLINE_TYPES,
        blind_name=files.blind_name,
        Review=Review,
        Attempt=Attempt,
        max_comment=rules.MAX_COMMENT_CHARS,
        max_feedback=rules.MAX_FEEDBACK_CHARS,
    )
    return html, status


@bp.get("/review/attempts/<int:attempt_id>")
def review_page(attempt_id: int) -> tuple[str, int]:
    launch = require_launch()
    session = db_session()
    reviewer = services.reviewer_of(session, launch)
    return _review_page(launch, reviewer, services.target(session, reviewer, attempt_id))


@bp.post("/review/attempts/<int:attempt_id>/draft")
def save_draft_json(attempt_id: int) -> tuple[Response, int]:
    """Autosave (script): ``{"review": id, "version": n, "criteria": {...}, "feedback": ""}``."""
    launch = require_launch()
    session = db_session()
    reviewer = services.reviewer_of(session, launch)
    found = services.target(session, reviewer, attempt_id)
    hint = "Reload the review page; your last autosave is kept."
    with inputs.reworded(
        services.InvalidReview,
        "Send the review as JSON: review, version, criteria and feedback.",
        hint=hint,
    ):
        body = inputs.json_object()
        judged = body.mapping("criteria")
        feedback = body.text("feedback", max_length=inputs.LONG_TEXT)
    with inputs.reworded(
        services.InvalidReview,
        "The autosave did not say which review and version it saves.",
        hint=hint,
    ):
        review_id, version = body.integer("review"), body.integer("version")
    try:
        review = services.save_draft(session, reviewer, found, review_id, version, judged, feedback)
    except services.ReviewConflict as exc:
        session.rollback()
        return jsonify(
            error={"code": exc.code, "message": exc.message, "hint": exc.hint},
            version=exc.server_version,
        ), 409
    session.commit()
    criteria = rules.criteria_of(found.version.content)
    return jsonify(
        version=review.version,
        saved_at=review.updated_at.isoformat(),
        expires_at=review.expires_at.isoformat(),
        judged=len(criteria) - len(rules.unjudged(found.version.content, review.criteria)),
        total=len(criteria),
        outcome=rules.outcome(found.version.content, review.criteria),
        session=session_token_for(launch),
    ), 200


@bp.post("/review/attempts/<int:attempt_id>/save")
def save_form(attempt_id: int) -> Response | tuple[str, int]:
    """Save the draft from the form (without script), then stay or continue to the decision."""
    launch = require_launch()
    session = db_session()
    reviewer = services.reviewer_of(session, launch)
    found = services.target(session, reviewer, attempt_id)
    posted = _judgement_from_form(found)
    try:
        services.save_draft(
            session,
            reviewer,
            found,
            _form_number("review"),
            _form_number("version"),
            *posted,
        )
    except (services.InvalidReview, services.ReviewConflict) as exc:
        session.rollback()
        return _review_page(launch, reviewer, found, status=exc.status, error=exc, posted=posted)
    session.commit()
    if inputs.form().text("action") == "decide":
        return _redirect("grading.confirm", launch, attempt_id=attempt_id)
    return _redirect("grading.review_page", launch, anchor="#saved", attempt_id=attempt_id)


@bp.get("/review/attempts/<int:attempt_id>/decide")
def confirm(attempt_id: int) -> tuple[str, int]:
    """Show the outcome the rubric gives, and ask to confirm; or the form with what is missing."""
    launch = require_launch()
    session = db_session()
    reviewer = services.reviewer_of(session, launch)
    found = services.target(session, reviewer, attempt_id)
    held = services.current_claim(session, reviewer, found)
    if held is None:
        return _review_page(launch, reviewer, found)
    content = found.version.content
    problems = rules.decision_problems(content, held.criteria)
    if problems is not None:
        problem = services.InvalidReview(
            problems[0], hint="Your draft is saved.", fields=problems[1]
        )
        return _review_page(launch, reviewer, found, status=400, error=problem)
    session_token_for(launch)
    return render_template(
        "grading/confirm.html",
        launch=launch,
        found=found,
        review=held,
        criteria=rules.criteria_of(content),
        rule=rules.passing_rule_of(content),
        outcome=rules.outcome(content, held.criteria),
        Review=Review,
    ), 200


@bp.post("/review/attempts/<int:attempt_id>/decide")
def decide(attempt_id: int) -> Response | tuple[str, int]:
    launch = require_launch()
    session = db_session()
    reviewer = services.reviewer_of(session, launch)
    found = services.target(session, reviewer, attempt_id)
    held = services.current_claim(session, reviewer, found)
    if inputs.form().text("action") == "back" or held is None:
        return _redirect("grading.review_page", launch, attempt_id=attempt_id)
    try:
        result = services.submit_review(
            session,
            reviewer,
            found,
            held.id,
            _form_number("version"),
            held.criteria,
            held.feedback,
        )
    except (services.InvalidReview, services.ReviewConflict) as exc:
        session.rollback()
        return _review_page(launch, reviewer, found, status=exc.status, error=exc)
    session.commit()
    notice = result.decision.outcome if result.decision else result.waiting_for
    return _redirect("grading.queue_page", launch, notice=notice)


# --- Opening a submission from the LMS's gradebook (app/grading/opening.py) -----------------


@bp.get("/submissions/<int:attempt_id>")
def submission(attempt_id: int) -> Response | tuple[str, int]:
    """A submission's address (``gradebook.submission_url``), which Canvas's SpeedGrader and a
    submission's details launch: its reviewers review it, its educator sees their work."""
    launch = require_launch()
    return _opened(launch, opening.open_attempt(db_session(), launch, attempt_id))


@bp.get("/review/for-user")
def submission_for_user() -> Response | tuple[str, int]:
    """Where an LtiSubmissionReviewRequest lands (Moodle's grader report): the submission of
    the person it names, for the course's instructors and TAs."""
    launch = require_launch()
    session = db_session()
    destination = opening.submission_for_user(session, launch)
    session.commit()  # a first launch of the activity may have bound its credential
    return _opened(launch, destination)


def _opened(launch: Launch, destination: opening.Destination) -> Response | tuple[str, int]:
    if isinstance(destination, opening.ToReview):
        return _redirect("grading.review_page", launch, attempt_id=destination.attempt_id)
    if isinstance(destination, opening.ToOwnWork):
        return _redirect("evidence.workspace", launch, slug=destination.slug)
    if isinstance(destination, opening.ToActivity):
        return _redirect("progress.activity", launch)
    session_token_for(launch)
    return render_template("grading/from_gradebook.html", launch=launch, found=destination), 200


# --- Gradebook sync of a course activity ----------------------------------------------------


SYNC_NOTICES = {
    "retried": "Sending again now. Reload in a moment to see the result.",
}


@bp.get("/gradebook")
def gradebook_page() -> str:
    launch = require_launch()
    session = db_session()
    link_id = sync.require_teacher(session, launch)
    session_token_for(launch)
    rows = sync.for_link(session, link_id)
    resolved = linking.resolve(session, launch)
    return render_template(
        "grading/gradebook.html",
        launch=launch,
        rows=rows,
        blind=not isinstance(resolved, linking.Unbound)
        and services.reviewed_blind(session, resolved.credential, resolved.version),
        no_column=sync.no_column(session, link_id),
        failed=sum(1 for r in rows if r.status == "failed"),
        notice=SYNC_NOTICES.get(inputs.query().text("notice")),
    )


@bp.post("/gradebook/retry")
def gradebook_retry() -> Response:
    launch = require_launch()
    session = db_session()
    link_id = sync.require_teacher(session, launch)
    with inputs.reworded(AppError, "Choose a score to send again."):
        ids = inputs.form().integers("delivery")
    if not ids:
        raise AppError(
            "Choose a score to send again.", hint="Use the “Send again” button on its row."
        )
    sync.retry(session, ids, resource_link_id=link_id)
    return _redirect("grading.gradebook_page", launch, notice="retried")

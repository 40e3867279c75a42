"""The console's badge pages: issued badges (search, revoke with a reason) for operators and
organisations' admins; badges that could not be issued, retried by operators.

Plain HTML forms that work without script; a refused revocation shows the form again with what
was typed and a message saying what to do."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import inputs
from app.admin import console
from app.badges import services
from app.catalog import authoring
from app.db import db_session

bp = Blueprint("badges_admin", __name__, template_folder="templates")
console.attach(
    bp,
    operators_only=True,
    open_to_all=("badges_admin.awards", "badges_admin.revoke"),
)


def _rights() -> authoring.Rights:
    return authoring.rights_of(db_session(), console.current_account())


@bp.get("/badges", endpoint="awards")
def awards_page() -> str:
    rights = _rights()
    session = db_session()
    query = inputs.query()
    page = query.page()
    q = query.text("q")[:200]
    rows, total = services.console_awards(session, rights, q=q, page=page)
    return render_template(
        "badges/admin_awards.html",
        rows=rows,
        total=total,
        q=q,
        page=page,
        pages=max(1, -(-total // services.PAGE_SIZE)),
        failed=services.failed_issues(session) if rights.is_operator else [],
        done=request.args.get("done"),
        plain_http=not services.site_of(current_app).checkable_by_wallets,
        section="badges_admin.awards",
    )


@bp.route("/badges/<public_id>/revoke", methods=["GET", "POST"], endpoint="revoke")
def revoke_page(public_id: str) -> Response | tuple[str, int] | str:
    session = db_session()
    rights = _rights()
    award = services.find(session, public_id)
    found = services.view(session, services.site_of(current_app), award, with_checks=False)
    reason = ""
    if request.method == "POST":
        reason = inputs.form().text("reason", max_length=inputs.LONG_TEXT)
        try:
            services.revoke(session, public_id, reason, rights)
        except services.RevocationRefused as refused:
            session.rollback()
            page = render_template(
                "badges/admin_revoke.html",
                badge=found,
                earner=services.earner(session, award),
                reason=reason,
                error=refused.message,
                hint=refused.hint,
                section="badges_admin.awards",
            )
            return page, refused.status
        session.commit()
        return redirect(url_for("badges_admin.awards", done="revoked", q=public_id), code=303)
    services.require_manager(rights, award)
    return render_template(
        "badges/admin_revoke.html",
        badge=found,
        earner=services.earner(session, award),
        reason=reason,
        error=None,
        hint=None,
        section="badges_admin.awards",
    )


@bp.post("/badges/retry-failed", endpoint="retry_failed")
def retry_failed() -> Response:
    session = db_session()
    count = services.retry_failed(session, _rights())
    session.commit()
    return redirect(url_for("badges_admin.awards", done=f"retried-{count}"), code=303)

"""The console's Keys and Registration links pages: the tool's signing keys and their rotation
schedule (LTI-CHECKLIST E), and the one-time Dynamic Registration URLs operators issue (D)."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import audit
from app.admin.views import NOTICES, bp, current_actor, page_notice
from app.db import db_session, utcnow
from app.errors import AppError, NotFound
from app.lti import keys, registration_links
from app.lti import runtime as lti_runtime

# (form value, label, duration): how long the next key is published before it signs.
OVERLAPS = [
    ("2d", "2 days (recommended)", timedelta(days=2)),
    ("7d", "7 days", timedelta(days=7)),
    ("1d", "1 day", timedelta(days=1)),
    ("1h", "1 hour", timedelta(hours=1)),
    ("0", "At once: the current key is compromised", timedelta(0)),
]
LINK_LIFETIMES = [("7", "7 days"), ("1", "1 day"), ("30", "30 days"), ("90", "90 days")]

NOTICES.update(
    {
        "rotation": "The next key is published; it starts signing at the time shown.",
        "retired": "Key {kid} is retired: it is out of the JWKS and will never sign again.",
        "revoked": "The registration link is withdrawn; it can no longer register a platform.",
    }
)


@bp.get("/keys")
def keys_page() -> str:
    session = db_session()
    return render_template(
        "admin/keys.html",
        states=keys.key_states(session),
        overlaps=OVERLAPS,
        jwks_max_age=keys.JWKS_MAX_AGE,
        notice=page_notice(),
    )


@bp.post("/keys/rotate")
def rotate_keys() -> Response:
    chosen = {value: duration for value, _, duration in OVERLAPS}.get(
        request.form.get("overlap", "")
    )
    if chosen is None:
        raise AppError(
            "Choose how long the next key is published before it signs.",
            hint="Go back, reload the Keys page and pick one of the choices.",
        )
    actor = current_actor()
    keys.rotate(
        db_session(),
        lti_runtime().cipher,
        overlap=chosen,
        actor=actor.label,
        operator_id=actor.operator_id,
    )
    return redirect(url_for("admin.keys_page", done="rotation"), code=303)


@bp.route("/keys/<kid>/retire", methods=["GET", "POST"])
def retire_key(kid: str) -> Response | str:
    session = db_session()
    state = next((s for s in keys.key_states(session) if s.kid == kid), None)
    if state is None:
        raise NotFound(f"There is no key {kid!r}.", hint="Go back to the Keys page.")
    if request.method == "GET":
        return render_template("admin/key_retire.html", state=state)
    actor = current_actor()
    keys.retire(session, kid, actor=actor.label, operator_id=actor.operator_id)
    return redirect(url_for("admin.keys_page", done="retired", kid=kid), code=303)


@bp.get("/registration-links")
def registration_links_page() -> tuple[str, int]:
    return _links_page()


def _links_page(
    *, issued_url: str | None = None, errors: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    session = db_session()
    now = utcnow()
    links = [
        (link, registration_links.state(link, now))
        for link in registration_links.list_links(session)
    ]
    page = render_template(
        "admin/registration_links.html",
        links=links,
        lifetimes=LINK_LIFETIMES,
        issued_url=issued_url,
        errors=errors or {},
        # What was typed comes back only with its errors: after a link is issued the form is
        # ready for the next one.
        typed=request.form if request.method == "POST" and errors else {},
        notice=page_notice(),
    )
    return page, status


@bp.post("/registration-links")
def issue_registration_link() -> tuple[str, int]:
    label = request.form.get("label", "")
    days = request.form.get("lifetime", "")
    if days not in {value for value, _ in LINK_LIFETIMES}:
        return _links_page(errors={"lifetime": "Choose how long the link works."}, status=400)
    actor = current_actor()
    session = db_session()
    try:
        issued = registration_links.issue(
            session,
            label=label,
            created_by=actor.label,
            lifetime=timedelta(days=int(days)),
            auto_approve_deployments=request.form.get("auto_approve") == "1",
        )
    except ValueError as exc:
        return _links_page(errors={"label": str(exc)}, status=400)
    audit.record(
        session,
        actor=actor.label,
        operator_id=actor.operator_id,
        action="registration_link.issued",
        target=f"registration_link:{issued.link.id}",
        details={"label": issued.link.label, "expires_at": issued.link.expires_at.isoformat()},
    )
    session.commit()
    # Shown once, in this answer only: the token is not stored and never goes in a URL here.
    return _links_page(issued_url=issued.url(lti_runtime().settings.base_url))


@bp.post("/registration-links/<int:link_id>/revoke")
def revoke_registration_link(link_id: int) -> Response:
    session = db_session()
    actor = current_actor()
    try:
        link = registration_links.revoke(session, link_id)
    except LookupError as exc:
        raise NotFound(str(exc), hint="Go back to the Registration links page.") from exc
    except ValueError as exc:
        raise AppError(str(exc), status=409, hint="Deactivate the platform instead.") from exc
    audit.record(
        session,
        actor=actor.label,
        operator_id=actor.operator_id,
        action="registration_link.revoked",
        target=f"registration_link:{link.id}",
        details={"label": link.label},
    )
    session.commit()
    return redirect(url_for("admin.registration_links_page", done="revoked"), code=303)

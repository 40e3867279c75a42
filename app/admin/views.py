"""The operator console's pages: sign-in, overview, platforms and their deployments, the tool's
signing keys and their rotation schedule (LTI-CHECKLIST E), the one-time Dynamic Registration
URLs operators issue (D), the audit log. Plain HTML forms (no script needed); every POST is
CSRF-checked (``console.attach``) and answered with a redirect (303) to a page that says what
happened.

One module, one blueprint: a module that added pages to this blueprint when it was imported
would make the console's pages depend on what had been imported (``tests/test_wiring.py``)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import audit, inputs
from app.admin import console, runtime, services, sessions
from app.admin.schemas import (
    LABELS,
    MAX_DEPLOYMENT_ID,
    PlatformForm,
    parse_platform_form,
)
from app.db import db_session, utcnow
from app.errors import AppError, NotFound
from app.lti import keys, registration_links
from app.lti import runtime as lti_runtime
from app.lti.frame_origins import forget_cached_origins
from app.lti.models import Deployment, Registration
from app.lti.registrations import RegistrationExists

bp = Blueprint("admin", __name__, template_folder="templates")

MAX_EMAIL_CHARS = 320

console.attach(
    bp,
    operators_only=True,
    public={"admin.sign_in"},
    open_to_all={"admin.sign_out", "admin.overview"},
)

# What a page says after a change (``?done=``); the code only picks a sentence.
NOTICES = {
    "added": "The platform is registered.",
    "updated": "The platform's values are saved.",
    "unchanged": "Nothing was changed: the values were already those.",
    "activated": "The platform is active: launches from it are accepted.",
    "deactivated": "The platform is deactivated: launches from it are refused.",
    "auto-approve-on": "New deployments of this platform will be approved on first launch.",
    "auto-approve-off": "New deployments of this platform will wait for an operator.",
    "approved": "Deployment {deployment} is approved: launches from it are accepted.",
    "refused": "Deployment {deployment} is refused: launches from it are refused.",
    "already": "Deployment {deployment} already had that status.",
    "rotation": "The next key is published; it starts signing at the time shown.",
    "retired": "Key {kid} is retired: it is out of the JWKS and will never sign again.",
    "revoked": "The registration link is withdrawn; it can no longer register a platform.",
}


def _safe_next(value: str | None) -> str:
    """Return where to go after sign-in: a console page, never another site."""
    if (
        value
        and len(value) <= console.MAX_NEXT_CHARS
        and value.startswith("/admin/")
        and ".." not in value
        and "\\" not in value
        and not value.startswith(("/admin/sign-in", "/admin/sign-out"))
    ):
        return value
    return ""


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | tuple[str, int] | str:
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.operator is not None:
            return redirect(next_url or console.home_for(g.operator), code=303)
        return render_template(
            "admin/sign_in.html",
            email="",
            next_url=next_url,
            signed_out=request.args.get("signed_out") == "1",
        )
    rt = runtime()
    form = inputs.form()
    email = form.text("email", max_length=MAX_EMAIL_CHARS)
    try:
        operator = services.authenticate(
            db_session(),
            rt.throttle,
            email=email,
            password=form.text("password", max_length=inputs.LONG_TEXT),
        )
    except (services.SignInFailed, services.SignInLocked) as exc:
        page = render_template("admin/sign_in.html", email=email, next_url=next_url, error=exc)
        return page, exc.status
    # A new session id at sign-in: an id known before (a visitor's) is never a signed-in one.
    old_id = sessions.cookie_session_id()
    if old_id:
        rt.sessions.end(old_id)
    session_id, _ = rt.sessions.start(operator.id, services.password_fingerprint(operator))
    sessions.set_session_cookie(session_id)
    return redirect(next_url or console.home_for(operator), code=303)


@bp.post("/sign-out")
def sign_out() -> Response:
    session_id = sessions.cookie_session_id()
    if session_id:
        runtime().sessions.end(session_id)
    services.record_sign_out(db_session(), g.operator)
    sessions.clear_session_cookie()
    return redirect(url_for("admin.sign_in", signed_out=1), code=303)


# --- Pages ------------------------------------------------------------------------------------


current_actor = console.current_actor


def page_notice() -> str | None:
    template = NOTICES.get(request.args.get("done", ""))
    if template is None:
        return None
    return template.format(
        deployment=request.args.get("deployment", ""), kid=request.args.get("kid", "")
    )


@bp.get("/")
def overview() -> Response | str:
    if not console.current_account().is_operator:
        return redirect(console.home_for(console.current_account()), code=303)
    return render_template("admin/overview.html", overview=services.overview(db_session()))


@bp.get("/platforms")
def platforms() -> str:
    return render_template("admin/platforms.html", summaries=services.list_platforms(db_session()))


@bp.get("/platforms/<registration_uuid>")
def platform(registration_uuid: str) -> str:
    session = db_session()
    registration = services.get_platform(session, registration_uuid)
    return render_template(
        "admin/platform.html",
        registration=registration,
        deployments=services.platform_deployments(session, registration),
        events=services.platform_events(session, registration),
        notice=page_notice(),
        Deployment=Deployment,
    )


def _allow_local_http() -> bool:
    return not runtime().settings.is_production


def _form_page(
    form: PlatformForm, registration: Registration | None = None, status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "admin/platform_form.html", form=form, registration=registration, labels=LABELS
    )
    return page, status


@bp.route("/platforms/new", methods=["GET", "POST"])
def add_platform() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _form_page(PlatformForm(typed={}))
    form = parse_platform_form(request.form, allow_local_http=_allow_local_http())
    if not form.is_valid or form.values is None:
        return _form_page(form, status=400)
    try:
        registration = services.add_platform(
            db_session(), current_actor(), form.values, deployment_ids=form.deployment_ids
        )
    except RegistrationExists as exc:
        form.errors["client_id"] = exc.message
        return _form_page(form, status=409)
    forget_cached_origins()
    return redirect(
        url_for("admin.platform", registration_uuid=registration.uuid, done="added"), code=303
    )


@bp.route("/platforms/<registration_uuid>/edit", methods=["GET", "POST"])
def edit_platform(registration_uuid: str) -> Response | tuple[str, int]:
    session = db_session()
    registration = services.get_platform(session, registration_uuid)
    if request.method == "GET":
        typed = {
            "name": registration.name,
            "issuer": registration.issuer,
            "client_id": registration.client_id,
            "auth_login_url": registration.auth_login_url,
            "auth_token_url": registration.auth_token_url,
            "auth_audience": registration.auth_audience or "",
            "key_set_url": registration.key_set_url,
            "platform_family": registration.platform_family,
            "course_page_origins": "\n".join(registration.course_page_origins or []),
        }
        return _form_page(PlatformForm(typed=typed), registration)
    form = parse_platform_form(
        request.form,
        allow_local_http=_allow_local_http(),
        fixed_issuer=registration.issuer,
        fixed_client_id=registration.client_id,
        with_deployments=False,
    )
    if not form.is_valid or form.values is None:
        return _form_page(form, registration, status=400)
    changes = services.update_platform(session, current_actor(), registration, form.values)
    forget_cached_origins()
    done = "updated" if changes else "unchanged"
    return redirect(
        url_for("admin.platform", registration_uuid=registration.uuid, done=done), code=303
    )


def _flag(name: str) -> bool:
    """Read a yes/no form field sent as 1 or 0."""
    value = request.form.get(name)
    if value not in {"0", "1"}:
        raise AppError(
            f"The form did not say whether to switch this on or off ({name!r} missing).",
            hint="Go back, reload the page and use its buttons.",
        )
    return value == "1"


@bp.route("/platforms/<registration_uuid>/status", methods=["GET", "POST"])
def platform_status(registration_uuid: str) -> Response | str:
    session = db_session()
    registration = services.get_platform(session, registration_uuid)
    if request.method == "GET":
        return render_template("admin/platform_status.html", registration=registration)
    active = _flag("active")
    services.set_platform_active(session, current_actor(), registration, active)
    done = "activated" if active else "deactivated"
    return redirect(
        url_for("admin.platform", registration_uuid=registration.uuid, done=done), code=303
    )


@bp.post("/platforms/<registration_uuid>/auto-approve")
def auto_approve(registration_uuid: str) -> Response:
    session = db_session()
    registration = services.get_platform(session, registration_uuid)
    enabled = _flag("enabled")
    services.set_auto_approve(session, current_actor(), registration, enabled)
    done = "auto-approve-on" if enabled else "auto-approve-off"
    return redirect(
        url_for("admin.platform", registration_uuid=registration.uuid, done=done), code=303
    )


@bp.post("/platforms/<registration_uuid>/deployments")
def decide_deployment(registration_uuid: str) -> Response:
    session = db_session()
    registration = services.get_platform(session, registration_uuid)
    form = inputs.form()
    decision = form.text("decision")
    deployment_id = form.text("deployment_id", max_length=MAX_DEPLOYMENT_ID)
    if decision not in services.DECISIONS or not deployment_id:
        raise AppError(
            "The form did not say which deployment to approve or refuse.",
            hint="Go back, reload the platform's page and use its buttons.",
        )
    _, changed = services.decide_deployment(
        session, current_actor(), registration, deployment_id, services.DECISIONS[decision]
    )
    done = ("approved" if decision == "approve" else "refused") if changed else "already"
    return redirect(
        url_for(
            "admin.platform",
            registration_uuid=registration.uuid,
            done=done,
            deployment=deployment_id,
        ),
        code=303,
    )


@bp.get("/audit")
def audit_log() -> str:
    page = inputs.query().page()
    return render_template("admin/audit.html", log=services.audit_page(db_session(), page))


# --- Keys and registration links --------------------------------------------------------------

# (form value, label, duration): how long the next key is published before it signs.
OVERLAPS = [
    ("2d", "2 days (recommended)", timedelta(days=2)),
    ("7d", "7 days", timedelta(days=7)),
    ("1d", "1 day", timedelta(days=1)),
    ("1h", "1 hour", timedelta(hours=1)),
    ("0", "At once: the current key is compromised", timedelta(0)),
]
LINK_LIFETIMES = [("7", "7 days"), ("1", "1 day"), ("30", "30 days"), ("90", "90 days")]


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

"""The badge pages and documents.

Public, outside any launch: a badge's verification page (``/badges/<id>``; JSON — the OB 3.0
credential — at the same URL for clients asking for JSON), its downloads (credential JSON, baked
PNG and SVG, QR code), the OB 2.0 hosted assertion, badge class and issuer, the achievement
(criteria) page, the issuers' DID documents, keys and status lists.

Inside a launch: the educator's "My badges", their choice of public evidence, and whether the
badges issued to them from now on carry their name.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from app import inputs, lti
from app.badges import images, services
from app.catalog.views import IMAGE_CSP
from app.db import db_session
from app.errors import AppError
from app.evidence.storage import evidence_store
from app.lti import services as lti_services

bp = Blueprint(
    "badges",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/badges/static",
)

JSON_TYPES = ("application/ld+json", "application/json", "application/vc+ld+json")


def _json(document: dict[str, Any], *, status: int = 200, max_age: int = 300) -> Response:
    response = Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        status=status,
        content_type="application/ld+json; charset=utf-8",
    )
    # Verifiers and wallets fetch these from anywhere.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", *JSON_TYPES])
    return (
        best in JSON_TYPES
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


# --- issuers ----------------------------------------------------------------------------------


@bp.get("/.well-known/did.json")
@bp.get("/did.json")
def tool_did() -> Response:
    return _json(services.tool_document(db_session(), services.site_of(current_app)))


@bp.get("/issuers/<slug>/did.json")
def issuer_did(slug: str) -> Response:
    return _json(
        services.did_document(db_session(), services.site_of(current_app), slug), max_age=60
    )


@bp.get("/issuers/<slug>/keys/<multibase>")
def issuer_key(slug: str, multibase: str) -> Response:
    document = services.key_document(db_session(), services.site_of(current_app), slug, multibase)
    return _json(document, max_age=60)


@bp.get("/issuers/<slug>/status/<int:list_id>")
def status_list(slug: str, list_id: int) -> Response:
    session = db_session()
    document = services.status_list(session, services.signer_of(current_app), slug, list_id)
    session.commit()  # keep the signed copy for the next verifier
    # Short: a revocation must reach verifiers soon.
    return _json(document, max_age=60)


# --- OB 2.0 -----------------------------------------------------------------------------------


@bp.get("/ob2/issuers/<slug>")
def ob2_issuer(slug: str) -> Response:
    return _json(services.ob2_issuer(db_session(), services.site_of(current_app), slug))


@bp.get("/ob2/badges/<slug>/<int:number>")
def ob2_badge_class(slug: str, number: int) -> Response:
    site = services.site_of(current_app)
    return _json(services.ob2_badge_class(db_session(), site, slug, number))


@bp.get("/ob2/assertions/<public_id>")
def ob2_assertion(public_id: str) -> Response:
    site = services.site_of(current_app)
    award = services.find(db_session(), public_id)
    document = services.ob2_assertion(site, award)
    if award.revoked_at is not None:
        # OB 2.0 "Hosted verification": a revoked assertion answers 410 Gone with its id and
        # revoked: true (and, here, the reason).
        gone = {
            "@context": document["@context"],
            "id": document["id"],
            "revoked": True,
            "revocationReason": award.revocation_reason or "",
        }
        return _json(gone, status=410, max_age=60)
    return _json(document, max_age=60)


# --- achievements (criteria pages) ------------------------------------------------------------


@bp.get("/achievements/<slug>/<int:number>")
def achievement(slug: str, number: int) -> str:
    credential, version = services.achievement_page(db_session(), slug, number)
    return render_template(
        "badges/achievement.html",
        credential=credential,
        version=version,
        organisation=credential.organisation,
    )


# --- one badge, public ------------------------------------------------------------------------


@bp.get("/badges/<public_id>")
def badge(public_id: str) -> Response | str:
    session = db_session()
    award = services.find(session, public_id)
    if _wants_json():
        return _json(award.credential_json, max_age=60)
    site = services.site_of(current_app)
    found = services.view(session, site, award)
    response = Response(
        render_template(
            "badges/verify.html",
            badge=found,
            share_url=site.url(f"/badges/{public_id}"),
            image_png=site.url(f"/badges/{public_id}/badge.png"),
            plain_http=not site.checkable_by_wallets,
        )
    )
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _download(body: bytes | str, media_type: str, name: str) -> Response:
    response = Response(body, content_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = IMAGE_CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/badges/<public_id>/credential.json")
def credential_json(public_id: str) -> Response:
    award = services.find(db_session(), public_id)
    body = json.dumps(award.credential_json, ensure_ascii=False, indent=2)
    return _download(body, "application/ld+json", f"{award.credential.slug}-credential.json")


@bp.get("/badges/<public_id>/badge.<any(png, svg):ext>")
def badge_image(public_id: str, ext: str) -> Response:
    """The badge image with the badge baked in (PNG chunks or SVG elements, OB 2.0 and 3.0)."""
    award = services.find(db_session(), public_id)
    body, media_type = services.baked_image(services.site_of(current_app), award, ext)
    return _download(body, media_type, f"{award.credential.slug}-badge.{ext}")


@bp.get("/badges/<public_id>/qr.svg")
def badge_qr(public_id: str) -> Response:
    site = services.site_of(current_app)
    award = services.find(db_session(), public_id)
    svg = images.qr_svg(
        site.url(f"/badges/{public_id}"), title=f"QR code for the {award.version.title} badge"
    )
    response = Response(svg, content_type="image/svg+xml")
    response.headers["Content-Security-Policy"] = IMAGE_CSP
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/badges/<public_id>/evidence/files/<int:file_id>")
def public_evidence_file(public_id: str, file_id: int) -> Response:
    session = db_session()
    award = services.find(session, public_id)
    row = services.public_file(session, award, file_id)
    body = evidence_store().read(row.storage_key, 0, row.size)
    response = Response(body, content_type="application/octet-stream")
    safe = "".join(c if c.isalnum() or c in "._- " else "_" for c in row.name)[:120] or "evidence"
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = IMAGE_CSP
    return response


# --- the earner's ------------------------------------------------------------------------------


def _earner() -> tuple[Any, Any]:
    launch = lti.require_launch()
    if launch.is_anonymous:
        raise AppError(
            "Your LMS did not tell Microcred who you are, so there are no badges to show.",
            status=403,
            code="anonymous_launch",
            title="No badges for anonymous visitors",
            hint="Ask your LMS administrator to share your name with Microcred.",
        )
    user = lti_services.find_user(db_session(), launch)
    if user is None:
        raise AppError("Open Microcred from your course again.", status=403)
    lti.session_token_for(launch)
    return launch, user


NAME_CHOICES = {"default": None, "shown": True, "hidden": False}
"""The choice of names in badges on "My badges", as the form sends it."""


def _name_choice(shown: bool | None) -> str:
    return next(key for key, value in NAME_CHOICES.items() if value is shown)


@bp.get("/my/badges")
def my_badges() -> str:
    launch, user = _earner()
    session = db_session()
    site = services.site_of(current_app)
    awards = services.badges_of(session, user.id)
    return render_template(
        "badges/mine.html",
        launch=launch,
        badges=[services.view(session, site, a, with_checks=False) for a in awards],
        waiting=services.waiting_for(session, user.id),
        name_choice=_name_choice(user.name_in_badges),
        name_on_badges=user.badge_name or user.lms_name,
        name_defaults=services.name_defaults(session),
        name_saved=request.args.get("name_saved") == "1",
        site=site,
        linkedin=lambda b: images.linkedin_add_to_profile_url(
            name=b.title,
            organisation_name=b.organisation.name,
            issued=b.award.issued_at.date(),
            expires=b.award.valid_until.date() if b.award.valid_until else None,
            cert_url=site.url(f"/badges/{b.award.public_id}"),
            cert_id=b.award.public_id,
        ),
        chosen=request.args.get("saved"),
    )


@bp.post("/my/badges/<public_id>/evidence")
def choose_evidence(public_id: str) -> BaseResponse:
    _launch, user = _earner()
    session = db_session()
    chosen: list[tuple[str, int]] = []
    for value in inputs.form().texts("public"):
        kind, _, number = value.partition(":")
        row_id = inputs.as_id(number)
        if kind not in ("answer", "link", "file") or row_id is None:
            raise AppError(
                "The evidence chosen is not recognised.",
                hint="Reload the page and choose again; nothing was changed.",
            )
        chosen.append((kind, row_id))
    services.choose_public_evidence(session, user.id, public_id, chosen)
    session.commit()
    values: dict[str, Any] = {lti.session.SESSION_PARAM: g.session_token, "saved": public_id}
    return redirect(url_for("badges.my_badges", **values) + f"#badge-{public_id}", code=303)


@bp.post("/my/badges/name")
def choose_name() -> BaseResponse:
    """Keep the educator's choice of their name in badges issued from now on (a signed badge
    cannot change)."""
    launch, _user = _earner()
    session = db_session()
    choice = inputs.form().text("name_in_badges", strip=True)
    if choice not in NAME_CHOICES:
        raise AppError(
            "Choose whether your badges show your name: as each issuer decides, show my name, "
            "or do not show my name.",
            hint="Go back to My badges and choose one; nothing was changed.",
            code="name_choice_unknown",
        )
    lti_services.set_name_in_badges(session, launch, NAME_CHOICES[choice])
    session.commit()
    values: dict[str, Any] = {lti.session.SESSION_PARAM: g.session_token, "name_saved": 1}
    return redirect(url_for("badges.my_badges", **values) + "#name-title", code=303)

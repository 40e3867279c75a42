"""The console's authoring pages (``/admin/catalog``): the credentials an account may edit, a
credential's versions and actions, its draft's forms (details, each ordered list, the badge
image), a preview exactly as educators will see it, publish and retire with confirmation.

Plain HTML forms that work without script. Every change carries the draft's ``revision``; a
refused change shows the page again with what was typed, so nothing is lost."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import inputs
from app.admin import console
from app.catalog import authoring, images
from app.catalog.authoring_forms import DETAILS, LISTS, defaults, parse, shown
from app.catalog.models import Credential, CredentialVersion
from app.catalog.services import CredentialPage, stacks_of_credential
from app.db import db_session
from app.errors import AppError, NotFound

bp = Blueprint("authoring", __name__, template_folder="templates")
console.attach(bp, operators_only=False)

NOTICES = {
    "created": "The credential is created with a draft version 1. Fill it in, then publish it.",
    "saved": "Saved.",
    "added": "Added.",
    "moved": "Moved.",
    "deleted": "Removed.",
    "image": "The badge image is saved.",
    "image-removed": "The badge image is removed.",
    "published": "Published: educators now see version {version} in the catalog.",
    "draft": "A new draft, version {version}, starts from the latest version. Educators keep "
    "seeing the published version until you publish this one.",
    "retired": "Retired: the credential is no longer in the catalog. Educators who started it "
    "keep their work.",
}


def _rights() -> authoring.Rights:
    return authoring.rights_of(db_session(), console.current_account())


def _notice() -> str | None:
    template = NOTICES.get(request.args.get("done", ""))
    return template.format(version=request.args.get("version", "")) if template else None


def _revision() -> int:
    form = inputs.form()
    if not form.has("revision"):
        raise AppError(
            "The form did not say which save of the draft it was made from.",
            hint="Go back, reload the page and make the change again.",
        )
    return form.integer("revision")


def _done(
    credential: Credential, done: str, endpoint: str = "authoring.credential", **values: Any
) -> Response:
    return redirect(url_for(endpoint, slug=credential.slug, done=done, **values), code=303)


@bp.get("/")
def credentials() -> str:
    session = db_session()
    rights = _rights()
    organisation = request.args.get("organisation") or None
    return render_template(
        "authoring/credentials.html",
        summaries=authoring.credential_list(session, rights, organisation),
        organisations=authoring.organisations_for(session, rights),
        chosen=organisation,
    )


@bp.route("/new", methods=["GET", "POST"])
def new_credential() -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    organisations = authoring.organisations_for(session, rights)
    typed = {
        "organisation": request.values.get("organisation", ""),
        "title": request.form.get("title", ""),
        "slug": request.form.get("slug", ""),
    }
    if request.method == "GET":
        if len(organisations) == 1:
            typed["organisation"] = organisations[0].slug
        return _new_page(organisations, typed, None, 200)
    try:
        credential = authoring.create_credential(
            session,
            rights,
            organisation_slug=typed["organisation"],
            slug=typed["slug"],
            title=typed["title"],
        )
    except NotFound:
        return _new_page(organisations, typed, "Choose the organisation that issues it.", 400)
    except authoring.InvalidChange as exc:
        return _new_page(organisations, typed, exc.message, 400)
    session.commit()
    return _done(credential, "created", "authoring.edit_details")


def _new_page(
    organisations: list[Any], typed: dict[str, str], error: str | None, status: int
) -> tuple[str, int]:
    return (
        render_template(
            "authoring/new.html", organisations=organisations, typed=typed, error=error
        ),
        status,
    )


@bp.get("/credentials/<slug>")
def credential(slug: str) -> str:
    session = db_session()
    found = authoring.credential_for(session, _rights(), slug)
    draft = authoring.draft_of(found)
    return render_template(
        "authoring/credential.html",
        credential=found,
        draft=draft,
        published=authoring.published_of(found),
        problems=authoring.publish_problems(draft) if draft else [],
        lists=LISTS,
        notice=_notice(),
    )


def _draft_or_404(found: Credential) -> CredentialVersion:
    draft = authoring.draft_of(found)
    if draft is None:
        raise NotFound(
            f"{found.slug} has no draft: its latest version is published.",
            hint="Start a new draft from the credential's page.",
        )
    return draft


@bp.route("/credentials/<slug>/details", methods=["GET", "POST"])
def edit_details(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = authoring.credential_for(session, rights, slug)
    draft = _draft_or_404(found)
    if request.method == "GET":
        return _details_page(found, draft, shown(DETAILS, draft.content), {}, draft.revision)
    form = parse(DETAILS, request.form)
    revision = _revision()
    if form.is_valid:
        try:
            authoring.save_details(session, rights, found, revision, form)
        except authoring.DraftConflict as exc:
            return _details_page(found, draft, form.typed, {}, revision, exc.message, 409)
        except authoring.InvalidChange:
            pass
        else:
            session.commit()
            return _done(found, "saved")
    return _details_page(found, draft, form.typed, form.errors, revision, status=400)


def _details_page(
    found: Credential,
    draft: CredentialVersion,
    typed: dict[str, Any],
    errors: dict[str, str],
    revision: int,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "authoring/details.html",
        credential=found,
        draft=draft,
        fields=DETAILS,
        typed=typed,
        errors=errors,
        revision=revision,
        conflict=conflict,
        notice=_notice(),
    )
    return page, status


@bp.get("/credentials/<slug>/lists/<list_name>")
def edit_list(slug: str, list_name: str) -> str:
    spec = _spec(list_name)
    found = authoring.credential_for(db_session(), _rights(), slug)
    draft = _draft_or_404(found)
    return render_template(
        "authoring/list.html",
        credential=found,
        draft=draft,
        spec=spec,
        items=draft.content.get(list_name, []),
        notice=_notice(),
    )


def _spec(list_name: str) -> Any:
    spec = LISTS.get(list_name)
    if spec is None:
        raise NotFound("A credential has no such list.")
    return spec


@bp.route("/credentials/<slug>/lists/<list_name>/new", methods=["GET", "POST"])
@bp.route("/credentials/<slug>/lists/<list_name>/<int:number>", methods=["GET", "POST"])
def edit_item(slug: str, list_name: str, number: int | None = None) -> Response | tuple[str, int]:
    spec = _spec(list_name)
    session = db_session()
    rights = _rights()
    found = authoring.credential_for(session, rights, slug)
    draft = _draft_or_404(found)
    items = draft.content.get(list_name, [])
    index = None if number is None else number - 1
    if index is not None and not 0 <= index < len(items):
        raise NotFound(f"There is no {spec.singular} {number} in this draft.")
    choices = authoring.list_choices(draft)
    if list_name == "criteria" and not choices["part"]:
        raise AppError(
            "Add a part under “What to submit” first: each criterion judges one part.",
            code="no_parts_yet",
            status=409,
        )
    if request.method == "GET":
        typed = (
            defaults(spec.fields, choices) if index is None else shown(spec.fields, items[index])
        )
        return _item_page(found, draft, spec, index, typed, {}, draft.revision, choices)
    form = parse(spec.fields, request.form, choices=choices)
    revision = _revision()
    if form.is_valid:
        try:
            authoring.save_item(session, rights, found, revision, list_name, index, form)
        except authoring.DraftConflict as exc:
            return _item_page(
                found, draft, spec, index, form.typed, {}, revision, choices, exc.message, 409
            )
        except authoring.InvalidChange:
            pass
        else:
            session.commit()
            return _done(
                found,
                "added" if index is None else "saved",
                "authoring.edit_list",
                list_name=list_name,
            )
    return _item_page(
        found, draft, spec, index, form.typed, form.errors, revision, choices, status=400
    )


def _item_page(
    found: Credential,
    draft: CredentialVersion,
    spec: Any,
    index: int | None,
    typed: dict[str, Any],
    errors: dict[str, str],
    revision: int,
    choices: dict[str, list[tuple[str, str]]],
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "authoring/item.html",
        credential=found,
        draft=draft,
        spec=spec,
        number=None if index is None else index + 1,
        typed=typed,
        errors=errors,
        revision=revision,
        choices=choices,
        conflict=conflict,
    )
    return page, status


@bp.post("/credentials/<slug>/lists/<list_name>/<int:number>/move")
def move_item(slug: str, list_name: str, number: int) -> Response:
    _spec(list_name)
    session = db_session()
    rights = _rights()
    found = authoring.credential_for(session, rights, slug)
    authoring.move_item(
        session,
        rights,
        found,
        _revision(),
        list_name,
        number - 1,
        request.form.get("direction", ""),
    )
    session.commit()
    return _done(found, "moved", "authoring.edit_list", list_name=list_name)


@bp.route("/credentials/<slug>/lists/<list_name>/<int:number>/delete", methods=["GET", "POST"])
def delete_item(slug: str, list_name: str, number: int) -> Response | str:
    spec = _spec(list_name)
    session = db_session()
    rights = _rights()
    found = authoring.credential_for(session, rights, slug)
    draft = _draft_or_404(found)
    items = draft.content.get(list_name, [])
    if not 0 < number <= len(items):
        raise NotFound(f"There is no {spec.singular} {number} in this draft.")
    if request.method == "GET":
        return render_template(
            "authoring/delete_item.html",
            credential=found,
            draft=draft,
            spec=spec,
            number=number,
            item=items[number - 1],
        )
    authoring.delete_item(session, rights, found, _revision(), list_name, number - 1)
    session.commit()
    return _done(found, "deleted", "authoring.edit_list", list_name=list_name)


@bp.get("/credentials/<slug>/preview")
def preview(slug: str) -> str:
    session = db_session()
    found = authoring.credential_for(session, _rights(), slug)
    number = inputs.query().optional_integer("version")
    version = (
        authoring.version_of(found, number)
        if number
        else authoring.draft_of(found) or found.versions[-1]
    )
    page = CredentialPage(
        credential=found,
        version=version,
        content=version.content,
        stacks=stacks_of_credential(session, found.id),
    )
    return render_template("authoring/preview.html", preview=True, page=page, credential=found)


@bp.route("/credentials/<slug>/publish", methods=["GET", "POST"])
def publish(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = authoring.credential_for(session, rights, slug)
    draft = _draft_or_404(found)
    if request.method == "GET":
        return _confirm_publish(found, draft, authoring.publish_problems(draft), draft.revision)
    revision = _revision()
    try:
        version = authoring.publish(session, rights, found, revision)
    except authoring.NotReady as exc:
        return _confirm_publish(found, draft, exc.problems, revision, status=400)
    session.commit()
    return _done(found, "published", version=version.number)


def _confirm_publish(
    found: Credential,
    draft: CredentialVersion,
    problems: list[str],
    revision: int,
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "authoring/publish.html",
        credential=found,
        draft=draft,
        published=authoring.published_of(found),
        problems=problems,
        revision=revision,
    )
    return page, status


@bp.post("/credentials/<slug>/drafts")
def start_draft(slug: str) -> Response:
    session = db_session()
    rights = _rights()
    found = authoring.credential_for(session, rights, slug)
    draft = authoring.start_draft(session, rights, found)
    session.commit()
    return _done(found, "draft", version=draft.number)


@bp.route("/credentials/<slug>/retire", methods=["GET", "POST"])
def retire(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = authoring.credential_for(session, rights, slug)
    reason = request.form.get("reason", "")
    if request.method == "POST":
        try:
            authoring.retire(session, rights, found, reason)
        except authoring.InvalidChange as exc:
            return _retire_page(found, reason, exc.message, 400)
        session.commit()
        return _done(found, "retired")
    return _retire_page(found, reason, None, 200)


def _retire_page(found: Credential, reason: str, error: str | None, status: int) -> tuple[str, int]:
    page = render_template(
        "authoring/retire.html",
        credential=found,
        published=authoring.published_of(found),
        reason=reason,
        error=error,
    )
    return page, status


# --- Organisations -------------------------------------------------------------------------------

ORGANISATION_NOTICES = {
    "created": "The organisation is added. Add its authors below.",
    "saved": "The profile is saved.",
    "unchanged": "Nothing was changed: the values were already those.",
    "author-added": "{email} can now write credentials for this organisation.",
    "author-created": "{email} has a new account and can write credentials for this "
    "organisation. Tell them the first password you chose; they sign in at /admin.",
    "author-removed": "{email} no longer writes for this organisation.",
    "image": "The image is saved.",
    "image-removed": "The image is removed.",
}


def _organisation_notice() -> str | None:
    template = ORGANISATION_NOTICES.get(request.args.get("done", ""))
    return template.format(email=request.args.get("email", "")) if template else None


@bp.get("/organisations")
def organisations() -> str:
    session = db_session()
    rights = _rights()
    return render_template(
        "authoring/organisations.html",
        organisations=authoring.organisations_for(session, rights),
        rights=rights,
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
def new_organisation() -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    if not rights.is_operator:
        raise authoring.NotAnAuthor("Only operators can add issuer organisations.")
    if request.method == "GET":
        typed = defaults(authoring.ORGANISATION_FIELDS) | {"slug": ""}
        return _organisation_form(None, typed, {}, 200)
    form = parse(authoring.ORGANISATION_FIELDS, request.form)
    slug = request.form.get("slug", "").strip()
    typed = form.typed | {"slug": slug}
    try:
        organisation = authoring.create_organisation(session, rights, slug, form)
    except authoring.InvalidChange:
        return _organisation_form(None, typed, form.errors, 400)
    session.commit()
    return redirect(url_for("authoring.organisation", slug=organisation.slug, done="created"), 303)


def _organisation_form(
    organisation: Any, typed: dict[str, Any], errors: dict[str, str], status: int
) -> tuple[str, int]:
    page = render_template(
        "authoring/organisation_new.html",
        organisation=organisation,
        fields=authoring.ORGANISATION_FIELDS,
        typed=typed,
        errors=errors,
    )
    return page, status


@bp.route("/organisations/<slug>", methods=["GET", "POST"])
def organisation(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = authoring.organisation_for(session, rights, slug)
    if request.method == "GET":
        typed = shown(authoring.ORGANISATION_FIELDS, authoring.organisation_form_values(found))
        return _organisation_page(found, rights, typed, {}, {}, 200)
    form = parse(authoring.ORGANISATION_FIELDS, request.form)
    if form.is_valid:
        try:
            changes = authoring.update_organisation(session, rights, found, form)
        except authoring.InvalidChange:
            pass
        else:
            session.commit()
            done = "saved" if changes else "unchanged"
            return redirect(url_for("authoring.organisation", slug=slug, done=done), 303)
    return _organisation_page(found, rights, form.typed, form.errors, {}, 400)


def _organisation_page(
    found: Any,
    rights: authoring.Rights,
    typed: dict[str, Any],
    errors: dict[str, str],
    author_form: dict[str, str],
    status: int,
    author_error: str | None = None,
    image_error: str | None = None,
) -> tuple[str, int]:
    page = render_template(
        "authoring/organisation.html",
        organisation=found,
        may_manage=rights.may_manage(found.id),
        fields=authoring.ORGANISATION_FIELDS,
        review_fields=authoring.REVIEW_SETTINGS,
        badge_fields=authoring.BADGE_SETTINGS,
        typed=typed,
        errors=errors,
        authors=authoring.authors_of(db_session(), found),
        roles=authoring.ROLE_LABELS,
        author_form=author_form,
        author_error=author_error,
        image_error=image_error,
        notice=_organisation_notice(),
    )
    return page, status


@bp.post("/organisations/<slug>/authors")
def add_author(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = authoring.organisation_for(session, rights, slug)
    typed = {
        "author_email": request.form.get("author_email", "").strip(),
        "author_name": request.form.get("author_name", "").strip(),
        "author_role": request.form.get("author_role", ""),
    }
    try:
        account, created = authoring.add_author(
            session,
            rights,
            found,
            email=typed["author_email"],
            name=typed["author_name"],
            role=typed["author_role"],
            password=request.form.get("author_password", ""),
        )
    except AppError as exc:
        if exc.status == 403:
            raise
        session.rollback()
        values = shown(authoring.ORGANISATION_FIELDS, authoring.organisation_form_values(found))
        return _organisation_page(found, rights, values, {}, typed, exc.status, exc.message)
    session.commit()
    done = "author-created" if created else "author-added"
    return redirect(
        url_for("authoring.organisation", slug=slug, done=done, email=account.email), 303
    )


@bp.post("/organisations/<slug>/authors/<int:account_id>/remove")
def remove_author(slug: str, account_id: int) -> Response:
    session = db_session()
    rights = _rights()
    found = authoring.organisation_for(session, rights, slug)
    email = next(
        (a.email for a in authoring.authors_of(session, found) if a.account_id == account_id), ""
    )
    authoring.remove_author(session, rights, found, account_id)
    session.commit()
    return redirect(
        url_for("authoring.organisation", slug=slug, done="author-removed", email=email), 303
    )


# --- The badge image -----------------------------------------------------------------------------

UPLOAD_OVERHEAD = 64 * 1024
"""Room for the multipart form around the file."""


@bp.route("/credentials/<slug>/image", methods=["GET", "POST"])
def edit_image(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = authoring.credential_for(session, rights, slug)
    draft = _draft_or_404(found)
    if request.method == "GET":
        return _image_page(found, draft, draft.revision, None, 200)
    limit = images.MAX_IMAGE_BYTES + UPLOAD_OVERHEAD
    if request.content_length is not None and request.content_length > limit:
        return _image_page(
            found,
            draft,
            draft.revision,
            f"The file is {request.content_length / 1_000_000:.1f} MB; the limit is "
            f"{images.MAX_IMAGE_BYTES // (1024 * 1024)} MB. Export a smaller PNG or an SVG.",
            413,
        )
    request.max_content_length = limit
    revision = _revision()
    if request.form.get("remove") == "1":
        authoring.set_image(session, rights, found, revision, None)
        session.commit()
        return _done(found, "image-removed")
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        return _image_page(found, draft, revision, "Choose a PNG or SVG file to upload.", 400)
    try:
        checked = images.check_image(upload.stream.read(limit), upload.filename)
    except images.ImageRejected as exc:
        return _image_page(found, draft, revision, str(exc), 400)
    try:
        authoring.set_image(session, rights, found, revision, images.store_image(session, checked))
    except authoring.DraftConflict as exc:
        session.rollback()
        return _image_page(found, draft, revision, exc.message, 409)
    session.commit()
    return _done(found, "image")


@bp.post("/organisations/<slug>/image")
def organisation_image(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = authoring.organisation_to_manage(session, rights, slug)

    def refused(message: str, status: int) -> tuple[str, int]:
        typed = shown(authoring.ORGANISATION_FIELDS, authoring.organisation_form_values(found))
        return _organisation_page(found, rights, typed, {}, {}, status, image_error=message)

    limit = images.MAX_IMAGE_BYTES + UPLOAD_OVERHEAD
    if request.content_length is not None and request.content_length > limit:
        return refused(
            f"The file is {request.content_length / 1_000_000:.1f} MB; the limit is "
            f"{images.MAX_IMAGE_BYTES // (1024 * 1024)} MB. Export a smaller PNG or an SVG.",
            413,
        )
    request.max_content_length = limit
    if request.form.get("remove") == "1":
        authoring.set_organisation_image(session, rights, found, None)
        session.commit()
        return redirect(url_for("authoring.organisation", slug=slug, done="image-removed"), 303)
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        return refused("Choose a PNG or SVG file to upload.", 400)
    try:
        checked = images.check_image(upload.stream.read(limit), upload.filename)
    except images.ImageRejected as exc:
        return refused(str(exc), 400)
    authoring.set_organisation_image(session, rights, found, images.store_image(session, checked))
    session.commit()
    return redirect(url_for("authoring.organisation", slug=slug, done="image"), 303)


def _image_page(
    found: Credential, draft: CredentialVersion, revision: int, error: str | None, status: int
) -> tuple[str, int]:
    page = render_template(
        "authoring/image.html", credential=found, draft=draft, revision=revision, error=error
    )
    return page, status

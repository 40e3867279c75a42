"""The console's stack pages (``/admin/catalog/stacks``): the stacks an account may edit, a new
stack, and a stack's page — its title and description, its credentials in order (add, move,
remove with confirmation), its milestone, and deleting it with confirmation.

Plain HTML forms that work without script. A stack has no versions, so every saved change is in
the educator catalog at once; a refused change shows the page again with what was typed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.admin import console
from app.catalog import authoring, stack_authoring
from app.catalog.authoring_forms import defaults, parse, shown
from app.catalog.models import Stack
from app.catalog.stack_authoring import STACK_FIELDS
from app.db import db_session
from app.errors import AppError, NotFound

bp = Blueprint("stack_authoring", __name__, template_folder="templates")
console.attach(bp, operators_only=False)

NOTICES = {
    "created": "The stack is created, and educators can see it in the catalog now. Add its "
    "other credentials below.",
    "saved": "Saved. Educators see the change now.",
    "unchanged": "Nothing was changed: the title and description were already those.",
    "added": "Added at the end. Educators see the change now.",
    "moved": "Moved. Educators see the new order now.",
    "removed": "Removed from the stack. The credential itself stays in the catalog.",
    "milestone": "The milestone is saved. Educators see the change now.",
    "deleted": "The stack “{title}” is deleted. Its credentials stay in the catalog.",
}


def _rights() -> authoring.Rights:
    return authoring.rights_of(db_session(), console.current_account())


def _notice() -> str | None:
    template = NOTICES.get(request.args.get("done", ""))
    return template.format(title=request.args.get("title", "")) if template else None


def _done(stack: Stack, done: str) -> Response:
    return redirect(url_for("stack_authoring.stack", slug=stack.slug, done=done), code=303)


def _place(number: int) -> int:
    if number < 1:
        raise AppError("The form named no place in the stack.", hint="Reload the page.")
    return number


@bp.get("/")
def stacks() -> str:
    session = db_session()
    rights = _rights()
    organisation = request.args.get("organisation") or None
    return render_template(
        "authoring/stacks.html",
        summaries=stack_authoring.stack_list(session, rights, organisation),
        organisations=authoring.organisations_for(session, rights),
        chosen=organisation,
        notice=_notice(),
    )


@bp.route("/new", methods=["GET", "POST"])
def new_stack() -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    organisations = authoring.organisations_for(session, rights)
    if request.method == "GET":
        chosen = request.args.get("organisation", "")
        if len(organisations) == 1:
            chosen = organisations[0].slug
        typed = defaults(STACK_FIELDS) | {"organisation": chosen, "slug": "", "credential": ""}
        return _new_page(organisations, typed, {}, 200)
    form = parse(STACK_FIELDS, request.form)
    typed = form.typed | {
        "organisation": request.form.get("organisation", ""),
        "slug": request.form.get("slug", "").strip(),
        "credential": request.form.get("credential", ""),
    }
    try:
        stack = stack_authoring.create_stack(
            session,
            rights,
            organisation_slug=typed["organisation"],
            slug=typed["slug"],
            first_credential=typed["credential"],
            form=form,
        )
    except authoring.InvalidChange:
        return _new_page(organisations, typed, form.errors, 400)
    session.commit()
    return _done(stack, "created")


def _new_page(
    organisations: list[Any], typed: dict[str, Any], errors: dict[str, str], status: int
) -> tuple[str, int]:
    choices = stack_authoring.credential_choices(db_session(), [o.id for o in organisations])
    page = render_template(
        "authoring/stack_new.html",
        organisations=organisations,
        choices=[c for c in choices if not c.retired],
        fields=STACK_FIELDS,
        typed=typed,
        errors=errors,
    )
    return page, status


@bp.route("/<slug>", methods=["GET", "POST"])
def stack(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = stack_authoring.stack_for(session, rights, slug)
    if request.method == "GET":
        return _stack_page(found, _saved_values(found))
    form = parse(STACK_FIELDS, request.form)
    if not form.is_valid:
        return _stack_page(found, form.typed, errors=form.errors, status=400)
    changes = stack_authoring.update_stack(session, rights, found, form)
    session.commit()
    return _done(found, "saved" if changes else "unchanged")


def _saved_values(found: Stack) -> dict[str, Any]:
    return shown(STACK_FIELDS, {"title": found.title, "description": found.description})


def _stack_page(
    found: Stack,
    typed: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    add_error: str | None = None,
    milestone_error: str | None = None,
    problem: AppError | None = None,
    chosen: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = db_session()
    milestone = stack_authoring.milestone_of(session, found)
    selected = {"milestone": milestone.slug if milestone else "", "credential": ""}
    page = render_template(
        "authoring/stack.html",
        stack=found,
        fields=STACK_FIELDS,
        typed=typed,
        errors=errors or {},
        entries=stack_authoring.entries_of(session, found),
        addable=stack_authoring.addable(session, found),
        milestone=milestone,
        milestone_choices=stack_authoring.milestone_choices(session, found),
        add_error=add_error,
        milestone_error=milestone_error,
        problem=problem,
        chosen=selected | (chosen or {}),
        notice=None if status != 200 else _notice(),
    )
    return page, status


def _refused(found: Stack, exc: AppError, **at_field: Any) -> tuple[str, int]:
    """Show the stack as it is now, with the reason a change was refused: at the field it came
    from (``add_error``, ``milestone_error``), or above everything when the stack changed."""
    db_session().rollback()
    if isinstance(exc, stack_authoring.StackChanged) or not at_field:
        return _stack_page(found, _saved_values(found), problem=exc, status=exc.status)
    return _stack_page(found, _saved_values(found), status=exc.status, **at_field)


def _said(exc: AppError) -> str:
    return exc.message + (f" {exc.hint}" if exc.hint else "")


@bp.post("/<slug>/credentials")
def add_credential(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = stack_authoring.stack_for(session, rights, slug)
    chosen = request.form.get("credential", "")
    try:
        stack_authoring.add_credential(session, rights, found, chosen)
    except (authoring.InvalidChange, stack_authoring.StackChanged) as exc:
        return _refused(found, exc, add_error=_said(exc), chosen={"credential": chosen})
    session.commit()
    return _done(found, "added")


@bp.post("/<slug>/credentials/<int:number>/move")
def move_credential(slug: str, number: int) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = stack_authoring.stack_for(session, rights, slug)
    try:
        stack_authoring.move_credential(
            session,
            rights,
            found,
            _place(number),
            request.form.get("credential", ""),
            request.form.get("direction", ""),
        )
    except stack_authoring.StackChanged as exc:
        return _refused(found, exc)
    session.commit()
    return _done(found, "moved")


@bp.route("/<slug>/credentials/<int:number>/remove", methods=["GET", "POST"])
def remove_credential(slug: str, number: int) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = stack_authoring.stack_for(session, rights, slug)
    entries = stack_authoring.entries_of(session, found)
    if request.method == "GET":
        if not 0 < number <= len(entries):
            raise NotFound(
                f"The stack has no credential {number}.",
                hint="Go back to the stack and choose one from its list.",
            )
        page = render_template(
            "authoring/stack_remove.html",
            stack=found,
            entry=entries[number - 1],
            only_one=len(entries) == 1,
        )
        return page, 200
    try:
        stack_authoring.remove_credential(
            session, rights, found, _place(number), request.form.get("credential", "")
        )
    except (authoring.InvalidChange, stack_authoring.StackChanged) as exc:
        return _refused(found, exc)
    session.commit()
    return _done(found, "removed")


@bp.post("/<slug>/milestone")
def set_milestone(slug: str) -> Response | tuple[str, int]:
    session = db_session()
    rights = _rights()
    found = stack_authoring.stack_for(session, rights, slug)
    chosen = request.form.get("milestone", "")
    try:
        stack_authoring.set_milestone(session, rights, found, chosen)
    except authoring.InvalidChange as exc:
        return _refused(found, exc, milestone_error=_said(exc), chosen={"milestone": chosen})
    session.commit()
    return _done(found, "milestone")


@bp.route("/<slug>/delete", methods=["GET", "POST"])
def delete_stack(slug: str) -> Response | str:
    session = db_session()
    rights = _rights()
    found = stack_authoring.stack_for(session, rights, slug)
    if request.method == "GET":
        return render_template(
            "authoring/stack_delete.html",
            stack=found,
            entries=stack_authoring.entries_of(session, found),
        )
    title = found.title
    stack_authoring.delete_stack(session, rights, found)
    session.commit()
    return redirect(url_for("stack_authoring.stacks", done="deleted", title=title), code=303)

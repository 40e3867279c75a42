"""The catalog for educators, inside a launch: browse and search published micro-credentials,
a credential's page (everything to know before starting), a stack's page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request

from app.catalog import services
from app.catalog.markdown import render
from app.db import db_session
from app.errors import NotFound
from app.lti import require_launch, session_token_for

bp = Blueprint("catalog", __name__, template_folder="templates")


@dataclass(frozen=True)
class Chosen:
    """The catalog's search words and filters, as the educator chose them."""

    q: str
    stack: str | None
    tag: str | None
    hours: float | None


@bp.app_template_filter("markdown")
def _markdown(text: str | None) -> object:
    return render(text)


def _hours(value: str | None) -> float | None:
    try:
        hours = float(value) if value else None
    except ValueError:
        return None
    return hours if hours is None or 0 < hours <= 500 else None


@bp.get("/catalog")
def browse() -> str:
    launch = require_launch()
    session_token_for(launch)
    session = db_session()
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    chosen = Chosen(
        q=request.args.get("q", "").strip()[:200],
        stack=request.args.get("stack") or None,
        tag=request.args.get("tag") or None,
        hours=_hours(request.args.get("hours")),
    )
    result = services.search(
        session,
        text=chosen.q,
        stack=chosen.stack,
        tag=chosen.tag,
        max_hours=chosen.hours,
        page=page,
    )
    stacks, tags = services.filters(session)
    return render_template(
        "catalog/browse.html", launch=launch, result=result, chosen=chosen, stacks=stacks, tags=tags
    )


@bp.get("/catalog/credentials/<slug>")
def credential(slug: str) -> str:
    launch = require_launch()
    session_token_for(launch)
    page = services.credential_page(db_session(), slug)
    if page is None:
        raise NotFound(
            "There is no published micro-credential at this address.",
            hint="Go back to the catalog and choose one from the list.",
        )
    return render_template("catalog/credential.html", launch=launch, page=page)


@bp.get("/catalog/stacks/<slug>")
def stack(slug: str) -> str:
    launch = require_launch()
    session_token_for(launch)
    found = services.stack_page(db_session(), slug)
    if found is None:
        raise NotFound("There is no stack at this address.", hint="Go back to the catalog.")
    stack_row, entries, milestone = found
    return render_template(
        "catalog/stack.html", launch=launch, stack=stack_row, entries=entries, milestone=milestone
    )

"""The catalog for educators, inside a launch: browse and search published micro-credentials,
a stack's page. And, public and outside any launch, the catalog's badge and issuer images by
their digest. A credential's page, which shows the educator's own work on it beside what the
catalog says, is ``app.evidence.views``'s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import Blueprint, Response, render_template, request, url_for

from app import inputs
from app.catalog import images, services
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


# An image opened directly runs nothing and loads nothing, whatever slipped past sanitising.
IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


class Addressed(Protocol):
    """A stored image, or what a listing knows of one: enough to address it."""

    @property
    def sha256(self) -> str: ...

    @property
    def media_type(self) -> str: ...


@bp.app_template_global()
def image_url(image: Addressed) -> str:
    """The public address of a catalog image (its digest, with the type's extension)."""
    return url_for("catalog.image", digest=image.sha256, ext=images.EXTENSIONS[image.media_type])


@bp.app_template_filter("markdown")
def _markdown(text: str | None) -> object:
    return render(text)


MAX_TAG_CHARS = 60
"""As the authoring form takes a tag: a longer one names nothing."""


@bp.get("/catalog")
def browse() -> str:
    launch = require_launch()
    session_token_for(launch)
    session = db_session()
    query = inputs.query()
    page = query.page()
    chosen = Chosen(
        q=query.text("q", strip=True)[:200],
        stack=query.optional_text("stack", max_length=inputs.SLUG_CHARS),
        tag=query.optional_text("tag", max_length=MAX_TAG_CHARS),
        hours=query.optional_number("hours", minimum=0, maximum=500) or None,
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


@bp.get("/catalog/images/<digest>.<any(png, svg):ext>")
def image(digest: str, ext: str) -> Response:
    """Serve a catalog image: public (badge images are), immutable (addressed by content)."""
    found = images.find_image(db_session(), digest)
    if found is None or images.EXTENSIONS[found.media_type] != ext:
        raise NotFound(
            "There is no image at this address.",
            hint="Image addresses come from the catalog; check that the link is complete.",
        )
    response = Response(found.data, content_type=found.media_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = IMAGE_CSP
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.set_etag(found.sha256)
    response.make_conditional(request)  # an If-None-Match with the digest answers 304
    return response

"""Courses and credentials, inside a launch: the Deep Linking picker and its signed answer, and
an instructor binding an activity that has no credential. The activity's own page, who has
opened it and the class's progress read several features and are ``app.progress``'s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app import inputs
from app.catalog import services as catalog
from app.catalog.views import image_url
from app.db import db_session
from app.errors import AppError
from app.linking import services
from app.lti import deep_linking, require_launch, runtime, session_token_for
from app.lti.keys import signing_key
from app.lti.launch import Launch
from app.lti.platforms import ToolUrls, plugin
from app.lti.session import SESSION_PARAM

bp = Blueprint(
    "linking",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/linking/static",
)

PICKER_PAGE_SIZE = 50


class WrongPlace(AppError):
    code = "not_a_deep_linking_launch"
    title = "This page is for adding micro-credentials"


def _with_session(endpoint: str, launch: Launch) -> str:
    values: dict[str, Any] = {SESSION_PARAM: session_token_for(launch)}
    return url_for(endpoint, **values)


@dataclass(frozen=True)
class Filters:
    q: str
    stack: str | None


def _deep_linking(launch: Launch) -> deep_linking.DeepLinkingRequest:
    found = deep_linking.request_of(launch)
    if found is None:
        raise WrongPlace(
            "This page opens when you add Microcred to a course from the LMS's "
            "“add an activity” or assignment screen.",
            hint="Go back to your course and add Microcred from there.",
        )
    services.require_content_rights(launch)
    return found


def _filters() -> Filters:
    values = inputs.values()
    return Filters(
        q=values.text("q", strip=True)[:200],
        stack=values.optional_text("stack", max_length=inputs.SLUG_CHARS),
    )


def _picker_page(
    launch: Launch, mode: str, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    """Render the picker. It is one form: "Show" submits it by GET (a new search), the other
    buttons by POST, so what the instructor ticked, the version, the gradebook choice and the
    points survive a search, and choices from earlier searches stay listed, still ticked."""
    session = db_session()
    filters = _filters()
    values = request.values
    result = catalog.search(session, text=filters.q, stack=filters.stack, per_page=PICKER_PAGE_SIZE)
    stacks, _ = catalog.filters(session)
    dl = deep_linking.request_of(launch)
    picked = list(dict.fromkeys(values.getlist("credential")))[: services.MAX_ITEMS]
    shown = {entry.slug for entry in result.entries}
    elsewhere = [slug for slug in picked if slug not in shown]
    earlier = (
        catalog.search(session, slugs=elsewhere, per_page=services.MAX_ITEMS).entries
        if elsewhere
        else []
    )
    endpoint = "linking.choose" if mode == "bind" else "linking.picker"
    page = render_template(
        "linking/picker.html",
        launch=launch,
        mode=mode,
        dl=dl,
        multiple=dl.accept_multiple if dl else False,
        result=result,
        earlier=earlier,
        filters=filters,
        stacks=stacks,
        chosen_stack=next((t for s, t in stacks if s == filters.stack), None),
        picked=picked,
        points=values.get("points", str(services.DEFAULT_SCORE_MAXIMUM)),
        pin=values.get("version") == "pin",
        # A first opening ticks "graded"; after that, the form says (an unticked box sends
        # nothing, so "was the form submitted" is told by its action).
        graded="action" not in values or values.get("graded") == "1",
        endpoint=endpoint,
        error=error,
        default_points=services.DEFAULT_SCORE_MAXIMUM,
    )
    return page, status


@bp.get("/lti/deep-link")
def picker() -> tuple[str, int]:
    launch = require_launch()
    _deep_linking(launch)
    session_token_for(launch)
    return _picker_page(launch, "deep-link")


@bp.post("/lti/deep-link")
def answer() -> tuple[str, int]:
    launch = require_launch()
    dl = _deep_linking(launch)
    session_token_for(launch)
    session = db_session()
    action = request.form.get("action", "")
    if action == "cancel":
        return _post_back(launch, dl, [], message="Nothing was added.")
    try:
        points = services.parse_score_maximum(request.form.get("points"))
        if action == "stack":
            found = catalog.stack_page(session, request.form.get("whole_stack", ""))
            if found is None:
                raise services.InvalidChoice("Choose a stack first.")
            slugs = [entry.slug for entry in found[1]]
        else:
            slugs = request.form.getlist("credential")
        if len(slugs) > 1 and not dl.accept_multiple:
            raise services.InvalidChoice(
                "This place in your LMS takes one micro-credential at a time: choose one."
            )
        chosen = services.chosen_credentials(
            session, slugs, pin=request.form.get("version") == "pin"
        )
    except services.InvalidChoice as exc:
        return _picker_page(launch, "deep-link", exc.message, 400)
    urls = ToolUrls(runtime().settings.base_url)
    platform = plugin(launch.platform_family)
    graded = request.form.get("graded") == "1"
    items = [
        services.content_item(
            choice,
            launch_url=urls.launch,
            score_maximum=points,
            graded=graded,
            icon_url=urls.base_url + _image_path(choice) if choice.image else None,
            extensions=platform.deep_linking_item_extensions(urls.launch),
        )
        for choice in chosen
    ]
    titles = ", ".join(c.title for c in chosen)
    return _post_back(launch, dl, items, message=f"Added: {titles}.")


def _image_path(choice: services.Chosen) -> str:
    assert choice.image is not None
    return image_url(choice.image)


def _post_back(
    launch: Launch,
    dl: deep_linking.DeepLinkingRequest,
    items: list[dict[str, object]],
    *,
    message: str,
) -> tuple[str, int]:
    key = signing_key(db_session(), runtime().cipher)
    token = deep_linking.response_jwt(key, launch, dl, items, message=message)
    page = render_template(
        "linking/return.html", return_url=dl.return_url, jwt=token, items=items, message=message
    )
    return page, 200


# --- An activity without a credential -----------------------------------------------------------


@bp.route("/activity/choose", methods=["GET", "POST"])
def choose() -> Response | tuple[str, int]:
    launch = require_launch()
    services.require_content_rights(launch)
    session_token_for(launch)
    if request.method == "GET":
        return _picker_page(launch, "bind")
    if request.form.get("action") == "cancel":
        return redirect(_with_session("progress.activity", launch), code=303)
    slugs = request.form.getlist("credential")
    session = db_session()
    try:
        if len(slugs) != 1:
            raise services.InvalidChoice("Choose one micro-credential for this activity.")
        services.bind(session, launch, slugs[0], pin=request.form.get("version") == "pin")
    except services.InvalidChoice as exc:
        return _picker_page(launch, "bind", exc.message, 400)
    session.commit()
    return redirect(_with_session("progress.activity", launch), code=303)

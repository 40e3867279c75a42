"""The development LMS's protocol endpoints: OIDC auth, token, JWKS, AGS, NRPS, Deep Linking
return, Dynamic Registration. Thin: each parses the request, calls ``platform``, ``gradebook``,
``deep_linking`` or ``registration``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from app.db import db_session
from app.devlms import (
    deep_linking,
    faults,
    gradebook,
    grader_launches,
    launches,
    placements,
    platform,
    registration,
    throttle,
)
from app.devlms.models import DevCourse, DevLineItem, DevLink, DevTool, DevUser
from app.devlms.platform import (
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_NRPS,
    SCOPE_RESULT,
    SCOPE_SCORE,
    PlatformError,
)
from app.devlms.sites import Sites
from config import Settings

bp = Blueprint("devlms_api", __name__, template_folder="templates")

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def settings() -> Settings:
    s: Settings = current_app.config["MICROCRED_SETTINGS"]
    return s


def sites() -> Sites:
    return Sites.of(settings())


def http() -> requests.Session:
    client = current_app.extensions.get("devlms_http")
    if client is None:
        client = requests.Session()
        client.headers["User-Agent"] = "Microcred-devlms/0.1"
        current_app.extensions["devlms_http"] = client
    return client


def current_user() -> DevUser | None:
    user_id = session.get("user_id")
    return db_session().get(DevUser, user_id) if user_id else None


# The service endpoints a tool calls with a token or for one: faults are injected into these,
# and those called with a token are Canvas's LTI Advantage routes, throttled per client_id.
SERVICE_ENDPOINTS = frozenset(
    f"devlms_api.{name}"
    for name in ("token", "line_items", "line_item", "scores", "results", "course_memberships")
)


def request_throttle() -> throttle.RequestThrottle:
    """This LMS process's rate limit buckets (Canvas-flavoured tools)."""
    found: throttle.RequestThrottle = current_app.extensions["devlms_throttle"]
    return found


def clients() -> throttle.ClientLookup:
    """Who is behind a token (cached briefly, per process)."""
    found: throttle.ClientLookup = current_app.extensions["devlms_clients"]
    return found


def _is_canvas(client: throttle.Client | None) -> bool:
    return client is not None and client.flavour in placements.CANVAS_FLAVOURS


@bp.before_request
def _throttle_and_inject_faults() -> None:
    """Hold a Canvas-flavoured tool's request in its client's bucket (refused when full), then
    wait and fail as Site administration → Service faults say, before anything is read."""
    if request.endpoint not in SERVICE_ENDPOINTS:
        return
    current = faults.current_faults(db_session())
    token_endpoint = request.endpoint == "devlms_api.token"
    client = None if token_endpoint else clients().of_bearer(request.headers.get("Authorization"))
    if _is_canvas(client):
        assert client is not None
        limit = current.canvas_rate_limit
        reservation = request_throttle().reserve(client.client_id, limit)
        g.devlms_throttled = (reservation, limit)
        if not reservation.allowed:
            raise throttle.rate_limit_exceeded()
    try:
        faults.apply(current, token_endpoint=token_endpoint, canvas=_is_canvas(client))
    except PlatformError as exc:
        if exc.error == throttle.RATE_LIMITED:
            g.devlms_refused = True  # it costs nothing and says none
        elif exc.status == 429 and token_endpoint and _is_canvas(_assertion_client()):
            raise throttle.rate_limit_exceeded(remaining="0.0") from None
        raise


def _assertion_client() -> throttle.Client | None:
    """The tool a token request claims to come from (its assertion's ``iss``), unverified."""
    try:
        claims = jwt.decode(
            request.form.get("client_assertion", ""), options={"verify_signature": False}
        )
    except jwt.InvalidTokenError:
        return None
    return clients().of_tool(str(claims.get("iss")))


@bp.after_request
def _rate_limit_headers(response: Response) -> Response:
    """Take a finished request out of its bucket and say what remains, as Canvas does on
    every answer to a throttled client (and its cost, unless it was refused)."""
    held = g.pop("devlms_throttled", None)
    if held is not None:
        reservation, limit = held
        refused = g.get("devlms_refused", False)
        remaining = request_throttle().release(reservation, limit, refused=refused)
        if reservation.allowed and not refused:
            response.headers[throttle.COST] = str(limit.request_cost)
        response.headers.setdefault(throttle.REMAINING, str(remaining))
    return response


@bp.teardown_request
def _release_unanswered(_exc: BaseException | None) -> None:
    """A request that failed without an answer still leaves its bucket."""
    held = g.pop("devlms_throttled", None)
    if held is not None:
        request_throttle().release(*held)


@bp.errorhandler(PlatformError)
def _platform_error(exc: PlatformError) -> Any:
    if request.path.startswith(("/api/", "/mod/lti/")) or request.path in {
        "/token",
        registration.CANVAS_OAUTH2_PATH,
    }:
        if exc.body == {}:  # Rails's ``head``: the status and no body
            return Response(status=exc.status)
        if exc.text is not None:
            response = Response(exc.text, content_type="text/plain; charset=utf-8")
        else:
            response = jsonify(
                exc.body or {"error": exc.error, "error_description": exc.description}
            )
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
        response.headers.update(exc.headers)
        return response, exc.status
    return render_template("devlms/error.html", error=exc, course=exc.course), exc.status


# --- keys, OIDC, token -------------------------------------------------------------------------


@bp.get("/jwks")
@bp.get("/.well-known/jwks.json", endpoint="jwks")
@bp.get(registration.CANVAS_JWKS_PATH, endpoint="jwks")
def jwks() -> Response:
    return jsonify(platform.platform_jwks(db_session()))


@bp.route(registration.CANVAS_AUTHORIZATION_PATH, methods=["GET", "POST"])
def authorize_redirect() -> WerkzeugResponse:
    """Canvas's OIDC authorization endpoint on its sso host only redirects the browser, with
    the same parameters, to the authorization endpoint of the host the person is signed in to
    (``Lti::IMS::AuthenticationController#authorize_redirect``); here, the issuer's."""
    params = request.form if request.method == "POST" else request.args
    return redirect(f"{sites().issuer}/auth?{urlencode(list(params.items(multi=True)))}", 302)


@bp.route("/auth", methods=["GET", "POST"])
def auth() -> Any:
    """The OIDC authorization endpoint: check the request, take the launch its message hint
    names (once: ``launches``), sign an id_token, form-post it.

    A Canvas launch started from a course page on another host than this request's (the
    school's own) is finished on that host, where the person is signed in, as Canvas's sso
    host sends the browser on to the school's (``authorize_redirect``)."""
    params = {k: v for k, v in (request.form if request.method == "POST" else request.args).items()}
    elsewhere = _course_page_site(params.get("lti_message_hint", ""))
    if elsewhere is not None:
        return redirect(f"{elsewhere}{request.path}?{urlencode(params)}", code=302)
    s = db_session()
    checked = platform.check_auth_request(s, params, current_user())
    try:
        prepared = launches.take(
            s, checked.tool, checked.user, checked.message_hint, current_app.config["SECRET_KEY"]
        )
    except launches.LaunchNoLongerValid as refused:
        # Canvas answers the tool, not the person: the OIDC error goes to the redirect URI.
        fields = {"error": refused.error, "error_description": refused.description}
        return render_template(
            "devlms/form_post.html",
            action=checked.redirect_uri,
            fields={**fields, "state": checked.state},
        )
    hint, target = prepared.request, prepared.target_link_uri
    base = settings().devlms_url
    placement_claim: str | None = hint.get("placement")
    if hint.get("link"):
        link = s.get(DevLink, hint["link"])
        if link is None or link.tool_id != checked.tool.id:
            raise PlatformError(
                404, "invalid_request", "The activity of this launch no longer exists."
            )
        course = s.get(DevCourse, link.course_id)
        assert course is not None
        roles = platform.course_roles(s, course, checked.user, checked.tool.flavour)
        claims = platform.resource_link_claims(base, checked, link, course, roles, target)
        if hint.get("message_type") == grader_launches.SUBMISSION_REVIEW:
            claims = grader_launches.as_submission_review(s, claims, hint.get("for_user"))
    elif hint.get("course_navigation"):
        course = _hinted_course(hint["course_navigation"])
        if not placements.has_course_navigation(checked.tool):
            raise PlatformError(
                404, "invalid_request", "This tool is no longer in the course menu."
            )
        roles = platform.course_roles(s, course, checked.user, checked.tool.flavour)
        claims = platform.course_navigation_claims(base, checked, course, roles, target)
        placement_claim = "course_navigation"
    else:
        course = _hinted_course(hint.get("deep_link"))
        placement = placements.find_placement(checked.tool, hint.get("placement"))
        if placement is None:
            raise PlatformError(
                400,
                "invalid_request",
                f"This tool behaves like {checked.tool.flavour} now, which has no "
                f"{hint.get('placement')!r} screen; start again from the course page.",
            )
        data = (
            None  # Canvas keeps the course and placement in its return URL
            if checked.tool.flavour in placements.CANVAS_FLAVOURS
            else deep_linking.make_data(
                current_app.config["SECRET_KEY"],
                course.id,
                checked.tool.id,
                checked.user.id,
                placement.code,
            )
        )
        roles = platform.course_roles(s, course, checked.user, checked.tool.flavour)
        claims = platform.deep_linking_claims(base, checked, course, data, placement, roles, target)
    if not roles:
        raise PlatformError(403, "access_denied", "You are not enrolled in this course.")
    canvas = checked.tool.flavour in placements.CANVAS_FLAVOURS
    site = hint.get("site")
    if canvas:
        # Canvas names the placement a launch came from (null for a module item or an
        # assignment: lib/lti/messages/jwt_message.rb).
        claims[platform.CANVAS_PLACEMENT] = placement_claim
        if isinstance(site, str):
            # Canvas's return URL is on the course page's host (the school's), not the issuer's.
            presentation = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
            claims[presentation]["return_url"] = f"{site}/courses/{course.id}"
            dl_settings = claims.get(platform.DL_SETTINGS)
            if isinstance(dl_settings, dict):
                path = urlsplit(dl_settings["deep_link_return_url"])
                dl_settings["deep_link_return_url"] = f"{site}{path.path}?{path.query}"
    fields = {"id_token": platform.sign(s, claims), "state": checked.state}
    if checked.tool.flavour == "canvas":
        fields["lti_storage_target"] = placements.STORAGE_FRAME  # repeated on the launch
    return render_template("devlms/form_post.html", action=checked.redirect_uri, fields=fields)


def _course_page_site(message_hint: str) -> str | None:
    """The host a Canvas launch's course page is on, when it is not this request's."""
    site = launches.course_page_site(db_session(), message_hint, current_app.config["SECRET_KEY"])
    if site is None or site == request.host_url.rstrip("/"):
        return None
    return site


STORAGE_LISTEN_DELAY = "DEVLMS_STORAGE_LISTEN_DELAY_MS"
"""The storage frame starts listening this long after it loads (tests set it): the course page
loads it beside the tool's iframe, and on a slow laptop the tool's first message can arrive
before its script listens, and is lost, as it would be in Canvas."""


@bp.get(f"/{placements.STORAGE_FRAME}")
def post_message_forwarding() -> str:
    """Canvas's platform storage frame, loaded beside the tool's iframe on the course page: it
    relays between the tools and the course page, whose origin it is told."""
    parent = request.args.get("parent_origin", "")
    parts = urlsplit(parent)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
        raise PlatformError(400, "invalid_request", "parent_origin must be an http(s) origin.")
    return render_template(
        "devlms/post_message_forwarding.html",
        parent_origin=parent,
        listen_after_ms=int(current_app.config.get(STORAGE_LISTEN_DELAY, 0)),
    )


def _hinted_course(course_id: Any) -> DevCourse:
    course = db_session().get(DevCourse, course_id) if isinstance(course_id, int) else None
    if course is None:
        raise PlatformError(404, "invalid_request", "The course of this request no longer exists.")
    return course


@bp.post("/token")
@bp.post(registration.CANVAS_OAUTH2_PATH, endpoint="token")
def token() -> Response:
    # The client assertion's aud must be this endpoint's own URL, on the host it was asked on:
    # exactly, as Canvas checks it (lib/canvas/security/jwt_validator.rb).
    body = platform.issue_access_token(
        db_session(),
        request.form.to_dict(),
        sites().origin_for_host(request.host) + request.path,
        http(),
    )
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- AGS ----------


def _check_type_id(tool: DevTool) -> None:
    type_id = request.args.get("type_id")
    if type_id is not None and type_id != str(tool.id):
        raise PlatformError(404, "not_found", "type_id does not match the tool of this token.")


def _bearer(any_of: list[str]) -> DevTool:
    tool = platform.authorize_bearer(db_session(), request.headers.get("Authorization"), any_of)
    _check_type_id(tool)
    return tool


def _bearer_and_line_item(
    any_of: list[str], course_id: int, item_id: int
) -> tuple[DevTool, DevLineItem]:
    """Check the bearer token and find the tool's line item, in one query."""
    tool, item = platform.authorize_bearer_for_line_item(
        db_session(), request.headers.get("Authorization"), any_of, course_id, item_id
    )
    _check_type_id(tool)
    if item is None:
        raise PlatformError(404, "not_found", f"No line item {item_id} in course {course_id}.")
    return tool, item


def _json_body() -> Any:
    body = request.get_json(silent=True, force=True)
    if body is None:
        raise PlatformError(400, "invalid_request", "The body must be JSON.")
    return body


def _with_next(response: Response, next_page: int | None) -> Response:
    if next_page is not None:
        values: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict()}
        values["page"] = str(next_page)
        url = settings().devlms_url + url_for(request.endpoint or "", **values)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response


@bp.route("/api/lti/courses/<int:course_id>/lineitems", methods=["GET", "POST"])
def line_items(course_id: int) -> Any:
    s = db_session()
    if s.get(DevCourse, course_id) is None:
        raise PlatformError(404, "not_found", f"No course {course_id}.")
    if request.method == "POST":
        tool = _bearer([SCOPE_LINEITEM])
        item = gradebook.create_line_item(s, course_id, tool, _json_body())
        response = jsonify(gradebook.line_item_json(settings().devlms_url, item, tool))
        response.status_code = 201
        response.content_type = LINEITEM_TYPE
        return response
    tool = _bearer([SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY])
    page = gradebook.list_line_items(s, course_id, tool, request.args.to_dict())
    response = jsonify(
        [gradebook.line_item_json(settings().devlms_url, i, tool) for i in page.items]
    )
    response.content_type = CONTAINER_TYPE
    return _with_next(response, page.next_page)


@bp.route(
    "/api/lti/courses/<int:course_id>/lineitems/<int:item_id>/lineitem",
    methods=["GET", "PUT", "DELETE"],
)
def line_item(course_id: int, item_id: int) -> Any:
    s = db_session()
    tool, item = _bearer_and_line_item(
        [SCOPE_LINEITEM] if request.method != "GET" else [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY],
        course_id,
        item_id,
    )
    if request.method == "DELETE":
        gradebook.delete_line_item(s, item)
        return Response(status=204)
    if request.method == "PUT":
        item = gradebook.update_line_item(s, item, _json_body())
    response = jsonify(gradebook.line_item_json(settings().devlms_url, item, tool))
    response.content_type = LINEITEM_TYPE
    return response


@bp.post("/api/lti/courses/<int:course_id>/lineitems/<int:item_id>/lineitem/scores")
def scores(course_id: int, item_id: int) -> Response:
    s = db_session()
    tool, item = _bearer_and_line_item([SCOPE_SCORE], course_id, item_id)
    if request.mimetype != SCORE_TYPE:
        raise PlatformError(415, "invalid_request", f"Content-Type must be {SCORE_TYPE}.")
    grade_id = gradebook.post_score(s, item, tool, _json_body())
    body = gradebook.score_rules(tool).answer(
        gradebook.result_url(settings().devlms_url, item, tool, grade_id)
    )
    return Response(status=204) if body is None else jsonify(body)


@bp.get("/api/lti/courses/<int:course_id>/lineitems/<int:item_id>/lineitem/results")
def results(course_id: int, item_id: int) -> Response:
    s = db_session()
    tool, item = _bearer_and_line_item([SCOPE_RESULT], course_id, item_id)
    body, next_page = gradebook.list_results(
        s, settings().devlms_url, item, tool, request.args.to_dict()
    )
    response = jsonify(body)
    response.content_type = RESULTS_TYPE
    return _with_next(response, next_page)


# --- NRPS ----------


@bp.get("/api/lti/courses/<int:course_id>/memberships")
def course_memberships(course_id: int) -> Response:
    s = db_session()
    _bearer([SCOPE_NRPS])
    course = s.get(DevCourse, course_id)
    if course is None:
        raise PlatformError(404, "not_found", f"No course {course_id}.")
    body, next_page = gradebook.memberships(
        s, settings().devlms_url, course, request.args.to_dict()
    )
    response = jsonify(body)
    response.content_type = MEMBERSHIP_TYPE
    return _with_next(response, next_page)


# --- Deep Linking return ----------


@bp.post("/deep_linking/return")
def deep_linking_return() -> str:
    result = deep_linking.receive(
        db_session(),
        request.form.get("JWT", ""),
        settings().devlms_url,
        current_app.config["SECRET_KEY"],
        http(),
    )
    return render_template("devlms/deep_linking_done.html", result=result)


@bp.post("/courses/<int:course_id>/deep_linking_response")
def canvas_deep_linking_response(course_id: int) -> str:
    """Canvas's return URL: the course in the path, the placement in the query, no data."""
    result = deep_linking.receive(
        db_session(),
        request.form.get("JWT", ""),
        settings().devlms_url,
        current_app.config["SECRET_KEY"],
        http(),
        canvas_course=course_id,
        canvas_placement=request.args.get("placement"),
    )
    return render_template("devlms/deep_linking_done.html", result=result)


# --- Dynamic Registration ----------
# Each flavour at its LMS's own paths: Moodle all under the issuer; Canvas's configuration on
# the issuer's host, its registration endpoint on the account host (``sites``).


@bp.get("/mod/lti/openid-configuration.php", defaults={"flavour": "moodle"})
@bp.get("/api/lti/security/openid-configuration", defaults={"flavour": "canvas"})
def openid_configuration(flavour: str) -> Response:
    body = registration.openid_configuration(
        db_session(),
        sites(),
        flavour,
        request.headers.get("Authorization"),
        request.args.get("registration_token"),
    )
    return jsonify(body)


@bp.post("/mod/lti/openid-registration.php", defaults={"flavour": "moodle"})
@bp.post("/api/lti/registrations", defaults={"flavour": "canvas"})
def client_registration(flavour: str) -> Response:
    # Both LMSs answer 200 with the stored registration (not OIDC's 201).
    body = registration.register(
        db_session(),
        sites(),
        flavour,
        request.headers.get("Authorization"),
        request.args.get("registration_token"),
        request.get_json(silent=True, force=True),
        settings().devlms_url + url_for("devlms.lti_tools"),
    )
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response

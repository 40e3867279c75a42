"""Registering the tool in an LMS: the one-time Dynamic Registration page, the manual setup
values for Moodle, and the Canvas developer key JSON (LTI-CHECKLIST D)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, g, jsonify, render_template, request
from werkzeug.wrappers import Response

from app import inputs
from app.db import db_session
from app.lti import dynamic_registration, registration_links, runtime
from app.lti.frame_origins import content_security_policy, forget_cached_origins, origin
from app.lti.platforms import (
    IDENTITY_CLAIMS,
    TOOL_CUSTOM_PARAMETERS,
    TOOL_DESCRIPTION,
    TOOL_NAME,
    TOOL_SCOPES,
    ToolUrls,
    plugin,
)

bp = Blueprint("lti_setup", __name__, template_folder="templates")

MAX_URL_CHARS = 2048

_UNUSABLE = {
    registration_links.LinkUnusable.UNKNOWN: (
        404,
        "This registration link is not valid",
        "Check that the whole link was pasted. Registration links come from Microcred's "
        "operator; ask them for a new one.",
    ),
    registration_links.LinkUnusable.EXPIRED: (
        410,
        "This registration link has expired",
        "Registration links work for a limited time. Ask Microcred's operator for a new one.",
    ),
    registration_links.LinkUnusable.USED: (
        410,
        "This registration link has already been used",
        "Each link registers one LMS, once. If the registration did not finish in your LMS, "
        "ask Microcred's operator for a new link.",
    ),
    registration_links.LinkUnusable.REVOKED: (
        410,
        "This registration link was withdrawn",
        "Microcred's operator withdrew this link. Ask them for a new one.",
    ),
    registration_links.LinkUnusable.BUSY: (
        409,
        "A registration with this link is already under way",
        "Someone is registering with this link right now. Wait a minute and check your LMS's "
        "tool list before trying again.",
    ),
}


def _urls() -> ToolUrls:
    return ToolUrls(runtime().settings.base_url)


@bp.after_request
def _frame_for_the_registering_lms(response: Response) -> Response:
    # The LMS shows the registration page in a frame; the platform is not registered yet, so
    # the origins in the registration list do not include it. Its configuration URL names its
    # issuer, the admin's page may be elsewhere (``_registering_origins``).
    frame_origins = g.get("registering_origins")
    if frame_origins:
        response.headers["Content-Security-Policy"] = content_security_policy(frame_origins)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _lms_origin(value: str | None) -> str | None:
    """The origin of the admin's LMS page that frames the registration, if ``value`` names one
    (https only in production)."""
    found = origin(value)
    if found is None or (runtime().settings.is_production and not found.startswith("https:")):
        return None
    return found


def _registering_origins(*origins: str | None) -> list[str]:
    """Who may frame the registration pages: the configuration URL's origin (the issuer's), the
    admin's LMS page's, and once known the registration endpoint's.

    On hosted Canvas the admin's page is on the school's domain, not on the issuer's host
    (``canvas.instructure.com``); the browser's Referer names it when it loads our page into the
    frame, and the registration endpoint the LMS gives is on it. Trusting the Referer here gives
    an attacker nothing: the page acts only for whoever holds the one-time link, who could post
    it without framing anything."""
    return list(dict.fromkeys(o for o in origins if o))


def _refusal(reason: str) -> tuple[str, int]:
    status, title, hint = _UNUSABLE[reason]
    return render_template("lti/register_refused.html", title=title, hint=hint), status


@bp.route("/lti/register/<token>", methods=["GET", "POST"])
def register(token: str) -> tuple[str, int] | str:
    """Show what registering will do; on POST, register with the LMS that framed us."""
    values = inputs.form() if request.method == "POST" else inputs.query()
    configuration_url = values.text("openid_configuration", max_length=MAX_URL_CHARS, strip=True)
    # GET: the LMS's page loaded us into its frame; POST: our own page posted the form.
    lms_origin = _lms_origin(
        request.referrer
        if request.method == "GET"
        else values.text("lms_origin", max_length=MAX_URL_CHARS)
    )
    g.registering_origins = _registering_origins(origin(configuration_url), lms_origin)
    registration_token = values.text(
        "registration_token", max_length=inputs.MAX_BEARER_CHARS, strip=True
    )
    if registration_token:
        # It goes into the LMS request's Authorization header: refused here, not by the LMS.
        inputs.bearer_token("registration_token", registration_token)
    session = db_session()
    try:
        link = registration_links.find_usable(session, token)
    except registration_links.LinkUnusable as exc:
        return _refusal(exc.reason)
    if not configuration_url or not registration_token:
        return render_template("lti/register_start_in_lms.html", link=link), 400
    if request.method == "GET":
        return render_template(
            "lti/register.html",
            link=link,
            lms_host=urlsplit(configuration_url).netloc,
            configuration_url=configuration_url,
            registration_token=registration_token,
            lms_origin=lms_origin,
            scopes=TOOL_SCOPES,
        )
    try:
        registration_links.claim(session, link)
    except registration_links.LinkUnusable as exc:
        return _refusal(exc.reason)
    settings = runtime().settings
    registered = dynamic_registration.register(
        session,
        runtime().http,
        link=link,
        configuration_url=configuration_url,
        registration_token=registration_token,
        urls=_urls(),
        timeout=settings.http_timeout,
        allow_http=not settings.is_production,
    )
    forget_cached_origins()  # the new platform may frame launches from now on
    g.registering_origins = _registering_origins(
        *g.registering_origins, *registered.platform_origins
    )
    return render_template(
        "lti/register_done.html", registered=registered, close_origins=g.registering_origins
    )


def _moodle_values(urls: ToolUrls) -> list[tuple[str, str, str]]:
    """(field in Moodle's "Add external tool" form, value, note) for manual setup."""
    return [
        ("Tool name", TOOL_NAME, ""),
        ("Tool URL", urls.launch, ""),
        ("Tool description", TOOL_DESCRIPTION, "Optional."),
        ("LTI version", "LTI 1.3", ""),
        ("Public key type", "Keyset URL", ""),
        ("Public keyset", urls.jwks, ""),
        ("Initiate login URL", urls.login, ""),
        ("Redirection URI(s)", urls.launch, ""),
        ("Supports Deep Linking (Content-Item Message)", "Ticked", ""),
        ("Content Selection URL", urls.launch, ""),
        (
            "Tool configuration usage",
            "Show in activity chooser and as a preconfigured tool",
            "Moodle 4.3+ has no generic “External tool” activity: with any other usage teachers "
            "do not find Microcred under “Add an activity or resource”.",
        ),
        ("Default launch container", "Embed, without blocks", ""),
        (
            "IMS LTI Assignment and Grade Services",
            "Use this service for grade sync and column management",
            "",
        ),
        (
            "IMS LTI Names and Role Provisioning",
            "Use this service to retrieve members' information as per privacy settings",
            "",
        ),
        ("Tool Settings", "Do not use this service", ""),
        ("Share launcher's name with tool", "Always", "Names appear on badges and in reviews."),
        ("Share launcher's email with tool", "Always", "Needed for the badge's recipient."),
        (
            "Accept grades from the tool",
            "Always",
            "Not “Delegate”, which makes every teacher tick it per activity.",
        ),
    ]


@bp.get("/lti/setup")
def setup() -> str:
    """Every value an LMS admin needs to register Microcred by hand."""
    urls = _urls()
    return render_template(
        "lti/setup.html",
        urls=urls,
        moodle_values=_moodle_values(urls),
        moodle_after_registration=plugin("moodle").after_registration(),
        scopes=TOOL_SCOPES,
        claims=IDENTITY_CLAIMS,
    )


def canvas_developer_key(urls: ToolUrls) -> dict[str, Any]:
    """The Canvas developer key configuration (Canvas "Enter URL" / "Paste JSON")."""
    return {
        "title": TOOL_NAME,
        "description": TOOL_DESCRIPTION,
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "public_jwk_url": urls.jwks,
        "scopes": list(TOOL_SCOPES),
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": urls.domain,
                "tool_id": "microcred",
                "privacy_level": "public",
                "settings": {
                    "text": TOOL_NAME,
                    "icon_url": urls.logo,
                    "placements": [
                        {
                            "placement": "course_navigation",
                            "message_type": "LtiResourceLinkRequest",
                            "target_link_uri": urls.catalog,
                            "text": "Micro-credentials",
                            "default": "enabled",
                        },
                        {
                            "placement": "assignment_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": urls.launch,
                            "text": "Add a micro-credential",
                        },
                        {
                            "placement": "link_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": urls.launch,
                            "text": "Add a micro-credential",
                        },
                    ],
                },
            }
        ],
        "custom_fields": dict(TOOL_CUSTOM_PARAMETERS),
    }


@bp.get("/lti/canvas.json")
def canvas_json() -> Response:
    """Canvas imports a developer key from this URL ("Enter URL")."""
    response = jsonify(canvas_developer_key(_urls()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response

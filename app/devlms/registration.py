"""LTI Dynamic Registration, platform side, as Moodle and Canvas do it.

1EdTech LTI Dynamic Registration 1.0 (https://www.imsglobal.org/spec/lti-dr/v1p0):

- the registration initiation (§3.3): an admin pastes the tool's registration URL and the LMS
  opens it in an iframe with ``openid_configuration`` and ``registration_token`` added; the token
  is a JWT signed with the platform key, valid for an hour, good for one registration;
- the platform's OpenID configuration (§3.4), per flavour: Moodle serves it to anyone
  (``mod/lti/openid-configuration.php``), Canvas only with the registration token
  (``/api/lti/security/openid-configuration``), and spread over Canvas's hosts (``sites``): the
  registration endpoint on the account host, the authorization, JWKS and token endpoints on the
  sso host, ``authorization_server`` that host's bare name;
- the registration token, as a bearer token or (Canvas reads ``params[:registration_token]``)
  as the ``registration_token`` query parameter;
- the client registration (§3.5): checked the way Moodle's ``registration_helper`` and Canvas's
  ``Lti::IMS::Registration`` check it, stored as a ``DevTool``; Moodle answers with the
  ``deployment_id`` and leaves the tool *Pending* until an admin activates it, and in no
  course's activity chooser (``course_tools``); Canvas answers without one (the tool learns it
  at the first launch);
- the admin's side: who is a site administrator, the tool list, activation.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.devlms.course_tools import ACTIVITY_CHOOSER, PRECONFIGURED
from app.devlms.models import DevPlatformKey, DevTool, DevUsedJti, DevUser
from app.devlms.platform import (
    ALL_SCOPES,
    CANVAS_PRIVACY_LEVEL,
    TOOL_CONFIGURATION,
    PlatformError,
    new_client_id,
    platform_key,
    released_identity_claims,
    sign,
)
from app.devlms.sites import Sites
from config import Settings

REGISTRATION_TOKEN_LIFETIME = timedelta(hours=1)
REGISTRATION_SCOPE = "reg"  # Moodle's registration tokens carry scope=reg; so do ours
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
CANVAS = "https://canvas.instructure.com/lti/"
# Canvas's own paths on its sso host (config/routes.rb: lti_authorize_redirect, lti_jwks,
# oauth2_token); Moodle's stay the development LMS's /auth, /jwks and /token.
CANVAS_AUTHORIZATION_PATH = "/api/lti/authorize_redirect"
CANVAS_JWKS_PATH = "/api/lti/security/jwks"
CANVAS_OAUTH2_PATH = "/login/oauth2/token"

# The site administrators, by email: Moodle keeps its list in $CFG->siteadmins, outside any course.
SITE_ADMIN_EMAILS = frozenset({"alex.admin@example.edu"})

MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")
IDENTITY_CLAIMS = ["sub", "iss", "name", "given_name", "family_name", "email"]

# Canvas's placements (a subset of its real list), per message type it launches them with.
CANVAS_RESOURCE_LINK_PLACEMENTS = [
    "account_navigation",
    "assignment_edit",
    "assignment_menu",
    "assignment_selection",
    "assignment_view",
    "course_assignments_menu",
    "course_home_sub_navigation",
    "course_navigation",
    "course_settings_sub_navigation",
    "global_navigation",
    "link_selection",
    "module_index_menu",
    "module_menu",
    "user_navigation",
]
CANVAS_DEEP_LINKING_PLACEMENTS = [
    "assignment_selection",
    "course_assignments_menu",
    "editor_button",
    "homework_submission",
    "link_selection",
    "migration_selection",
    "module_index_menu_modal",
    "module_menu_modal",
    "submission_type_selection",
]
CANVAS_PLACEMENTS = frozenset(CANVAS_RESOURCE_LINK_PLACEMENTS + CANVAS_DEEP_LINKING_PLACEMENTS)
# Scopes Canvas knows but this LMS does not serve: Canvas accepts them, so the tool is not
# refused for asking; they are simply not granted.
CANVAS_EXTRA_SCOPES = frozenset(
    {
        "https://canvas.instructure.com/lti/public_jwk/scope/update",
        "https://canvas.instructure.com/lti/account_lookup/scope/show",
        "https://canvas.instructure.com/lti-ags/progress/scope/show",
        "https://purl.imsglobal.org/spec/lti/scope/noticehandlers",
    }
)


@dataclass(frozen=True)
class RegistrationFlavour:
    """How one LMS family runs Dynamic Registration (the quirks, each with its reason)."""

    code: str
    label: str
    configuration_path: str
    registration_path: str
    token_required_for_configuration: bool
    """Canvas answers its OpenID configuration only to the bearer of a registration token."""
    pending_after_registration: bool
    """Moodle creates the tool *Pending*; an admin must activate it before it can launch."""
    preconfigured_only: bool
    """Moodle stores the tool as a preconfigured tool only (Tool configuration usage 1), in no
    course's activity chooser (``course_tools``)."""
    deployment_id_in_response: bool
    """Moodle returns the deployment (its tool type id); Canvas's appears at the first launch."""
    token_in_query: bool
    """Canvas's code reads the token from ``params[:registration_token]`` (its documentation
    says a bearer header: it takes either here); Moodle reads only the header."""


FLAVOURS: dict[str, RegistrationFlavour] = {
    "moodle": RegistrationFlavour(
        code="moodle",
        label="Moodle",
        configuration_path="/mod/lti/openid-configuration.php",
        registration_path="/mod/lti/openid-registration.php",
        token_required_for_configuration=False,
        pending_after_registration=True,
        preconfigured_only=True,
        deployment_id_in_response=True,
        token_in_query=False,
    ),
    "canvas": RegistrationFlavour(
        code="canvas",
        label="Canvas",
        configuration_path="/api/lti/security/openid-configuration",
        registration_path="/api/lti/registrations",
        token_required_for_configuration=True,
        pending_after_registration=False,
        preconfigured_only=False,
        deployment_id_in_response=False,
        token_in_query=True,
    ),
}


def registration_endpoint(sites: Sites, spec: RegistrationFlavour) -> str:
    """Where the flavour takes client registrations: Canvas on the account host."""
    base = sites.account if spec.code == "canvas" else sites.issuer
    return base + spec.registration_path


def _flavour(code: str) -> RegistrationFlavour:
    try:
        return FLAVOURS[code]
    except KeyError:
        raise ValueError(
            f"Unknown registration flavour {code!r}: one of {', '.join(FLAVOURS)}."
        ) from None


# --- the registration token ----------


@dataclass(frozen=True)
class RegistrationGrant:
    """A checked registration token: which flavour it is for, the client id it will create."""

    flavour: RegistrationFlavour
    client_id: str
    jti: str
    expires_at: datetime


def issue_registration_token(
    session: Session,
    settings: Settings,
    flavour: str,
    *,
    lifetime: timedelta = REGISTRATION_TOKEN_LIFETIME,
) -> tuple[str, str]:
    """Return ``(openid_configuration_url, registration_token)`` for one registration.

    The token is a JWT signed with the platform key, for the flavour's registration endpoint;
    its ``sub`` is the client id the registration will get (as in Moodle, so a second use
    collides on the client id) and its ``jti`` is recorded when the registration is stored."""
    configuration_url, token, _client_id = _issue(session, settings, flavour, lifetime)
    return configuration_url, token


def _issue(
    session: Session, settings: Settings, flavour: str, lifetime: timedelta
) -> tuple[str, str, str]:
    spec = _flavour(flavour)
    sites = Sites.of(settings)
    base = sites.issuer
    now = int(time.time())
    client_id = new_client_id()
    claims = {
        "iss": base,
        "aud": registration_endpoint(sites, spec),
        "sub": client_id,
        "scope": REGISTRATION_SCOPE,
        "flavour": spec.code,
        "iat": now,
        "exp": now + int(lifetime.total_seconds()),
        "jti": uuid.uuid4().hex,
    }
    return base + spec.configuration_path, sign(session, claims), client_id


def with_registration_parameters(
    registration_url: str, openid_configuration: str, registration_token: str
) -> str:
    """Add ``openid_configuration`` and ``registration_token`` to the tool's registration URL,
    keeping the query parameters it already has (LTI DR §3.3)."""
    parts = urlsplit(registration_url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in {"openid_configuration", "registration_token"}
    ]
    query += [
        ("openid_configuration", openid_configuration),
        ("registration_token", registration_token),
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization.startswith("Bearer ") and authorization[7:].strip():
        return authorization[7:].strip()
    return None


def check_registration_token(
    session: Session,
    sites: Sites,
    flavour: str,
    authorization: str | None,
    query_token: str | None = None,
) -> RegistrationGrant:
    """Check the registration token of a registration request: ``Authorization: Bearer`` (as
    the LTI DR spec and Canvas's documentation say) or, for Canvas, the ``registration_token``
    query parameter (what Canvas's code reads).

    Refuses (401 ``invalid_token``) a missing, forged, expired or other-flavour token; whether it
    was already used is checked when the registration is stored."""
    spec = _flavour(flavour)
    token = _bearer_token(authorization)
    if token is None and spec.token_in_query:
        token = (query_token or "").strip() or None
    if token is None:
        raise PlatformError(
            401,
            "invalid_token",
            "An 'Authorization: Bearer <registration_token>' header "
            + ("(or a registration_token query parameter) " if spec.token_in_query else "")
            + "is required: send the registration_token this LMS added to your registration "
            "URL.",
        )
    public_key = cast(RSAPublicKey, RSAAlgorithm.from_jwk(platform_key(session).public_jwk))
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            audience=registration_endpoint(sites, spec),
            issuer=sites.issuer,
            options={"require": ["iss", "aud", "sub", "exp", "iat", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise PlatformError(
            401,
            "invalid_token",
            "The registration token has expired (they last one hour): ask the LMS administrator "
            "to start the registration again.",
        ) from exc
    except jwt.InvalidAudienceError as exc:
        raise PlatformError(
            401,
            "invalid_token",
            f"This registration token was issued for another registration endpoint; use the "
            f"registration_endpoint of the {spec.label} OpenID configuration it came with.",
        ) from exc
    except jwt.InvalidTokenError as exc:
        raise PlatformError(
            401, "invalid_token", f"The registration token is not one this LMS issued ({exc})."
        ) from exc
    if claims.get("scope") != REGISTRATION_SCOPE or claims.get("flavour") != spec.code:
        raise PlatformError(401, "invalid_token", "This token is not a registration token.")
    return RegistrationGrant(
        flavour=spec,
        client_id=str(claims["sub"]),
        jti=str(claims["jti"]),
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
    )


# --- the OpenID configuration ----------


def openid_configuration(
    session: Session,
    sites: Sites,
    flavour: str,
    authorization: str | None,
    query_token: str | None = None,
) -> dict[str, Any]:
    """Return the platform's OpenID configuration as the flavour's LMS serves it (LTI DR §3.4).

    Canvas's issuer is not a host its endpoints are on: the authorization, JWKS and token
    endpoints are on its sso host, the registration endpoint on the account host, and
    ``authorization_server`` is the sso host's bare name, not a URL (so not the ``aud`` its
    token endpoint expects, which is the token URL)."""
    spec = _flavour(flavour)
    if spec.token_required_for_configuration:
        check_registration_token(session, sites, flavour, authorization, query_token)
    # Moodle reads no header here at all (its script runs without a session or a token check).
    base_url = sites.issuer
    if spec.code == "canvas":
        endpoints = {
            "authorization_endpoint": sites.sso + CANVAS_AUTHORIZATION_PATH,
            "token_endpoint": sites.sso + CANVAS_OAUTH2_PATH,
            "jwks_uri": sites.sso + CANVAS_JWKS_PATH,
        }
    else:
        endpoints = {
            "authorization_endpoint": f"{base_url}/auth",
            "token_endpoint": f"{base_url}/token",
            "jwks_uri": f"{base_url}/jwks",
        }
    configuration: dict[str, Any] = {
        "issuer": base_url,
        "authorization_endpoint": endpoints["authorization_endpoint"],
        "token_endpoint": endpoints["token_endpoint"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": endpoints["jwks_uri"],
        "registration_endpoint": registration_endpoint(sites, spec),
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": IDENTITY_CLAIMS,
    }
    if spec.code == "moodle":
        configuration |= {
            "scopes_supported": [*ALL_SCOPES, "openid"],
            "subject_types_supported": ["public", "pairwise"],
            PLATFORM_CONFIGURATION: {
                "product_family_code": "moodle",
                "version": "4.5 (development LMS)",
                "messages_supported": [
                    {"type": "LtiResourceLinkRequest"},
                    {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]},
                ],
                "variables": [
                    "Context.id",
                    "Context.title",
                    "Context.label",
                    "ResourceLink.id",
                    "ResourceLink.title",
                    "ResourceLink.description",
                    "User.id",
                    "Person.name.full",
                    "Person.name.given",
                    "Person.name.family",
                    "Person.email.primary",
                    "Person.sourcedId",
                    "Membership.role",
                ],
            },
        }
    else:
        configuration |= {
            "scopes_supported": [*ALL_SCOPES, *sorted(CANVAS_EXTRA_SCOPES)],
            "subject_types_supported": ["public"],
            "authorization_server": urlsplit(sites.sso).netloc,
            PLATFORM_CONFIGURATION: {
                "product_family_code": "canvas",
                "version": "vCloud",
                "messages_supported": [
                    {
                        "type": "LtiResourceLinkRequest",
                        "placements": CANVAS_RESOURCE_LINK_PLACEMENTS,
                    },
                    {
                        "type": "LtiDeepLinkingRequest",
                        "placements": CANVAS_DEEP_LINKING_PLACEMENTS,
                    },
                ],
                "variables": [
                    "ResourceLink.id",
                    "Context.id",
                    "Canvas.course.id",
                    "Canvas.user.id",
                    "Person.name.full",
                    "Person.name.given",
                    "Person.name.family",
                    "Person.email.primary",
                    "Canvas.environment.test",
                ],
                CANVAS + "account_name": "Development LMS",
                CANVAS + "account_lti_guid": _account_guid(base_url),
            },
        }
    return configuration


def _account_guid(base_url: str) -> str:
    return hashlib.sha256(base_url.encode()).hexdigest()[:40] + ":canvas-lms"


# --- the client registration ----------


@dataclass(frozen=True)
class CheckedRegistration:
    """The parts of a valid client registration the LMS stores."""

    client_name: str
    initiate_login_uri: str
    redirect_uris: list[str]
    jwks_uri: str
    target_link_uri: str
    deep_link_uri: str | None
    course_navigation_uri: str | None
    """Canvas only: the target of the LtiResourceLinkRequest registered for course_navigation
    (the course menu item); ``None`` when the tool registered none."""
    requested_scopes: list[str]
    messages: list[dict[str, Any]]


def _invalid(description: str) -> PlatformError:
    # OpenID Connect Dynamic Client Registration §3.3: the error response for bad metadata.
    return PlatformError(400, "invalid_client_metadata", description)


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _url(document: dict[str, Any], name: str, where: str = "") -> str:
    value = document.get(name)
    if value in (None, ""):
        raise _invalid(f"{where}{name} is required.")
    if not _is_url(value):
        raise _invalid(f"{where}{name} must be an absolute http(s) URL, got {value!r}.")
    return str(value)


def _string_list(document: dict[str, Any], name: str, where: str = "") -> list[str]:
    value = document.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(f"{where}{name} must be an array of strings.")
    return list(value)


def _canvas_placement(placement: str) -> str:
    # Canvas maps the IMS placement names and strips its own extension prefix.
    # https://github.com/instructure/canvas-lms app/models/lti/ims/registration.rb
    names = {"ContentArea": "link_selection", "RichTextEditor": "editor_button"}
    return names.get(placement, placement.removeprefix(CANVAS))


def _check_messages(config: dict[str, Any], spec: RegistrationFlavour) -> list[dict[str, Any]]:
    where = "lti-tool-configuration.messages"
    messages = config.get("messages", [])
    if not isinstance(messages, list):
        raise _invalid(f"{where} must be an array of message objects.")
    for index, message in enumerate(messages):
        at = f"{where}[{index}]."
        if not isinstance(message, dict):
            raise _invalid(f"{where}[{index}] must be an object.")
        if message.get("type") not in MESSAGE_TYPES:
            raise _invalid(
                f"{at}type must be one of {', '.join(MESSAGE_TYPES)}, got {message.get('type')!r}."
            )
        if "target_link_uri" in message:
            _url(message, "target_link_uri", at)
        placements = _string_list(message, "placements", at)
        if spec.code == "canvas":
            unknown = [p for p in placements if _canvas_placement(p) not in CANVAS_PLACEMENTS]
            if unknown:
                raise _invalid(
                    f"{at}placements: Canvas has no placement {', '.join(unknown)} (see "
                    f"messages_supported in the OpenID configuration)."
                )
    return messages


def _course_navigation_message(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    # Canvas turns each registered message's placements into its placements, each launching at
    # the message's target_link_uri (instructure/canvas-lms app/models/lti/ims/registration.rb,
    # placements); course_navigation is a resource link placement. Moodle has no course menu
    # placement and ignores it.
    for message in messages:
        placements = [_canvas_placement(p) for p in message.get("placements") or []]
        if message["type"] == "LtiResourceLinkRequest" and "course_navigation" in placements:
            return message
    return None


def check_registration(document: Any, spec: RegistrationFlavour) -> CheckedRegistration:
    """Check a client registration the way the flavour's LMS does; 400 on the first problem."""
    if not isinstance(document, dict):
        raise _invalid("The body must be a JSON object (Content-Type: application/json).")
    application_type = document.get("application_type")
    # Moodle lets application_type out; Canvas requires it. Both refuse anything but "web".
    if application_type is None and spec.code == "canvas":
        raise _invalid("application_type is required and must be 'web'.")
    if application_type is not None and application_type != "web":
        raise _invalid(f"application_type must be 'web', got {application_type!r}.")
    response_types = _string_list(document, "response_types")
    if "id_token" not in response_types:
        raise _invalid("response_types must include 'id_token'.")
    if spec.code == "canvas":
        grant_types = _string_list(document, "grant_types")
        missing = {"implicit", "client_credentials"} - set(grant_types)
        if missing:
            raise _invalid(f"grant_types must include {', '.join(sorted(missing))}.")
    initiate_login_uri = _url(document, "initiate_login_uri")
    redirect_uris = document.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris:
        raise _invalid("redirect_uris must be a non-empty array of URLs.")
    bad = [uri for uri in redirect_uris if not _is_url(uri)]
    if bad:
        raise _invalid(f"redirect_uris must be absolute http(s) URLs; not {bad[0]!r}.")
    jwks_uri = _url(document, "jwks_uri")
    client_name = document.get("client_name")
    if not isinstance(client_name, str) or not client_name.strip():
        raise _invalid("client_name is required.")
    if document.get("token_endpoint_auth_method") != "private_key_jwt":
        raise _invalid(
            "token_endpoint_auth_method must be 'private_key_jwt', got "
            f"{document.get('token_endpoint_auth_method')!r}."
        )
    if document.get("logo_uri") not in (None, ""):
        _url(document, "logo_uri")
    scope = document.get("scope", "")
    if not isinstance(scope, str):
        raise _invalid("scope must be a string of space-separated scopes, not a JSON array.")
    requested = scope.split()
    if spec.code == "canvas":
        known = set(ALL_SCOPES) | CANVAS_EXTRA_SCOPES
        unknown = [s for s in requested if s not in known]
        if unknown:
            raise _invalid(f"Invalid scopes: {', '.join(unknown)}.")
    config = document.get(TOOL_CONFIGURATION)
    if not isinstance(config, dict):
        raise _invalid(f"The {TOOL_CONFIGURATION} object is required.")
    where = "lti-tool-configuration."
    domain = config.get("domain")
    if not isinstance(domain, str) or not domain.strip():
        raise _invalid(f"{where}domain is required.")
    target_link_uri = _url(config, "target_link_uri", where)
    _string_list(config, "claims", where)  # read at each launch: platform.released_identity_claims
    privacy = config.get(CANVAS_PRIVACY_LEVEL)
    if privacy is not None and privacy not in {"public", "name_only", "email_only", "anonymous"}:
        raise _invalid(f"{where}privacy_level {privacy!r} is not a Canvas privacy level.")
    messages = _check_messages(config, spec)
    deep_linking = next((m for m in messages if m["type"] == "LtiDeepLinkingRequest"), None)
    course_navigation = _course_navigation_message(messages) if spec.code == "canvas" else None
    return CheckedRegistration(
        client_name=client_name.strip()[:200],
        initiate_login_uri=initiate_login_uri,
        redirect_uris=[str(uri) for uri in redirect_uris],
        jwks_uri=jwks_uri,
        target_link_uri=target_link_uri,
        deep_link_uri=(
            None if deep_linking is None else deep_linking.get("target_link_uri", target_link_uri)
        ),
        course_navigation_uri=(
            None
            if course_navigation is None
            else course_navigation.get("target_link_uri", target_link_uri)
        ),
        requested_scopes=requested,
        messages=messages,
    )


def _deployment_id(spec: RegistrationFlavour, tool: DevTool, base_url: str) -> str:
    if spec.code == "moodle":
        return str(tool.id)  # Moodle's deployment id is its tool type id
    # Canvas: "<installation id>:<context lti guid>", as in its launches.
    return f"{tool.id}:{_account_guid(base_url).split(':')[0]}"


def register(
    session: Session,
    sites: Sites,
    flavour: str,
    authorization: str | None,
    query_token: str | None,
    document: Any,
    admin_page_url: str,
) -> dict[str, Any]:
    """Store a tool's client registration and return the LMS's answer (LTI DR §3.5, §3.6).

    ``admin_page_url`` is the admin's tool list; the answer links to the tool's entry there."""
    grant = check_registration_token(session, sites, flavour, authorization, query_token)
    spec = grant.flavour
    checked = check_registration(document, spec)
    # Lock the key row so two uses of one token in flight are serialised (PostgreSQL), then the
    # client id (the token's sub, unique) refuses the second as Moodle's token check does.
    session.scalars(select(DevPlatformKey).limit(1).with_for_update()).first()
    if session.scalars(select(DevUsedJti.id).where(DevUsedJti.jti == grant.jti)).first():
        raise _token_used()
    tool = DevTool(
        name=checked.client_name,
        client_id=grant.client_id,
        deployment_id="",
        flavour=spec.code,
        status="pending" if spec.pending_after_registration else "active",
        course_visible=PRECONFIGURED if spec.preconfigured_only else ACTIVITY_CHOOSER,
        initiate_login_uri=checked.initiate_login_uri,
        redirect_uris=checked.redirect_uris,
        target_link_uri=checked.target_link_uri,
        jwks_uri=checked.jwks_uri,
        deep_link_uri=checked.deep_link_uri,
        course_navigation_uri=checked.course_navigation_uri,
        scopes=[s for s in ALL_SCOPES if s in checked.requested_scopes],
        registration_document=document,
    )
    try:
        with session.begin_nested():
            session.add(tool)
            session.flush()
    except IntegrityError as exc:
        raise _token_used() from exc
    tool.deployment_id = _deployment_id(spec, tool, sites.issuer)
    session.add(DevUsedJti(tool_id=tool.id, jti=grant.jti, expires_at=grant.expires_at))
    session.commit()
    return _registration_response(tool, spec, document, f"{admin_page_url}#tool-{tool.client_id}")


def _token_used() -> PlatformError:
    return PlatformError(
        401,
        "invalid_token",
        "This registration token was already used: each registration URL registers one tool. "
        "Ask the LMS administrator to start the registration again.",
    )


def _registration_response(
    tool: DevTool,
    spec: RegistrationFlavour,
    document: dict[str, Any],
    tool_page_url: str,
) -> dict[str, Any]:
    config = dict(document[TOOL_CONFIGURATION])
    answer: dict[str, Any] = {
        "client_id": tool.client_id,
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["client_credentials", "implicit"],
        "initiate_login_uri": tool.initiate_login_uri,
        "redirect_uris": tool.redirect_uris,
        "client_name": tool.name,
        "jwks_uri": tool.jwks_uri,
        "logo_uri": document.get("logo_uri", ""),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(tool.scopes),
    }
    if spec.code == "moodle":
        # Moodle echoes what it stored: the granted scopes, the claims it will send, the
        # Deep Linking message, and the deployment (its tool type id).
        answer["registration_client_uri"] = tool_page_url
        config["deployment_id"] = tool.deployment_id
        config["claims"] = ["sub", "iss", *sorted(released_identity_claims(tool))]
        config["messages"] = [
            m for m in config.get("messages", []) if m.get("type") == "LtiDeepLinkingRequest"
        ]
    else:
        config.pop("deployment_id", None)  # Canvas installs the key later: no deployment yet
        config[CANVAS + "registration_config_url"] = tool_page_url
    answer[TOOL_CONFIGURATION] = config
    return answer


# --- site administration ----------


def is_site_admin(user: DevUser | None) -> bool:
    return user is not None and user.email in SITE_ADMIN_EMAILS


def list_tools(session: Session) -> Sequence[DevTool]:
    return session.scalars(select(DevTool).order_by(DevTool.id)).all()


def find_tool(session: Session, client_id: str) -> DevTool | None:
    return session.scalars(select(DevTool).where(DevTool.client_id == client_id)).first()


def activate_tool(session: Session, tool_id: int) -> DevTool | None:
    """Activate a pending tool, as a Moodle admin does under "Manage tools"."""
    tool = session.get(DevTool, tool_id)
    if tool is None:
        return None
    tool.status = "active"
    session.commit()
    return tool


@dataclass(frozen=True)
class StartedRegistration:
    """What the admin's page needs to run one registration in an iframe."""

    frame_url: str
    """The tool's registration URL with ``openid_configuration`` and ``registration_token``."""
    tool_origin: str
    """The only origin whose ``org.imsglobal.lti.close`` message the page accepts."""
    client_id: str
    """The client id the registration will create (the token's ``sub``)."""


def start_registration(
    session: Session, settings: Settings, registration_url: str, flavour: str
) -> StartedRegistration:
    """Issue a registration token for the tool's registration URL (the admin's "Register").

    ``ValueError`` says, for the admin, what is wrong with the form."""
    registration_url = registration_url.strip()
    if not _is_url(registration_url):
        raise ValueError(
            "Paste the tool's registration URL, starting with https:// (or http:// on this "
            "machine)."
        )
    if flavour not in FLAVOURS:
        raise ValueError("Choose whether the LMS registers the tool as Moodle or as Canvas.")
    configuration_url, token, client_id = _issue(
        session, settings, flavour, REGISTRATION_TOKEN_LIFETIME
    )
    return StartedRegistration(
        frame_url=with_registration_parameters(registration_url, configuration_url, token),
        tool_origin=origin_of(registration_url),
        client_id=client_id,
    )


def origin_of(url: str) -> str:
    """Return the origin (scheme://host[:port]) a browser gives a page at ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def registered_placements(tool: DevTool) -> list[str]:
    """Return the message types and placements a tool registered, for the admin's list."""
    document = tool.registration_document or {}
    config = document.get(TOOL_CONFIGURATION) or {}
    described = []
    for message in config.get("messages") or []:
        placements = ", ".join(message.get("placements") or []) or "no placement named"
        described.append(f"{message.get('type')}: {placements}")
    return described

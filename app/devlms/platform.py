"""The platform side of LTI 1.3 security, as Moodle and Canvas do it.

- the platform key pair and its JWKS;
- the OIDC authorization endpoint's checks (1EdTech Security Framework §5.1.1.2; Moodle
  ``mod/lti/auth.php`` is this strict) and the id_token it signs (LTI Core §5.3, 5.4);
- the OAuth2 client-credentials token endpoint (Security Framework §4.1, RFC 7523): the client
  assertion verified against the tool's published JWKS, single-use ``jti``;
- bearer-token checks for the service endpoints.

This module uses PyJWT directly and shares no LTI code with the tool, so the tool is checked
by an independent implementation.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast
from urllib.parse import urlencode

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.devlms.models import (
    DevAccessToken,
    DevCourse,
    DevEnrolment,
    DevLineItem,
    DevLink,
    DevPlatformKey,
    DevTool,
    DevUsedJti,
    DevUser,
)
from app.devlms.placements import DeepLinkingPlacement, course_navigation_custom
from app.keygen import new_rsa_key

ID_TOKEN_SECONDS = 300
ACCESS_TOKEN_SECONDS = 3600
ASSERTION_MAX_AGE = 300
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
ROLE_URIS = {
    "Instructor": [LIS + "Instructor"],
    # A sub-role's URI is its principal role's path plus the sub-role (LIS v2 vocabulary).
    "TeachingAssistant": [
        "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
        LIS + "Instructor",
    ],
    "Learner": [LIS + "Learner"],
    # Canvas's "Designer" enrolment (LIS_V2_LTI_ADVANTAGE_ROLE_MAP).
    "ContentDeveloper": [LIS + "ContentDeveloper"],
}
INSTITUTION_ADMINISTRATOR = (
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
)
SYSTEM_ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL_SCOPES = [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT, SCOPE_SCORE, SCOPE_NRPS]
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_PRIVACY_LEVEL = "https://canvas.instructure.com/lti/privacy_level"
CANVAS_PLACEMENT = "https://www.instructure.com/placement"
NAME_CLAIMS = frozenset({"name", "given_name", "family_name"})
IDENTITY = NAME_CLAIMS | {"email"}


class PlatformError(Exception):
    """A request the platform refuses; ``error`` is the OAuth2/OIDC error code.

    ``course`` (a page shown to a person, such as a refused Deep Linking return) lets the error
    page link back to the course the person came from. ``headers`` are added to the answer
    (``Retry-After`` on a 429); ``body`` replaces the OAuth2-style JSON body where the imitated
    LMS answers in its own shape (Canvas's ``{"errors": ...}``), and ``text`` where it answers
    in plain text (Canvas's rate limit)."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        *,
        course: DevCourse | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        text: str | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.course = course
        self.headers = headers or {}
        self.body = body
        self.text = text


# --- keys ----------


def platform_key(session: Session) -> DevPlatformKey:
    """Return the platform's signing key, creating it on first use."""
    key = session.scalars(select(DevPlatformKey).order_by(DevPlatformKey.id).limit(1)).first()
    if key is not None:
        return key
    private_key = new_rsa_key()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    kid = "devlms-" + secrets.token_hex(8)
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    key = DevPlatformKey(kid=kid, private_pem=pem, public_jwk=jwk)
    session.add(key)
    session.commit()
    return key


def platform_jwks(session: Session) -> dict[str, Any]:
    return {"keys": [platform_key(session).public_jwk]}


# Loaded private keys by kid: parsing a PEM runs RSA's checks (~30 ms), too slow per launch.
_loaded_keys: dict[str, rsa.RSAPrivateKey] = {}


def sign(session: Session, claims: dict[str, Any]) -> str:
    key = platform_key(session)
    private_key = _loaded_keys.get(key.kid)
    if private_key is None:
        loaded = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
        assert isinstance(loaded, rsa.RSAPrivateKey)
        private_key = _loaded_keys[key.kid] = loaded
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": key.kid})


# --- the OIDC authorization endpoint ----------


@dataclass(frozen=True)
class AuthRequest:
    """A checked authentication request: which tool, which user, what to launch."""

    tool: DevTool
    user: DevUser
    redirect_uri: str
    state: str
    nonce: str
    message_hint: str | None


def check_auth_request(
    session: Session, params: dict[str, str], current_user: DevUser | None
) -> AuthRequest:
    """Check an OIDC authentication request the way Moodle's ``auth.php`` does."""
    expected = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
    }
    for name, value in expected.items():
        if params.get(name) != value:
            raise PlatformError(
                400, "invalid_request", f"'{name}' must be '{value}', got {params.get(name)!r}."
            )
    client_id = params.get("client_id")
    tool = session.scalars(select(DevTool).where(DevTool.client_id == client_id)).first()
    if not client_id or tool is None:
        raise PlatformError(400, "unauthorized_client", f"Unknown client_id {client_id!r}.")
    if tool.status != "active":
        raise PlatformError(
            400, "unauthorized_client", f"The tool {tool.name!r} is not active in this LMS yet."
        )
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in tool.redirect_uris:
        raise PlatformError(
            400,
            "invalid_request",
            f"redirect_uri {redirect_uri!r} is not registered for this tool.",
        )
    for name in ("state", "nonce", "login_hint"):
        if not params.get(name):
            raise PlatformError(400, "invalid_request", f"'{name}' is missing.")
    if current_user is None or params["login_hint"] != current_user.sub:
        raise PlatformError(
            400, "login_required", "login_hint does not match the user signed in to this LMS."
        )
    return AuthRequest(
        tool=tool,
        user=current_user,
        redirect_uri=redirect_uri,
        state=params["state"],
        nonce=params["nonce"],
        message_hint=params.get("lti_message_hint"),
    )


def course_role(session: Session, course_id: int, user_id: int) -> str | None:
    """Return the person's role in the course (``Learner``, ...), or ``None``: not enrolled.

    One row by the enrolment's unique key: a course's whole roster is never loaded for this."""
    return session.scalars(
        select(DevEnrolment.role).where(
            DevEnrolment.course_id == course_id, DevEnrolment.user_id == user_id
        )
    ).first()


def course_roles(session: Session, course: DevCourse, user: DevUser, flavour: str) -> list[str]:
    """Return the person's LIS role URIs in the course (none when not enrolled).

    A site administrator who is not enrolled may still launch, as each LMS says: Canvas sends
    an account administrator only ``institution/person#Administrator`` (no context role:
    ``lib/lti/substitutions_helper.rb`` ``all_roles``); Moodle sends a site administrator
    ``Instructor`` (they may manage the activity) and both administrator roles
    (``mod/lti/locallib.php`` ``lti_get_ims_role``)."""
    from app.devlms.placements import CANVAS_FLAVOURS
    from app.devlms.registration import is_site_admin

    role = course_role(session, course.id, user.id)
    if role is not None:
        return list(ROLE_URIS[role])
    if not is_site_admin(user):
        return []
    if flavour in CANVAS_FLAVOURS:
        return [INSTITUTION_ADMINISTRATOR]
    return [LIS + "Instructor", INSTITUTION_ADMINISTRATOR, SYSTEM_ADMINISTRATOR]


def _canvas_privacy_level(claims: set[str]) -> str:
    # Canvas infers the privacy level from the claims a registration asks for; the lis claim
    # counts as a name (canvas-lms app/models/lti/ims/registration.rb, infer_privacy_level_from).
    has_name = bool(claims & (NAME_CLAIMS | {"https://purl.imsglobal.org/spec/lti/claim/lis"}))
    has_email = "email" in claims
    if "picture" in claims or (has_name and has_email):
        return "public"
    if has_name:
        return "name_only"
    return "email_only" if has_email else "anonymous"


def released_identity_claims(tool: DevTool) -> frozenset[str]:
    """Return which of ``name``, ``given_name``, ``family_name``, ``email`` the LMS sends the
    tool in id_tokens (LTI-CHECKLIST D: the claims a registration asks for).

    A tool set up by hand (no registration document) gets them all, as the admin ticked "always"
    in Moodle or chose "public" in Canvas. A dynamically registered tool gets what it asked for:
    Canvas by its privacy level (stated, or inferred from ``claims``), Moodle by "share name"
    (any name claim) and "share email" (``email``)."""
    if tool.registration_document is None:
        return IDENTITY
    config = tool.registration_document.get(TOOL_CONFIGURATION) or {}
    claims = {c for c in config.get("claims") or [] if isinstance(c, str)}
    if tool.flavour in {"canvas", "canvas_mobile"}:
        level = config.get(CANVAS_PRIVACY_LEVEL) or _canvas_privacy_level(claims)
        return {
            "public": IDENTITY,
            "name_only": NAME_CLAIMS,
            "email_only": frozenset({"email"}),
        }.get(level, frozenset())
    released = NAME_CLAIMS if claims & NAME_CLAIMS else frozenset()
    return released | ({"email"} & claims)


def _base_claims(
    base_url: str,
    auth: AuthRequest,
    course: DevCourse,
    message_type: str,
    target_link_uri: str,
    roles: list[str],
) -> dict[str, Any]:
    tool, user, nonce = auth.tool, auth.user, auth.nonce
    now = int(time.time())
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    identity = {
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "email": user.email,
    }
    released = released_identity_claims(tool)
    claims: dict[str, Any] = {
        "iss": base_url,
        "aud": tool.client_id,
        "azp": tool.client_id,
        "sub": user.sub,
        "iat": now,
        "exp": now + ID_TOKEN_SECONDS,
        "nonce": nonce,
        **{name: value for name, value in identity.items() if name in released},
        lti + "message_type": message_type,
        lti + "version": "1.3.0",
        lti + "deployment_id": tool.deployment_id,
        lti + "target_link_uri": target_link_uri,
        lti + "roles": roles,
        lti + "context": {
            "id": course.context_id,
            "label": course.label,
            "title": course.title,
            "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
        },
        lti + "tool_platform": {
            "guid": hashlib.sha256(base_url.encode()).hexdigest()[:32],
            "name": "the development LMS",
            "product_family_code": tool.flavour,
            "version": "dev",
        },
        lti + "launch_presentation": {
            "document_target": "iframe",
            "return_url": f"{base_url}/courses/{course.id}",
            "locale": "en",
        },
        lti + "lis": {
            "person_sourcedid": f"devlms:{user.id}",
            "course_offering_sourcedid": f"devlms:{course.id}",
        },
    }
    # Like Moodle (the tool's "Names and Role Provisioning" service setting) and Canvas (the
    # developer key's scopes), the roster service is offered only to a tool granted its scope.
    if SCOPE_NRPS in tool.scopes:
        claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"] = {
            "context_memberships_url": f"{base_url}/api/lti/courses/{course.id}/memberships",
            "service_versions": ["2.0"],
        }
    return claims


def line_items_url(base_url: str, course_id: int, tool: DevTool) -> str:
    # Moodle's line item URLs carry ?type_id=; tools must put /scores before the query string.
    return f"{base_url}/api/lti/courses/{course_id}/lineitems?type_id={tool.id}"


def line_item_url(base_url: str, course_id: int, line_item_id: int, tool: DevTool) -> str:
    items = f"{base_url}/api/lti/courses/{course_id}/lineitems"
    return f"{items}/{line_item_id}/lineitem?type_id={tool.id}"


AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def _ags_claim(
    base_url: str, course: DevCourse, tool: DevTool, line_item_id: int | None
) -> dict[str, Any]:
    ags: dict[str, Any] = {
        "scope": [s for s in tool.scopes if "lti-ags" in s],
        "lineitems": line_items_url(base_url, course.id, tool),
    }
    if line_item_id is not None:
        ags["lineitem"] = line_item_url(base_url, course.id, line_item_id, tool)
    return ags


def resource_link_claims(
    base_url: str,
    auth: AuthRequest,
    link: DevLink,
    course: DevCourse,
    roles: list[str],
    target_link_uri: str,
) -> dict[str, Any]:
    """Return the id_token claims of an LtiResourceLinkRequest for ``link``, by a person with
    ``roles`` (``course_roles``) in its course, to the target its login initiation named."""
    tool = auth.tool
    claims = _base_claims(base_url, auth, course, "LtiResourceLinkRequest", target_link_uri, roles)
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    claims[lti + "resource_link"] = {
        "id": link.resource_link_id,
        "title": link.title,
        "description": link.text or "",
    }
    claims[lti + "custom"] = dict(link.custom or {})
    claims[AGS_CLAIM] = _ags_claim(base_url, course, tool, link.line_item_id)
    return claims


def deep_linking_claims(
    base_url: str,
    auth: AuthRequest,
    course: DevCourse,
    data: str | None,
    placement: DeepLinkingPlacement,
    roles: list[str],
    target_link_uri: str,
) -> dict[str, Any]:
    """Return the id_token claims of an LtiDeepLinkingRequest from ``course``'s add screen
    ``placement`` (its ``deep_linking_settings`` are the ones that LMS screen sends; ``data``
    ``None`` for Canvas, which sends none)."""
    tool = auth.tool
    claims = _base_claims(base_url, auth, course, "LtiDeepLinkingRequest", target_link_uri, roles)
    if data is None:
        # Canvas: the course's own deep_linking_response, the placement in its query
        # (lib/lti/messages/deep_linking_request.rb return_url, deep_link_params).
        query = urlencode({"modal": "true", "placement": placement.code})
        return_url = f"{base_url}/courses/{course.id}/deep_linking_response?{query}"
    else:
        return_url = f"{base_url}/deep_linking/return"
    claims[DL_SETTINGS] = placement.settings(return_url, data, tool)
    claims[AGS_CLAIM] = _ags_claim(base_url, course, tool, None)
    return claims


def course_navigation_claims(
    base_url: str, auth: AuthRequest, course: DevCourse, roles: list[str], target_link_uri: str
) -> dict[str, Any]:
    """Return the id_token claims of the LtiResourceLinkRequest from ``course``'s menu item.

    As Canvas does for a launch with no resource link of its own (``launch_resource_link_id`` in
    instructure/canvas-lms ``lib/lti/messages/resource_link_request.rb``), the resource link id
    is the course's opaque id (the context id) and its title is the course's name: one stable
    link per course, which changes when the course is copied. The target is the placement's
    ``target_link_uri`` (``JwtMessage#add_security_claims!``), or the URL a full-window launch
    asked for."""
    tool = auth.tool
    claims = _base_claims(base_url, auth, course, "LtiResourceLinkRequest", target_link_uri, roles)
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    claims[lti + "resource_link"] = {"id": course.context_id, "title": course.title}
    claims[lti + "custom"] = course_navigation_custom(tool)
    claims[AGS_CLAIM] = _ags_claim(base_url, course, tool, None)
    return claims


# --- verifying what the tool signs ----------

_jwks_cache: dict[str, tuple[float, dict[str, Any]]] = {}
JWKS_CACHE_SECONDS = 60


def _tool_jwks(tool: DevTool, http: requests.Session, *, refresh: bool = False) -> dict[str, Any]:
    cached = _jwks_cache.get(tool.jwks_uri)
    if cached and not refresh and cached[0] > time.monotonic():
        return cached[1]
    try:
        response = http.get(tool.jwks_uri, timeout=10)
        response.raise_for_status()
        keyset: dict[str, Any] = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise PlatformError(
            400, "invalid_client", f"Could not fetch the tool's JWKS from {tool.jwks_uri}: {exc}"
        ) from exc
    _jwks_cache[tool.jwks_uri] = (time.monotonic() + JWKS_CACHE_SECONDS, keyset)
    return keyset


def verify_tool_jwt(
    tool: DevTool, token: str, http: requests.Session, *, audience: str, error: str
) -> dict[str, Any]:
    """Verify a JWT the tool signed: RS256, a ``kid`` from its JWKS, ``aud``, ``exp``, ``iat``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise PlatformError(400, error, f"The JWT cannot be decoded: {exc}") from exc
    if header.get("alg") != "RS256":
        raise PlatformError(400, error, f"alg must be RS256, got {header.get('alg')!r}.")
    kid = header.get("kid")
    if not kid:
        raise PlatformError(400, error, "The JWT header has no kid.")
    keyset = _tool_jwks(tool, http)
    jwk = next((k for k in keyset.get("keys", []) if k.get("kid") == kid), None)
    if jwk is None:  # the tool may have rotated: look once more
        keyset = _tool_jwks(tool, http, refresh=True)
        jwk = next((k for k in keyset.get("keys", []) if k.get("kid") == kid), None)
    if jwk is None:
        raise PlatformError(400, error, f"No key with kid {kid!r} in the tool's JWKS.")
    try:
        public_key = cast(RSAPublicKey, RSAAlgorithm.from_jwk(jwk))
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            audience=audience,
            leeway=5,
            options={"require": ["iss", "aud", "exp", "iat"]},
        )
    except jwt.InvalidSignatureError as exc:
        raise PlatformError(400, error, "The JWT signature does not verify.") from exc
    except jwt.ExpiredSignatureError as exc:
        raise PlatformError(400, error, "The JWT has expired.") from exc
    except jwt.InvalidAudienceError as exc:
        raise PlatformError(400, error, f"The JWT's aud must be {audience!r}.") from exc
    except jwt.InvalidTokenError as exc:
        raise PlatformError(400, error, f"The JWT is not valid: {exc}") from exc
    return claims


def issue_access_token(
    session: Session, form: dict[str, str], token_url: str, http: requests.Session
) -> dict[str, Any]:
    """Answer a client-credentials grant (RFC 6749 §4.4 with an RFC 7523 client assertion)."""
    if form.get("grant_type") != "client_credentials":
        raise PlatformError(400, "unsupported_grant_type", "grant_type must be client_credentials.")
    if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
        raise PlatformError(
            400, "invalid_request", f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}."
        )
    assertion = form.get("client_assertion")
    if not assertion:
        raise PlatformError(400, "invalid_request", "client_assertion is missing.")
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise PlatformError(
            401, "invalid_client", f"client_assertion cannot be decoded: {exc}"
        ) from exc
    client_id = unverified.get("iss")
    tool = session.scalars(select(DevTool).where(DevTool.client_id == str(client_id))).first()
    if tool is None or tool.status != "active":
        raise PlatformError(401, "invalid_client", f"Unknown or inactive client {client_id!r}.")
    try:
        claims = verify_tool_jwt(tool, assertion, http, audience=token_url, error="invalid_client")
    except PlatformError as exc:
        raise PlatformError(401, exc.error, exc.description) from exc
    if claims.get("sub") != tool.client_id:
        raise PlatformError(
            401, "invalid_client", "The assertion's sub must equal its iss (the client_id)."
        )
    if claims["exp"] - claims["iat"] > ASSERTION_MAX_AGE:
        raise PlatformError(
            401, "invalid_client", f"The assertion may live at most {ASSERTION_MAX_AGE} seconds."
        )
    jti = claims.get("jti")
    if not jti:
        raise PlatformError(401, "invalid_client", "The assertion has no jti.")
    now = utcnow()
    session.execute(delete(DevUsedJti).where(DevUsedJti.expires_at < now - timedelta(minutes=10)))
    try:
        with session.begin_nested():
            session.add(
                DevUsedJti(
                    tool_id=tool.id,
                    jti=str(jti),
                    expires_at=now + timedelta(seconds=ASSERTION_MAX_AGE),
                )
            )
    except IntegrityError as exc:
        raise PlatformError(
            401, "invalid_client", "This assertion's jti was already used."
        ) from exc
    requested = (form.get("scope") or "").split()
    if not requested:
        raise PlatformError(400, "invalid_scope", "No scope requested.")
    unknown = [s for s in requested if s not in tool.scopes]
    if unknown:
        raise PlatformError(
            400, "invalid_scope", f"Scopes not granted to this tool: {' '.join(unknown)}."
        )
    token = secrets.token_urlsafe(32)
    session.add(
        DevAccessToken(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            tool_id=tool.id,
            scopes=requested,
            expires_at=now + timedelta(seconds=ACCESS_TOKEN_SECONDS),
        )
    )
    session.commit()
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": " ".join(requested),
    }


# Every service request runs one of these two: built once, with bound parameters, so that a
# request neither rebuilds the statement nor recomputes its cache key (the score endpoint is
# driven at hundreds of requests a second by bench/).
_TOKEN = (
    select(DevAccessToken.expires_at, DevAccessToken.scopes, DevTool)
    .join(DevTool, DevTool.id == DevAccessToken.tool_id)
    .where(DevAccessToken.token_hash == bindparam("digest"))
)
_TOKEN_AND_LINE_ITEM = _TOKEN.add_columns(DevLineItem).outerjoin(
    DevLineItem,
    (DevLineItem.id == bindparam("item_id"))
    & (DevLineItem.course_id == bindparam("course_id"))
    & (DevLineItem.tool_id == DevTool.id),
)


def _digest(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise PlatformError(
            401, "invalid_token", "An 'Authorization: Bearer <token>' header is required."
        )
    return hashlib.sha256(authorization[7:].strip().encode()).hexdigest()


class _TokenRow(Protocol):
    expires_at: datetime
    scopes: list[str]
    DevTool: DevTool


def _check_bearer(found: _TokenRow | None, any_of: list[str]) -> DevTool:
    if found is None or found.expires_at <= utcnow():
        raise PlatformError(401, "invalid_token", "The access token is unknown or has expired.")
    if not set(any_of) & set(found.scopes):
        raise PlatformError(
            403,
            "insufficient_scope",
            f"This token lacks the scope needed here (one of: {' '.join(any_of)}).",
        )
    tool: DevTool = found.DevTool
    return tool


def authorize_bearer(session: Session, authorization: str | None, any_of: list[str]) -> DevTool:
    """Return the tool behind a bearer token that carries one of ``any_of`` scopes."""
    found = session.execute(_TOKEN, {"digest": _digest(authorization)}).first()
    return _check_bearer(found, any_of)


def authorize_bearer_for_line_item(
    session: Session, authorization: str | None, any_of: list[str], course_id: int, item_id: int
) -> tuple[DevTool, DevLineItem | None]:
    """As ``authorize_bearer``, and return in the same query the tool's line item ``item_id``
    of course ``course_id`` (``None`` when there is no such line item of this tool)."""
    found = session.execute(
        _TOKEN_AND_LINE_ITEM,
        {"digest": _digest(authorization), "item_id": item_id, "course_id": course_id},
    ).first()
    tool = _check_bearer(found, any_of)
    assert found is not None
    item: DevLineItem | None = found.DevLineItem
    return tool, item


def new_client_id() -> str:
    return uuid.uuid4().hex[:20]

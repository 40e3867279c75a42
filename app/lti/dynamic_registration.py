"""LTI Dynamic Registration, the tool's side (LTI DR 1.0; LTI-CHECKLIST D).

The LMS opens our one-time registration URL in a frame with ``openid_configuration`` and
``registration_token``. We fetch the platform's configuration, check that it names itself (the
issuer's host is the configuration URL's host), post our client registration, and store the
platform with the ``client_id`` (and, from Moodle, the ``deployment_id``) it answers. Nothing is
stored unless the platform accepted the registration.

Hosted Canvas is the shape to expect: issuer ``https://canvas.instructure.com`` (where the
configuration is), authorization, JWKS and token endpoints on ``sso.canvaslms.com``, the
registration endpoint on the school's own domain; so no endpoint is required to be under the
issuer. The registration token goes as a bearer header (the spec, Canvas's documentation) and as
the ``registration_token`` query parameter (what Canvas's code reads).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.errors import AppError
from app.lti import registration_links, registrations
from app.lti.models import Registration, RegistrationLink
from app.lti.platforms import (
    IDENTITY_CLAIMS,
    TOOL_CUSTOM_PARAMETERS,
    TOOL_DESCRIPTION,
    TOOL_NAME,
    TOOL_SCOPES,
    Platform,
    ToolUrls,
    plugin,
)

log = logging.getLogger(__name__)

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
MAX_RESPONSE_BYTES = 1_000_000
REQUIRED_ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
)


class RegistrationRefused(AppError):
    """Dynamic Registration cannot go on; the message tells the LMS admin what to do."""

    status = 400
    code = "registration_refused"
    title = "Microcred could not be registered"


class PlatformFailed(RegistrationRefused):
    """The LMS answered in a way we cannot use (an error, not JSON, missing values)."""

    status = 502
    code = "registration_platform_error"


@dataclass(frozen=True)
class PlatformConfiguration:
    """The values we need from a platform's OpenID configuration."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    authorization_server: str | None
    family: str
    product_name: str
    scopes_supported: tuple[str, ...] | None

    @property
    def plugin(self) -> Platform:
        return plugin(self.family)


@dataclass(frozen=True)
class Registered:
    """The outcome shown to the LMS admin."""

    registration: Registration
    deployment_id: str | None
    platform_origins: tuple[str, ...]
    """The issuer's origin and the registration endpoint's (hosted Canvas: the school's domain,
    where the admin's page that framed the registration is)."""
    next_steps: tuple[str, ...]
    """What the LMS admin still has to do, step by step (the platform plugin's words)."""


def check_url(name: str, value: Any, *, allow_http: bool) -> str:
    """Return ``value`` if it is an absolute http(s) URL we may call; refuse otherwise."""
    if not isinstance(value, str) or not value:
        raise PlatformFailed(f"The LMS's configuration has no {name}.")
    parts = urlsplit(value)
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
        raise RegistrationRefused(
            f"The {name} {value!r} is not an {'http(s)' if allow_http else 'https'} URL.",
            hint="Check the LMS's site address setting (wwwroot / canonical host).",
        )
    return value


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def token_audience(authorization_server: str | None, *, allow_http: bool) -> str | None:
    """The ``aud`` of our client assertions when it is not the token endpoint; ``None``: the
    token endpoint's URL.

    LTI DR §3.4.1 makes ``authorization_server`` the audience when given. Canvas gives its sso
    host's bare name there (``sso.canvaslms.com``), while its token endpoint accepts only its own
    URL (``https://<host>/login/oauth2/token``, exactly); so only an absolute URL is taken."""
    if not authorization_server:
        return None
    parts = urlsplit(authorization_server)
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme in schemes and parts.hostname and not (parts.username or parts.password):
        return authorization_server
    return None


def _json_object(response: requests.Response, what: str) -> dict[str, Any]:
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise PlatformFailed(f"The LMS's {what} is larger than 1 MB; that is not a {what}.")
    try:
        value = response.json()
    except ValueError as exc:
        raise PlatformFailed(
            f"The LMS's {what} is not JSON (HTTP {response.status_code}, "
            f"{response.headers.get('Content-Type', 'no content type')}).",
            hint="The configuration URL may point at a login page or an error page.",
        ) from exc
    if not isinstance(value, dict):
        raise PlatformFailed(f"The LMS's {what} is JSON but not an object.")
    return value


def _platform_error(response: requests.Response) -> str:
    """The platform's own words for an error answer, if it gave any (OAuth or Canvas style)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("error_description", "error", "errors", "message"):
            if body.get(key):
                text = body[key] if isinstance(body[key], str) else json.dumps(body[key])
                return text[:300]
    return ""


def fetch_configuration(
    http: requests.Session,
    configuration_url: str,
    registration_token: str,
    *,
    timeout: float,
    allow_http: bool,
) -> PlatformConfiguration:
    """GET the platform's OpenID configuration and check it describes itself consistently."""
    check_url("configuration URL", configuration_url, allow_http=allow_http)
    try:
        response = http.get(
            configuration_url,
            params={"registration_token": registration_token},
            headers={"Authorization": f"Bearer {registration_token}", "Accept": "application/json"},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise PlatformFailed(
            f"Microcred could not reach the LMS at {_origin(configuration_url)} "
            f"({type(exc).__name__}).",
            hint="Check that the LMS is reachable from Microcred's server, then try again.",
        ) from exc
    if response.status_code in (401, 403):
        raise RegistrationRefused(
            f"The LMS refused the registration token (HTTP {response.status_code}). "
            f"{_platform_error(response)}".strip(),
            hint="Registration tokens are short-lived and single use: start the registration "
            "again from the LMS.",
        )
    if response.status_code != 200:
        raise PlatformFailed(
            f"The LMS answered HTTP {response.status_code} for its configuration. "
            f"{_platform_error(response)}".strip(),
            hint="Try again in a minute; if it persists, check the LMS's error log.",
        )
    document = _json_object(response, "OpenID configuration")

    issuer = check_url("issuer", document.get("issuer"), allow_http=allow_http)
    if urlsplit(issuer).netloc.lower() != urlsplit(configuration_url).netloc.lower():
        raise RegistrationRefused(
            f"The configuration at {_origin(configuration_url)} names another issuer "
            f"({issuer}). Microcred only registers a platform that describes itself.",
            hint="Paste the registration URL into the LMS itself; the LMS supplies its own "
            "configuration address.",
        )
    endpoints = {
        name: check_url(name, document.get(name), allow_http=allow_http)
        for name in REQUIRED_ENDPOINTS
    }
    algorithms = document.get("id_token_signing_alg_values_supported")
    if isinstance(algorithms, list) and "RS256" not in algorithms:
        raise RegistrationRefused("The LMS does not sign id_tokens with RS256, which LTI requires.")
    platform = document.get(PLATFORM_CONFIGURATION)
    platform = platform if isinstance(platform, dict) else {}
    scopes = document.get("scopes_supported")
    server = document.get("authorization_server")
    return PlatformConfiguration(
        issuer=issuer,
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        jwks_uri=endpoints["jwks_uri"],
        registration_endpoint=endpoints["registration_endpoint"],
        authorization_server=server if isinstance(server, str) and server else None,
        family=str(platform.get("product_family_code") or "generic").lower(),
        product_name=str(platform.get("product_family_code") or "LMS"),
        scopes_supported=tuple(s for s in scopes if isinstance(s, str))
        if isinstance(scopes, list)
        else None,
    )


def client_registration(config: PlatformConfiguration, urls: ToolUrls) -> dict[str, Any]:
    """Our client registration document for this platform (LTI DR §3.3)."""
    scopes = [
        s for s in TOOL_SCOPES if config.scopes_supported is None or s in config.scopes_supported
    ]
    tool_configuration: dict[str, Any] = {
        "domain": urls.domain,
        "target_link_uri": urls.launch,
        "description": TOOL_DESCRIPTION,
        "claims": list(IDENTITY_CLAIMS),
        "custom_parameters": dict(TOOL_CUSTOM_PARAMETERS),
        "messages": config.plugin.registration_messages(urls),
        **config.plugin.tool_configuration_extensions(),
    }
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": TOOL_NAME,
        "jwks_uri": urls.jwks,
        "logo_uri": urls.logo,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: tool_configuration,
    }


def post_registration(
    http: requests.Session,
    config: PlatformConfiguration,
    registration_token: str,
    document: dict[str, Any],
    *,
    timeout: float,
) -> tuple[str, str | None]:
    """POST the client registration; return the ``client_id`` and any ``deployment_id``."""
    try:
        response = http.post(
            config.registration_endpoint,
            params={"registration_token": registration_token},
            json=document,
            headers={"Authorization": f"Bearer {registration_token}", "Accept": "application/json"},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise PlatformFailed(
            f"Microcred could not reach the LMS's registration endpoint ({type(exc).__name__}).",
            hint="Check that the LMS is reachable from Microcred's server, then try again.",
        ) from exc
    if 400 <= response.status_code < 500:
        raise RegistrationRefused(
            f"The LMS refused the registration (HTTP {response.status_code}). "
            f"{_platform_error(response)}".strip(),
            hint="Start the registration again from the LMS; if it is refused again, send this "
            "message to Microcred's operator.",
        )
    if response.status_code not in (200, 201):
        raise PlatformFailed(
            f"The LMS answered HTTP {response.status_code} to the registration. "
            f"{_platform_error(response)}".strip(),
            hint="Nothing was registered in Microcred. Try again in a minute.",
        )
    answer = _json_object(response, "registration answer")
    client_id = answer.get("client_id")
    if not isinstance(client_id, str) or not client_id or len(client_id) > 255:
        raise PlatformFailed("The LMS's registration answer has no client_id.")
    tool_configuration = answer.get(TOOL_CONFIGURATION)
    deployment_id = None
    if isinstance(tool_configuration, dict):
        value = tool_configuration.get("deployment_id")
        if isinstance(value, (str, int)) and str(value):
            deployment_id = str(value)[:255]
    return client_id, deployment_id


def register(
    session: Session,
    http: requests.Session,
    *,
    link: RegistrationLink,
    configuration_url: str,
    registration_token: str,
    urls: ToolUrls,
    timeout: float,
    allow_http: bool,
) -> Registered:
    """Run Dynamic Registration with a claimed link; store the platform only on success.

    The caller claimed ``link`` (committed); on failure it is released for another attempt.
    """
    try:
        config = fetch_configuration(
            http, configuration_url, registration_token, timeout=timeout, allow_http=allow_http
        )
        document = client_registration(config, urls)
        client_id, deployment_id = post_registration(
            http, config, registration_token, document, timeout=timeout
        )
        if registrations.find_by_issuer_and_client_id(session, config.issuer, client_id):
            raise RegistrationRefused(
                f"This LMS ({config.issuer}) already has a registration with client id "
                f"{client_id} in Microcred.",
                hint="Ask Microcred's operator to check the platform list.",
            )
    except BaseException:
        registration_links.release(session, link)
        raise
    # Moodle's deployment id is approved at once: the LMS admin registered with an operator's
    # link, and that is the operator's consent.
    registration = registrations.create_registration(
        session,
        name=link.label,
        issuer=config.issuer,
        client_id=client_id,
        auth_login_url=config.authorization_endpoint,
        auth_token_url=config.token_endpoint,
        auth_audience=token_audience(config.authorization_server, allow_http=allow_http),
        key_set_url=config.jwks_uri,
        platform_family=config.plugin.family,
        source="dynamic",
        auto_approve_deployments=link.auto_approve_deployments,
        active_deployment_ids=[deployment_id] if deployment_id is not None else [],
    )
    link.registration_id = registration.id
    link.used_at = utcnow()
    audit.record(
        session,
        actor=audit.DYNAMIC_REGISTRATION,
        action="registration.created",
        target=f"registration:{registration.uuid}",
        details={
            "link": link.label,
            "issuer": config.issuer,
            "client_id": client_id,
            "deployment_id": deployment_id,
            "family": config.plugin.family,
            "scopes": document["scope"].split(),
        },
    )
    session.commit()
    log.info(
        "platform registered by dynamic registration",
        extra={"registration": registration.uuid, "issuer": config.issuer, "client_id": client_id},
    )
    return Registered(
        registration=registration,
        deployment_id=deployment_id,
        platform_origins=tuple(
            dict.fromkeys((_origin(config.issuer), _origin(config.registration_endpoint)))
        ),
        next_steps=config.plugin.after_registration(),
    )

"""Calls from the tool to a platform's LTI Advantage services (AGS, NRPS).

Each call needs an access token from the platform's token endpoint: an OAuth 2 client-credentials
grant authenticated by a client assertion the tool signs with its key of the moment (LTI Security
Framework 4.1,
https://www.imsglobal.org/spec/security/v1p0/#using-json-web-tokens-with-oauth-2-0-client-credentials-grant).
pylti1p3's ``ServiceConnector`` builds and signs the assertion; the platform verifies it with our
JWKS, so a key rotation must keep these calls working (LTI-CHECKLIST E).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from cryptography.fernet import Fernet
from pylti1p3.exception import LtiServiceException
from pylti1p3.registration import Registration as PyltiRegistration
from pylti1p3.service_connector import ServiceConnector
from sqlalchemy.orm import Session

from app.errors import AppError
from app.lti.models import Registration
from app.lti.platforms import plugin, retry_after_seconds
from app.lti.tool_config import DatabaseToolConf

if TYPE_CHECKING:
    from app.lti.tokens import TokenCache


class PlatformServiceError(AppError):
    """The platform refused or failed a service call (token request included)."""

    status = 502
    code = "platform_service_error"
    title = "The LMS did not answer the tool's request"
    lms_status: int | None = None
    """The HTTP status the LMS answered with, when it answered."""
    lms_answer: str | None = None
    """That answer in short (``HTTP 404: …``), when it answered."""


class Throttled(PlatformServiceError):
    """The LMS's rate limit refused a service or token request: try again later, never give
    up (``Platform.rate_limit`` reads what a throttled answer looks like on each LMS)."""

    status = 503
    code = "platform_throttled"
    title = "The LMS asked the tool to slow down"

    def __init__(self, message: str, *, hint: str, retry_after: float | None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class _TimeoutSession(requests.Session):
    """The app's HTTP session (headers, connection pool) with a timeout on every request:
    pylti1p3 passes none, and a platform that never answers must not hold a worker forever."""

    def __init__(self, http: requests.Session, timeout: float) -> None:
        super().__init__()
        self.headers.update(http.headers)
        self.adapters = http.adapters
        self._timeout = timeout

    def request(
        self,
        method: str | bytes,
        url: str | bytes,
        *args: Any,
        **kwargs: Any,
    ) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


class _Connector(ServiceConnector):
    """pylti1p3's connector without a token cache: every call asks for a fresh token.

    A caller making many calls in a row passes the app's ``TokenCache`` (``app/lti/tokens.py``)
    to ``access_token`` or ``get_json`` instead."""

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        return None


class _SharedTokenConnector(ServiceConnector):
    """pylti1p3's connector taking its tokens from the app's shared ``TokenCache``."""

    def __init__(
        self,
        registration: PyltiRegistration,
        http: requests.Session,
        tokens: TokenCache,
        registration_id: int,
    ) -> None:
        super().__init__(registration, http)
        self._tokens = tokens
        self._registration_id = registration_id
        self.last_token: str | None = None

    def get_access_token(self, scopes: Sequence[str]) -> str:
        self.last_token = self._tokens.token(self._registration_id, scopes)
        return self.last_token


def _connector(
    session: Session,
    cipher: Fernet,
    registration: Registration,
    http: requests.Session,
    timeout: float,
) -> _Connector:
    pylti_registration = DatabaseToolConf(session, cipher).to_pylti_registration(registration)
    return _Connector(pylti_registration, _TimeoutSession(http, timeout))


def _refused(registration: Registration, exc: Exception) -> PlatformServiceError:
    """Say which request of the call failed (token or service) and what the platform said."""
    if isinstance(exc, LtiServiceException):
        response = exc.response
        url = response.url
        detail = f"HTTP {response.status_code}"
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("error"):
            detail += f": {body['error']}"
            if body.get("error_description"):
                detail += f" ({body['error_description']})"
    else:
        request = getattr(exc, "request", None)
        url = str(getattr(request, "url", "") or "")
        detail = type(exc).__name__
    what = (
        "the tool's access token request"
        if url == registration.auth_token_url
        else f"a service request to {url}"
    )
    if isinstance(exc, LtiServiceException):
        reply = exc.response
        if (
            plugin(registration.platform_family)
            .rate_limit(reply.status_code, reply.headers, reply.content or b"")
            .throttled
        ):
            text = " ".join((reply.text or "").split())[:120]
            said = detail if ":" in detail or not text else f"{detail}: {text}"
            return Throttled(
                f"{registration.name} asked Microcred to slow down when it made {what} ({said}).",
                hint="The LMS limits how many requests a tool may make at once (Microcred may "
                "be sending scores just now); try again in a moment.",
                retry_after=retry_after_seconds(reply.headers.get("Retry-After")),
            )
    return PlatformServiceError(
        f"{registration.name} refused or failed {what}: {detail}.",
        hint="Check the platform's registration (token URL, client id, the tool's JWKS URL).",
    )


def access_token(
    session: Session,
    cipher: Fernet,
    registration: Registration,
    scopes: Sequence[str],
    *,
    http: requests.Session,
    timeout: float,
    tokens: TokenCache | None = None,
) -> str:
    """Obtain an access token for ``scopes`` from the registration's token endpoint, or from
    ``tokens`` (the app's shared cache) when given."""
    if tokens is not None:
        return tokens.token(registration.id, scopes)
    try:
        return _connector(session, cipher, registration, http, timeout).get_access_token(scopes)
    except (LtiServiceException, requests.RequestException) as exc:
        raise _refused(registration, exc) from exc


def get_json(
    session: Session,
    cipher: Fernet,
    registration: Registration,
    scopes: Sequence[str],
    url: str,
    *,
    accept: str,
    http: requests.Session,
    timeout: float,
    tokens: TokenCache | None = None,
) -> Any:
    """GET one page of a service (e.g. an NRPS membership container) and return its JSON.

    With ``tokens`` (the app's shared cache) the token comes from the cache, and a token the
    platform refuses (401) is dropped and the request sent once more with a new one."""
    return get_json_page(
        session,
        cipher,
        registration,
        scopes,
        url,
        accept=accept,
        http=http,
        timeout=timeout,
        tokens=tokens,
    ).body


@dataclass(frozen=True)
class ServicePage:
    """One page of a service's answer: its JSON and the ``Link`` header that names the next."""

    url: str
    body: Any
    link: str | None
    """The response's ``Link`` header (RFC 8288), as sent; ``None`` when absent."""


def get_json_page(
    session: Session,
    cipher: Fernet,
    registration: Registration,
    scopes: Sequence[str],
    url: str,
    *,
    accept: str,
    http: requests.Session,
    timeout: float,
    tokens: TokenCache | None = None,
) -> ServicePage:
    """GET one page of a paged service (NRPS, AGS line items) with its ``Link`` header, which
    the caller parses (pylti1p3's own parsing matches only an exact ``rel="next"``). With
    ``tokens``, the access token comes from the shared cache (a new one after a 401)."""
    pylti_registration = DatabaseToolConf(session, cipher).to_pylti_registration(registration)
    connector: ServiceConnector = (
        _SharedTokenConnector(
            pylti_registration, _TimeoutSession(http, timeout), tokens, registration.id
        )
        if tokens is not None
        else _Connector(pylti_registration, _TimeoutSession(http, timeout))
    )
    for attempt in range(2):
        try:
            answer = connector.make_service_request(
                scopes, url, accept=accept, case_insensitive_headers=True
            )
            return ServicePage(url=url, body=answer["body"], link=answer["headers"].get("Link"))
        except LtiServiceException as exc:
            refused = getattr(connector, "last_token", None)
            if (
                tokens is not None
                and exc.response.status_code == 401
                and attempt == 0
                and refused is not None
            ):
                tokens.invalidate(registration.id, scopes, refused)
                continue
            raise _refused(registration, exc) from exc
        except requests.RequestException as exc:
            raise _refused(registration, exc) from exc
    raise AssertionError("unreachable: the second attempt returns or raises")

"""What the console's forms accept: each field checked, with a message a person can act on."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app.lti.registrations import PLATFORM_FAMILIES

FAMILY_LABELS = {"moodle": "Moodle", "canvas": "Canvas", "generic": "Another LMS (generic)"}
SOURCE_LABELS = {
    "manual": "An operator, in the console",
    "cli": "The command line",
    "dynamic": "Dynamic Registration",
    "demo": "The demo setup",
}
MAX_DEPLOYMENT_ID = 255
MAX_COURSE_PAGE_ORIGINS = 20
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class PlatformValues:
    """The values that describe a platform to the tool (a manual registration)."""

    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None
    platform_family: str
    course_page_origins: list[str] = field(default_factory=list)


@dataclass
class PlatformForm:
    """A submitted platform form: what was typed, the errors per field, and the clean values
    when there are no errors."""

    typed: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    values: PlatformValues | None = None
    deployment_ids: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors and self.values is not None


@dataclass(frozen=True)
class TextField:
    name: str
    label: str
    max_length: int
    missing: str | None
    """The message when it is left empty; ``None`` when it may be."""


TEXT_FIELDS = (
    TextField("name", "Name", 200, "Enter a name, e.g. District Moodle."),
    TextField("issuer", "Issuer (platform ID)", 255, "Enter the issuer the LMS shows."),
    TextField("client_id", "Client ID", 255, "Enter the client ID the LMS gave Microcred."),
    TextField(
        "auth_login_url",
        "OIDC authentication URL",
        1024,
        "Enter the OIDC authentication URL the LMS shows.",
    ),
    TextField(
        "auth_token_url", "Access token URL", 1024, "Enter the access token URL the LMS shows."
    ),
    TextField("auth_audience", "Token audience", 1024, None),
    TextField(
        "key_set_url",
        "Public keyset (JWKS) URL",
        1024,
        "Enter the public keyset URL the LMS shows.",
    ),
)
URL_FIELDS = ("issuer", "auth_login_url", "auth_token_url", "key_set_url")
LABELS = {f.name: f.label for f in TEXT_FIELDS} | {
    "platform_family": "LMS",
    "deployment_ids": "Deployment IDs to approve now",
    "course_page_origins": "Course pages are also on",
}


def url_problem(value: str, *, allow_local_http: bool) -> str | None:
    """Say what is wrong with a platform URL, or ``None`` when it is fine.

    HTTPS only: the platform's keys and tokens must not travel in clear. Plain HTTP is accepted
    for localhost and 127.0.0.1 outside production, for a development LMS on this machine."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "Enter a full web address starting with https://, e.g. https://lms.example.edu."
    if parts.username or parts.password:
        return "Enter the address without a user name or password in it."
    if parts.fragment:
        return "Enter the address without a # part."
    if parts.scheme == "http":
        if allow_local_http and _is_local(parts.hostname):
            return None
        if allow_local_http:
            return "Use https://. Plain http:// is accepted only for localhost and 127.0.0.1."
        return "Use https://. Plain http:// is not accepted in production."
    return None


def _is_local(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_origins(raw: str, *, allow_local_http: bool) -> tuple[list[str], str | None]:
    """Return the origins of the addresses typed one per line (a path is dropped, repeats
    are kept once), or a message naming the first line that cannot be used."""
    origins: list[str] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        value = line.strip()
        if not value:
            continue
        problem = url_problem(value, allow_local_http=allow_local_http)
        if problem:
            return [], f"Line {number}: {problem}"
        parts = urlsplit(value)
        found = f"{parts.scheme}://{parts.netloc.lower()}"
        if found not in origins:
            origins.append(found)
    if len(origins) > MAX_COURSE_PAGE_ORIGINS:
        return [], (
            f"Enter at most {MAX_COURSE_PAGE_ORIGINS} addresses; {len(origins)} were entered."
        )
    return origins, None


def split_deployment_ids(raw: str) -> list[str]:
    """Return the deployment ids typed one per line (or separated by commas), without repeats."""
    seen: list[str] = []
    for part in re.split(r"[\r\n,]+", raw):
        value = part.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def parse_platform_form(
    form: Mapping[str, str],
    *,
    allow_local_http: bool,
    fixed_issuer: str | None = None,
    fixed_client_id: str | None = None,
    with_deployments: bool = True,
) -> PlatformForm:
    """Check a submitted platform form.

    Editing passes ``fixed_issuer`` and ``fixed_client_id``: those identify the registration
    and are not taken from the form."""
    typed = {f.name: str(form.get(f.name, "")).strip() for f in TEXT_FIELDS}
    typed["platform_family"] = str(form.get("platform_family", "")).strip()
    typed["course_page_origins"] = str(form.get("course_page_origins", "")).strip()
    typed["deployment_ids"] = str(form.get("deployment_ids", "")) if with_deployments else ""
    if fixed_issuer is not None:
        typed["issuer"] = fixed_issuer
    if fixed_client_id is not None:
        typed["client_id"] = fixed_client_id
    result = PlatformForm(typed=typed)
    errors = result.errors

    for text in TEXT_FIELDS:
        value = typed[text.name]
        if not value:
            if text.missing:
                errors[text.name] = text.missing
            continue
        if len(value) > text.max_length:
            errors[text.name] = f"{text.label} must be at most {text.max_length} characters long."
        elif text.name != "name" and re.search(r"\s", value):
            errors[text.name] = f"{text.label} cannot contain spaces."
        elif text.name in URL_FIELDS:
            problem = url_problem(value, allow_local_http=allow_local_http)
            if problem:
                errors[text.name] = problem

    if typed["platform_family"] not in PLATFORM_FAMILIES:
        errors["platform_family"] = "Choose which LMS this is: Moodle, Canvas or another LMS."

    origins, problem = parse_origins(
        typed["course_page_origins"], allow_local_http=allow_local_http
    )
    if problem:
        errors["course_page_origins"] = problem

    deployment_ids = split_deployment_ids(typed["deployment_ids"])
    too_long = [d for d in deployment_ids if len(d) > MAX_DEPLOYMENT_ID]
    if too_long:
        errors["deployment_ids"] = (
            f"A deployment ID must be at most {MAX_DEPLOYMENT_ID} characters long; "
            f"{len(too_long)} of those entered are longer."
        )

    if not errors:
        result.values = PlatformValues(
            name=typed["name"],
            issuer=typed["issuer"],
            client_id=typed["client_id"],
            auth_login_url=typed["auth_login_url"],
            auth_token_url=typed["auth_token_url"],
            key_set_url=typed["key_set_url"],
            auth_audience=typed["auth_audience"] or None,
            platform_family=typed["platform_family"],
            course_page_origins=origins,
        )
        result.deployment_ids = deployment_ids
    return result

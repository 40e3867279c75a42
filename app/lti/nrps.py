"""Names and Role Provisioning Services: a course's roster, read by the tool.

A launch carrying the NRPS claim names the course's membership container
(``context_memberships_url``). The tool reads it with an access token for the
``contextmembership.readonly`` scope and follows ``Link: <…>; rel="next"`` from page to page
(LTI NRPS 2.0 §2.3 and §2.4, https://www.imsglobal.org/spec/lti-nrps/v2p0#membership-container-media-type,
https://www.imsglobal.org/spec/lti-nrps/v2p0#limit-query-parameter; LTI-CHECKLIST H).

A roster is kept briefly in the app's state store (per registration and container URL), so a
page refresh does not ask the LMS again; "Refresh roster" asks anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session

from app.db import utcnow
from app.lti import runtime
from app.lti.launch import Launch, role_labels
from app.lti.models import Registration
from app.lti.paging import next_link
from app.lti.platform_services import PlatformServiceError, get_json_page
from app.lti.state import StateStore
from app.lti.tokens import TokenCache

MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
CACHE_SECONDS = 120
"""How long a roster is reused: long enough for a page refresh or a CSV download right after
the page, short enough that a learner added in the LMS shows up within minutes."""
MAX_PAGES = 1000
"""A bound on the pages followed, so an LMS that pages forever cannot hold a request."""
ACTIVE = "Active"
INACTIVE = "Inactive"

_LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership"


@dataclass(frozen=True)
class Member:
    """One person in a course's roster, as the platform describes them."""

    user_id: str
    """The platform's id of the person: the ``sub`` of their launches."""
    name: str | None
    given_name: str | None
    family_name: str | None
    email: str | None
    roles: tuple[str, ...]
    """Readable role names, e.g. ``("Teaching assistant", "Instructor")``."""
    role_uris: tuple[str, ...]
    """The roles as the platform sent them."""
    is_learner: bool
    is_instructor: bool
    """An instructor of the course; a teaching assistant is one too (a sub-role carries its
    principal role, LTI Core §A.2.3)."""
    is_teaching_assistant: bool
    status: str
    """``Active`` or ``Inactive`` (the spec's default, when the platform omits it, is active)."""

    @property
    def display_name(self) -> str:
        full = " ".join(p for p in (self.given_name, self.family_name) if p)
        return self.name or full or self.email or f"User {self.user_id}"

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True)
class Roster:
    """A course's members and when the LMS gave them."""

    members: tuple[Member, ...]
    fetched_at: datetime
    cached: bool
    """Taken from the state store rather than asked of the LMS for this request."""


def _has_role(uris: Iterable[str], principal: str, sub_role: str | None = None) -> bool:
    """Whether ``uris`` hold a role: a full LIS URI, its sub-roles, or the simple name NRPS
    allows for context roles (LTI Core §A.2.3, NRPS §2.2)."""
    for uri in uris:
        if sub_role is None and (
            uri in (f"{_LIS}#{principal}", principal) or uri.startswith(f"{_LIS}/{principal}#")
        ):
            return True
        if sub_role is not None and (
            uri in (f"{_LIS}/{principal}#{sub_role}", f"{_LIS}#{sub_role}", sub_role)
        ):
            return True
    return False


def member_of(entry: Mapping[str, Any]) -> Member | None:
    """Read one entry of ``members``; ``None`` for one without a ``user_id`` (not a person the
    tool can match to a launch)."""
    user_id = entry.get("user_id")
    if not isinstance(user_id, str | int) or not str(user_id).strip():
        return None
    raw_roles = entry.get("roles")
    uris = tuple(str(r) for r in raw_roles) if isinstance(raw_roles, list) else ()
    status = str(entry.get("status") or ACTIVE)

    def text(key: str) -> str | None:
        value = entry.get(key)
        return str(value) if isinstance(value, str) and value.strip() else None

    return Member(
        user_id=str(user_id),
        name=text("name"),
        given_name=text("given_name"),
        family_name=text("family_name"),
        email=text("email"),
        roles=tuple(role_labels(uris)),
        role_uris=uris,
        is_learner=_has_role(uris, "Learner"),
        is_instructor=_has_role(uris, "Instructor"),
        is_teaching_assistant=_has_role(uris, "Instructor", "TeachingAssistant"),
        status=ACTIVE if status.lower() == "active" else INACTIVE,
    )


# --- Reading the roster ------------------------------------------------------------------------


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def with_limit(url: str, limit: int | None) -> str:
    """Add NRPS's ``limit`` (a page size hint) to a container URL, keeping its own query."""
    if limit is None:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "limit"]
    query.append(("limit", str(limit)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def fetch_members(
    session: Session,
    cipher: Fernet,
    registration: Registration,
    url: str,
    *,
    http: requests.Session,
    timeout: float,
    limit: int | None = None,
    tokens: TokenCache | None = None,
) -> list[Member]:
    """Read every page of the membership container at ``url`` from the LMS (no cache of the
    roster; with ``tokens``, one shared access token for every page)."""
    members: list[Member] = []
    seen: set[str] = set()
    page_url: str | None = with_limit(url, limit)
    while page_url is not None:
        if page_url in seen or len(seen) >= MAX_PAGES:
            raise PlatformServiceError(
                f"{registration.name} kept sending more roster pages after {len(seen)} "
                "(the next page repeats an earlier one, or there are too many).",
                hint="Tell the LMS's administrator; the roster is shown from those who opened "
                "the activity meanwhile.",
            )
        # The next page gets our bearer token: never send it to another site than the first.
        if _origin(page_url) != _origin(url):
            raise PlatformServiceError(
                f"{registration.name} named a next roster page on another site ({page_url}); "
                "the tool does not send its access token there.",
                hint="Tell the LMS's administrator.",
            )
        seen.add(page_url)
        page = get_json_page(
            session,
            cipher,
            registration,
            [SCOPE_NRPS],
            page_url,
            accept=MEMBERSHIP_TYPE,
            http=http,
            timeout=timeout,
            tokens=tokens,
        )
        entries = page.body.get("members") if isinstance(page.body, dict) else None
        if not isinstance(entries, list):
            raise PlatformServiceError(
                f"{registration.name} answered the roster request at {page_url} with something "
                "other than a membership container (no “members” list).",
                hint="Check that the LMS grants the tool the Names and Role Provisioning service.",
            )
        members += [m for m in map(member_of, entries) if isinstance(m, Member)]
        page_url = next_link(page.link, page_url)
    # A person on two pages (the roster changed while being read) counts once.
    return list({m.user_id: m for m in members}.values())


def _cache_key(registration_id: int, url: str) -> str:
    return f"nrps:{registration_id}:{hashlib.sha256(url.encode()).hexdigest()}"


def _member_from_cache(value: Mapping[str, Any]) -> Member:
    return Member(
        **{
            **value,
            "roles": tuple(value["roles"]),
            "role_uris": tuple(value["role_uris"]),
        }
    )


def course_roster(
    session: Session,
    cipher: Fernet,
    registration: Registration,
    url: str,
    *,
    http: requests.Session,
    timeout: float,
    store: StateStore,
    refresh: bool = False,
    ttl: int = CACHE_SECONDS,
    tokens: TokenCache | None = None,
) -> Roster:
    """Return the course's roster: from the state store if read in the last ``ttl`` seconds
    (unless ``refresh``), else from the LMS (and kept for the next ``ttl`` seconds)."""
    key = _cache_key(registration.id, url)
    if not refresh:
        kept = store.get(key)
        if isinstance(kept, dict):
            try:
                return Roster(
                    members=tuple(_member_from_cache(m) for m in kept["members"]),
                    fetched_at=datetime.fromisoformat(kept["fetched_at"]),
                    cached=True,
                )
            except (KeyError, TypeError, ValueError):
                pass  # a value of an older shape: read the LMS again
    members = fetch_members(
        session, cipher, registration, url, http=http, timeout=timeout, tokens=tokens
    )
    fetched_at = utcnow()
    store.put(
        key,
        {"fetched_at": fetched_at.isoformat(), "members": [asdict(m) for m in members]},
        ttl,
    )
    return Roster(members=tuple(members), fetched_at=fetched_at, cached=False)


def launch_roster(session: Session, launch: Launch, *, refresh: bool = False) -> Roster | None:
    """Return the roster of the launch's course with the app's HTTP client and state store;
    ``None`` when the launch carries no NRPS claim (the LMS does not grant the service)."""
    if not launch.nrps_url:
        return None
    rt = runtime()
    registration = session.get(Registration, launch.registration_id)
    if registration is None:
        raise PlatformServiceError(
            "The platform this launch came from is no longer registered with Microcred.",
            hint="Open Microcred again from your course.",
        )
    return course_roster(
        session,
        rt.cipher,
        registration,
        launch.nrps_url,
        http=rt.http,
        timeout=rt.settings.http_timeout,
        store=rt.store,
        refresh=refresh,
        tokens=rt.tokens(),
    )

"""Where people stand on a course activity's micro-credential, read from the features that
hold it (evidence, grading, linking) and imported back by none of them.

The instructor's progress view of a course activity: the course roster from the LMS (NRPS,
app/lti/nrps.py) joined with where each learner stands on the activity's micro-credential —
not started, drafting, submitted, in review, not yet, earned — and the same rows as CSV.

People who opened the activity but are not in the roster (dropped from the course, or added
since the roster was read) are listed too, marked so. When the LMS does not offer the roster
(no NRPS claim in the launch) or fails to give it, the page lists the people who opened the
activity instead and says why, in plain words (LTI-CHECKLIST H).

States are read in a fixed number of statements whatever the course's size: one for the
roster's accounts, one for the visits, one for the latest attempts, and the review links'
few.

Also what the activity's page says beside the credential: who has opened the activity (with
their evidence state), the work waiting for a teacher of the course, and where the launching
educator's own submission stands in review.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import AppError, Forbidden, NotFound
from app.evidence import services as evidence
from app.evidence.services import latest_attempts, states_for
from app.grading import educator as review_progress
from app.grading import queue as review_queue
from app.grading import services as review
from app.grading.services import openable_reviews
from app.grading.sync import labels_for_link as gradebook_labels
from app.linking.services import Resolved, Unbound, link_id_of, resolve
from app.linking.services import visits as link_visits
from app.lti.launch import Launch
from app.lti.nrps import Member, Roster, launch_roster
from app.lti.platform_services import PlatformServiceError
from app.lti.platforms import plugin
from app.lti.services import user_ids

NOT_STARTED = "not_started"
STATES = (NOT_STARTED, "draft", "submitted", "in_review", "not_yet", "earned")
"""Every state a row can be in, in the order of the way through a credential."""
EVIDENCE_LABELS = {
    "draft": "Drafting",
    "submitted": "Submitted",
    "in_review": "In review",
    "not_yet": "Not yet",
    "earned": "Earned",
}
STATE_LABELS = {NOT_STARTED: "Not started", **EVIDENCE_LABELS}

ROSTER = "roster"
"""In the LMS's roster of the course."""
NOT_IN_ROSTER = "not_in_roster"
"""Opened the activity, but not in the roster the LMS gave (left the course, or joined since)."""
OPENED = "opened"
"""Opened the activity; the roster is not available to say more."""

SORTS = {
    "name": "Name",
    "state": "State",
    "started": "Started",
    "submitted": "Submitted",
    "decided": "Decided",
}
STAFF_ROLES = {"Instructor", "Teaching assistant", "Administrator", "Content developer"}


class TeachersOnly(Forbidden):
    code = "not_for_learners"
    title = "This page is for the course's teachers"


class InvalidFilter(AppError):
    code = "invalid_filter"
    title = "This list cannot be shown like that"


class NotSetUp(NotFound):
    code = "activity_not_set_up"
    title = "This activity has no micro-credential yet"


def bound_credential(session: Session, launch: Launch) -> Resolved:
    """Return the credential of the launched activity, or say that it has none (404)."""
    found = resolve(session, launch)
    if isinstance(found, Unbound):
        raise NotSetUp(
            "This activity does not stand for a micro-credential yet, so there is no progress "
            "to show.",
            hint="Open the activity from your course and choose its micro-credential first.",
        )
    return found


def require_teaching_rights(launch: Launch, seeing: str = "the class's progress") -> None:
    """Refuse anyone who does not teach the course (learners): the page names every learner."""
    if not (launch.is_instructor or launch.is_teaching_assistant or launch.is_staff):
        raise TeachersOnly(
            f"Only the course's instructors and teaching assistants can see {seeing}.",
            hint="If you teach this course, ask your LMS administrator to check your role in it.",
        )


@dataclass(frozen=True)
class Filters:
    """What the table shows: one state or all, sorted by a column."""

    state: str | None = None
    sort: str = "name"

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Filters:
        state = (args.get("state") or "").strip() or None
        sort = (args.get("sort") or "").strip() or "name"
        if state is not None and state not in STATES:
            raise InvalidFilter(
                f"There is no state “{state[:40]}”.",
                hint="Choose one of: " + ", ".join(STATE_LABELS.values()) + ".",
            )
        if sort not in SORTS:
            raise InvalidFilter(
                f"The list cannot be sorted by “{sort[:40]}”.",
                hint="Sort by one of: " + ", ".join(SORTS.values()) + ".",
            )
        return cls(state=state, sort=sort)

    def query_args(self, **changes: str | None) -> dict[str, str]:
        """The query string of these filters (with ``changes``), without defaults."""
        values = {"state": self.state, "sort": self.sort, **changes}
        if values.get("sort") == "name":
            values["sort"] = None
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class ProgressRow:
    """One person on the progress page and in its CSV: who, and where they stand.

    Plain values only, so a column (e.g. the gradebook's sync state) is a field here, a cell in
    the template and an entry in ``CSV_COLUMNS``."""

    user_id: str
    """The platform's id of the person (their ``sub``)."""
    name: str
    given_name: str | None
    family_name: str | None
    email: str | None
    roles: str
    """Readable role names, comma-separated, e.g. ``Learner``."""
    enrolment: str
    """``Active`` or ``Inactive`` in the LMS's roster; empty when the roster does not say."""
    source: str
    """``ROSTER``, ``NOT_IN_ROSTER`` or ``OPENED``."""
    state: str = NOT_STARTED
    """One of ``STATES``."""
    attempt_number: int | None = None
    attempt_id: int | None = None
    started_at: datetime | None = None
    """When their first attempt at the credential was opened."""
    submitted_at: datetime | None = None
    """When their latest attempt was submitted."""
    decided_at: datetime | None = None
    """When their latest attempt was decided."""
    last_opened_at: datetime | None = None
    """When they last opened this activity; ``None`` if they never have."""
    reviewable: bool = False
    """The person viewing may open the latest attempt's review page from here."""
    gradebook: str = ""
    """Where their score stands on its way to the LMS's gradebook ("In the gradebook"…);
    empty when nothing was sent for them from this activity."""

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def in_roster(self) -> bool:
        return self.source == ROSTER


@dataclass(frozen=True)
class RosterStatus:
    """Where the list of people came from, for the sentence above the table."""

    fetched_at: datetime | None = None
    """When the LMS gave the roster; ``None`` when there is none."""
    missing: str | None = None
    """Why there is no roster (the launch has no NRPS claim)."""
    admin_hint: str | None = None
    """What the LMS's administrator can change so that there is one."""
    error: str | None = None
    """The LMS failed to give the roster: what it said."""

    @property
    def available(self) -> bool:
        return self.fetched_at is not None


@dataclass(frozen=True)
class Progress:
    """The page: the rows shown, counts over everyone, and where the roster came from."""

    rows: list[ProgressRow]
    counts: list[tuple[str, str, int]]
    """``(state, label, people)`` for every state, in ``STATES`` order (before filtering)."""
    total: int
    filters: Filters
    roster: RosterStatus

    @property
    def state_label(self) -> str | None:
        """The label of the state the list is filtered to, if any."""
        return STATE_LABELS[self.filters.state] if self.filters.state else None

    @property
    def reviews_not_linked(self) -> bool:
        """Some submission listed has no review link (blind review, or another course's)."""
        return any(r.attempt_id and r.state != "draft" and not r.reviewable for r in self.rows)


def course_progress(
    session: Session,
    launch: Launch,
    resolved: Resolved,
    filters: Filters,
    *,
    refresh: bool = False,
) -> Progress:
    """Return the progress of the launch's course on the launched activity's credential.

    ``refresh`` asks the LMS for the roster even if a recent copy is kept."""
    roster, status = roster_of(session, launch, refresh=refresh, opened="this activity")
    everyone = _rows(session, launch, resolved, roster)
    counts = {state: 0 for state in STATES}
    for row in everyone:
        counts[row.state] += 1
    shown = [r for r in everyone if filters.state in (None, r.state)]
    return Progress(
        rows=sorted(shown, key=SORT_KEYS[filters.sort]),
        counts=[(state, STATE_LABELS[state], counts[state]) for state in STATES],
        total=len(everyone),
        filters=filters,
        roster=status,
    )


def roster_of(
    session: Session, launch: Launch, *, refresh: bool, opened: str
) -> tuple[Roster | None, RosterStatus]:
    """The course's roster from the LMS, if it gives one, and what to say about it; ``opened``
    names what the people listed without a roster have opened (``this activity``)."""
    try:
        roster = launch_roster(session, launch, refresh=refresh)
    except PlatformServiceError as exc:
        return None, RosterStatus(error=exc.message)
    if roster is not None:
        return roster, RosterStatus(fetched_at=roster.fetched_at)
    return None, RosterStatus(
        missing="Your LMS did not share this course's roster with Microcred, so learners "
        f"who have not opened {opened} yet are not listed.",
        admin_hint=plugin(launch.platform_family).roster_not_granted(),
    )


class Person(Protocol):
    """A person as the tool stored them from a launch (``lti_user``)."""

    @property
    def sub(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def given_name(self) -> str | None: ...
    @property
    def family_name(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...


def people(
    roster: Roster | None, visits: Sequence[tuple[str, datetime, Person]]
) -> list[ProgressRow]:
    """The people a class's page lists: the roster's learners, then those who opened what the
    page is about (``visits``: roles, last seen, person) as learners but are not in the roster
    (or everyone who opened it, without a roster), each once."""
    learners: list[Member] = [m for m in roster.members if m.is_learner] if roster else []
    in_roster = {m.user_id for m in roster.members} if roster else set()
    found = [
        ProgressRow(
            user_id=m.user_id,
            name=m.display_name,
            given_name=m.given_name,
            family_name=m.family_name,
            email=m.email,
            roles=", ".join(m.roles),
            enrolment=m.status,
            source=ROSTER,
        )
        for m in learners
    ]
    listed = set(in_roster)
    for roles, _, user in visits:
        if user.sub in listed or not _learner_like(set(roles.split(", "))):
            continue
        listed.add(user.sub)
        found.append(
            ProgressRow(
                user_id=user.sub,
                name=user.display_name,
                given_name=user.given_name,
                family_name=user.family_name,
                email=user.email,
                roles=roles,
                enrolment="",
                source=NOT_IN_ROSTER if roster is not None else OPENED,
            )
        )
    return found


def _learner_like(role_labels: set[str]) -> bool:
    """Someone to list from their visit: a learner, or without a teaching role."""
    return "Learner" in role_labels or not role_labels & STAFF_ROLES


def _rows(
    session: Session, launch: Launch, resolved: Resolved, roster: Roster | None
) -> list[ProgressRow]:
    # The binding is this resource link's own (a copied link is bound anew when launched).
    visits = [
        (visit.roles, visit.last_seen_at, user)
        for visit, user in link_visits(session, resolved.binding.resource_link_id)
    ]
    learners: list[Member] = [m for m in roster.members if m.is_learner] if roster else []
    accounts: dict[str, int] = {}
    visited = {user.sub: (roles, seen) for roles, seen, user in visits}
    for _, _, user in visits:
        accounts[user.sub] = user.id
    unknown = [m.user_id for m in learners if m.user_id not in accounts]
    if unknown:
        # Roster learners who have launched some other link (or the catalog) may have started.
        accounts.update(user_ids(session, launch.registration_id, unknown))
    attempts = latest_attempts(session, sorted(set(accounts.values())), resolved.credential.id)
    reviewable = openable_reviews(
        session, launch, [a.attempt_id for a in attempts.values() if a.state != "draft"]
    )
    synced = gradebook_labels(session, resolved.binding.resource_link_id)

    def standing(row: ProgressRow) -> ProgressRow:
        user_id = accounts.get(row.user_id)
        found = attempts.get(user_id) if user_id is not None else None
        opened = visited.get(row.user_id)
        row = replace(
            row,
            last_opened_at=opened[1] if opened else None,
            gradebook=synced.get(user_id, "") if user_id is not None else "",
        )
        if found is None:
            return row
        return replace(
            row,
            state=found.state if found.state in STATES else NOT_STARTED,
            attempt_number=found.number,
            attempt_id=found.attempt_id,
            started_at=found.first_started_at,
            submitted_at=found.submitted_at,
            decided_at=found.decided_at,
            reviewable=found.attempt_id in reviewable,
        )

    return [standing(row) for row in people(roster, visits)]


def _name_key(row: ProgressRow) -> tuple[str, str, str]:
    return (
        (row.family_name or row.name).casefold(),
        (row.given_name or "").casefold(),
        row.user_id,
    )


def _date_key(attribute: str) -> Callable[[ProgressRow], tuple[bool, datetime, tuple[str, ...]]]:
    def key(row: ProgressRow) -> tuple[bool, datetime, tuple[str, ...]]:
        value: datetime | None = getattr(row, attribute)
        # People without the date come last, by name.
        return (value is None, value or datetime.min.replace(tzinfo=UTC), _name_key(row))

    return key


SORT_KEYS: dict[str, Callable[[ProgressRow], tuple[Any, ...]]] = {
    "name": _name_key,
    "state": lambda row: (STATES.index(row.state), _name_key(row)),
    "started": _date_key("started_at"),
    "submitted": _date_key("submitted_at"),
    "decided": _date_key("decided_at"),
}


# --- "1 minute ago" ------------------------------------------------------------------------


def age(since: datetime, now: datetime | None = None) -> str:
    """Say how long ago ``since`` was, in words (the roster's freshness)."""
    seconds = max(0, int(((now or utcnow()) - since).total_seconds()))
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return "1 minute ago" if minutes == 1 else f"{minutes} minutes ago"
    hours = minutes // 60
    return "1 hour ago" if hours == 1 else f"{hours} hours ago"


# --- CSV -------------------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    # "YYYY-MM-DD HH:MM:SS" (ISO 8601 with a space, UTC): spreadsheets read it as a date.
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _roster_word(row: ProgressRow) -> str:
    return {ROSTER: "Yes", NOT_IN_ROSTER: "No"}.get(row.source, "Unknown")


CSV_COLUMNS: tuple[tuple[str, Callable[[ProgressRow], str]], ...] = (
    ("Name", lambda r: r.name),
    ("Given name", lambda r: r.given_name or ""),
    ("Family name", lambda r: r.family_name or ""),
    ("Email", lambda r: r.email or ""),
    ("LMS user id", lambda r: r.user_id),
    ("Roles", lambda r: r.roles),
    ("In the LMS roster", _roster_word),
    ("Enrolment", lambda r: r.enrolment),
    ("State", lambda r: r.state_label),
    ("Attempt", lambda r: str(r.attempt_number or "")),
    ("Started (UTC)", lambda r: _when(r.started_at)),
    ("Submitted (UTC)", lambda r: _when(r.submitted_at)),
    ("Decided (UTC)", lambda r: _when(r.decided_at)),
    ("Gradebook", lambda r: r.gradebook),
    ("Last opened the activity (UTC)", lambda r: _when(r.last_opened_at)),
)
"""The CSV's columns, in order: a header and how each row fills it."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection, OWASP): a cell that
    starts like one gets a leading apostrophe, which spreadsheets show as text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_filename(slug: str, now: datetime | None = None) -> str:
    """The download's file name: the credential and the day (only safe characters, as it goes
    into a ``Content-Disposition`` header)."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", slug).strip("-") or "credential"
    return f"progress-{safe}-{(now or utcnow()):%Y-%m-%d}.csv"


def csv_bytes(rows: list[ProgressRow]) -> bytes:
    """The rows as CSV: UTF-8 with a byte order mark (so Excel reads accents right), a header
    row, one row per person, CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for header, _ in CSV_COLUMNS])
    for row in rows:
        writer.writerow([safe_cell(cell(row)) for _, cell in CSV_COLUMNS])
    return out.getvalue().encode("utf-8-sig")


# --- Who has opened the activity ---------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    name: str
    email: str | None
    roles: str
    first_seen_at: Any
    last_seen_at: Any
    evidence: str = "Not started"
    """Where they stand on the activity's credential (their latest attempt)."""


def visitors(session: Session, launch: Launch, credential_id: int | None = None) -> list[Visitor]:
    """Who has opened this link, by name, with their evidence state on ``credential_id``."""
    link_id = link_id_of(session, launch)
    if link_id is None:
        return []
    rows = link_visits(session, link_id)
    states = (
        states_for(session, [user.id for _, user in rows], credential_id)
        if credential_id is not None
        else {}
    )
    return [
        Visitor(
            name=user.name
            or " ".join(p for p in (user.given_name, user.family_name) if p)
            or user.sub,
            email=user.email,
            roles=visit.roles,
            first_seen_at=visit.first_seen_at,
            last_seen_at=visit.last_seen_at,
            evidence=_evidence_label(states.get(user.id)),
        )
        for visit, user in rows
    ]


def _evidence_label(state: tuple[str, int] | None) -> str:
    if state is None:
        return "Not started"
    label = EVIDENCE_LABELS.get(state[0], state[0])
    return f"{label} (attempt {state[1]})" if state[1] > 1 else label


# --- Beside the credential on the activity's page ----------------------------------------------


def own_review_progress(
    session: Session, launch: Launch, work: evidence.Summary, credential_id: int
) -> review_progress.ReviewProgress | None:
    """Where the launching educator's submission stands in review, while it waits."""
    if not work.waiting or launch.user is None:
        return None
    user = evidence.educator(session, launch)
    attempt = evidence.latest_attempt(session, user.id, credential_id)
    return review_progress.review_progress(session, attempt) if attempt else None


@dataclass(frozen=True)
class WaitingHere:
    """What the activity page tells a course's teacher about the work waiting for them."""

    count: int
    queue_args: dict[str, Any]
    """The review queue's filters that list exactly these submissions."""


def waiting_here(session: Session, launch: Launch, slug: str) -> WaitingHere | None:
    """The submissions at this activity's credential from this course waiting for review, for
    a teacher of the course (``None`` for anyone else: a learner's page is about their work)."""
    if not launch.may_add_content:
        return None
    try:
        reviewer = review.reviewer_of(session, launch)
    except review.NotAReviewer:
        return None
    filters = review_queue.Filters(credential=slug, this_course=True)
    return WaitingHere(review_queue.waiting_count(session, reviewer, filters), filters.query_args())

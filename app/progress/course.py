"""A course at a glance, for its teachers: every credential placed in the course (its links
bound to a credential) against every learner of the roster, each cell where that learner stands
on that credential, with the submissions waiting for review per credential; also as CSV.

One page instead of one per activity. The same people as the class progress page (the LMS's
roster, and those who opened one of the course's activities without being in it), the same
states (an educator's latest attempt, from whichever course they work in), and the waiting
counts of the review queue each links to. Read in a fixed number of statements whatever the
number of learners and credentials: the course's links, their visits, the learners' accounts,
every (learner, credential)'s latest attempt, the titles, the review links and the waiting
counts are each read in one go.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.catalog.services import titles
from app.db import utcnow
from app.evidence.services import latest_attempts_at
from app.grading import queue as review_queue
from app.grading import services as review
from app.grading.services import openable_reviews
from app.linking.services import placements, visits_of_links
from app.lti.launch import Launch
from app.lti.services import user_ids
from app.progress.services import (
    NOT_IN_ROSTER,
    NOT_STARTED,
    ROSTER,
    STATE_LABELS,
    STATES,
    ProgressRow,
    RosterStatus,
    people,
    roster_of,
    safe_cell,
)


@dataclass(frozen=True)
class Column:
    """A credential placed in the course."""

    credential_id: int
    slug: str
    title: str
    counts: tuple[tuple[str, str, int], ...]
    """``(state, label, learners)`` for every state, in ``STATES`` order."""
    waiting: int | None
    """Submissions at it from this course waiting for review, as the review queue counts them
    for the viewer (``None``: the viewer reviews nothing here)."""
    queue_args: dict[str, Any]
    """The review queue's filters that list exactly those submissions."""
    blind: bool = False
    """Reviewed blind (the page says what that means for a course's teachers)."""


@dataclass(frozen=True)
class Cell:
    """Where one learner stands on one credential."""

    state: str = NOT_STARTED
    attempt_number: int | None = None
    attempt_id: int | None = None
    reviewable: bool = False
    """The viewer may open the latest attempt's review page from here."""

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class Row:
    person: ProgressRow
    """Who (the class progress page's row, without a credential's state)."""
    cells: tuple[Cell, ...]
    """One per column, in order."""


@dataclass(frozen=True)
class Overview:
    columns: list[Column]
    rows: list[Row]
    roster: RosterStatus

    @property
    def any_blind(self) -> bool:
        return any(column.blind for column in self.columns)

    @property
    def reviews_not_linked(self) -> bool:
        """Some submission shown has no review link (blind review, or another course's)."""
        return any(
            cell.attempt_id and cell.state != "draft" and not cell.reviewable
            for row in self.rows
            for cell in row.cells
        )


def _name_key(row: ProgressRow) -> tuple[str, str, str]:
    return (
        (row.family_name or row.name).casefold(),
        (row.given_name or "").casefold(),
        row.user_id,
    )


def course_overview(session: Session, launch: Launch, *, refresh: bool = False) -> Overview:
    """Return the launch's course: its credentials against its learners."""
    roster, status = roster_of(
        session, launch, refresh=refresh, opened="one of this course's activities"
    )
    placed = placements(session, launch)
    credential_ids = list(dict.fromkeys(p.credential_id for p in placed))
    slugs = {p.credential_id: p.slug for p in placed}
    visits = [
        (visit.roles, visit.last_seen_at, user)
        for visit, user in sorted(
            visits_of_links(session, [p.resource_link_id for p in placed]),
            key=lambda found: found[0].last_seen_at,
            reverse=True,
        )
    ]
    listed = sorted(people(roster, visits), key=_name_key)
    accounts = {user.sub: user.id for _, _, user in visits}
    unknown = [row.user_id for row in listed if row.user_id not in accounts]
    if unknown:
        # Roster learners who have launched some other link (or the catalog) may have started.
        accounts.update(user_ids(session, launch.registration_id, unknown))
    attempts = latest_attempts_at(session, sorted(set(accounts.values())), credential_ids)
    reviewable = openable_reviews(
        session, launch, [a.attempt_id for a in attempts.values() if a.state != "draft"]
    )

    rows = []
    counts = {credential_id: dict.fromkeys(STATES, 0) for credential_id in credential_ids}
    for person in listed:
        user_id = accounts.get(person.user_id)
        cells = []
        for credential_id in credential_ids:
            found = attempts.get((user_id, credential_id)) if user_id is not None else None
            cell = (
                Cell(
                    state=found.state if found.state in STATES else NOT_STARTED,
                    attempt_number=found.number,
                    attempt_id=found.attempt_id,
                    reviewable=found.attempt_id in reviewable,
                )
                if found is not None
                else Cell()
            )
            counts[credential_id][cell.state] += 1
            cells.append(cell)
        rows.append(Row(person, tuple(cells)))

    waiting = _waiting(session, launch) if credential_ids else None
    named = titles(session, credential_ids)
    blind = review.blind_credentials(session, credential_ids)
    columns = [
        Column(
            credential_id=credential_id,
            slug=slugs[credential_id],
            title=named.get(credential_id, slugs[credential_id]),
            counts=tuple(
                (state, STATE_LABELS[state], counts[credential_id][state]) for state in STATES
            ),
            waiting=waiting.get(credential_id, 0) if waiting is not None else None,
            queue_args=review_queue.Filters(
                credential=slugs[credential_id], this_course=True
            ).query_args(),
            blind=credential_id in blind,
        )
        for credential_id in credential_ids
    ]
    return Overview(columns=columns, rows=rows, roster=status)


def _waiting(session: Session, launch: Launch) -> dict[int, int] | None:
    """The review queue's count of this course's waiting submissions, per credential, for a
    teacher of the course (``None`` if the viewer reviews nothing here)."""
    try:
        reviewer = review.reviewer_of(session, launch)
    except review.NotAReviewer:
        return None
    return review_queue.waiting_by_credential(
        session, reviewer, review_queue.Filters(this_course=True)
    )


# --- CSV -------------------------------------------------------------------------------------


def _roster_word(row: ProgressRow) -> str:
    return {ROSTER: "Yes", NOT_IN_ROSTER: "No"}.get(row.source, "Unknown")


PERSON_COLUMNS: tuple[tuple[str, Callable[[ProgressRow], str]], ...] = (
    ("Name", lambda r: r.name),
    ("Given name", lambda r: r.given_name or ""),
    ("Family name", lambda r: r.family_name or ""),
    ("Email", lambda r: r.email or ""),
    ("LMS user id", lambda r: r.user_id),
    ("In the LMS roster", _roster_word),
    ("Enrolment", lambda r: r.enrolment),
)
"""The CSV's first columns (who); then one per credential (where they stand)."""


def cell_text(cell: Cell) -> str:
    """A cell as the page and the CSV say it: the state, and the attempt after the first."""
    if cell.attempt_number and cell.attempt_number > 1:
        return f"{cell.label} (attempt {cell.attempt_number})"
    return cell.label


def csv_bytes(overview: Overview) -> bytes:
    """The grid as CSV: UTF-8 with a byte order mark, a header row (the person's columns, then
    each credential's title), one row per learner, CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [safe_cell(h) for h, _ in PERSON_COLUMNS] + [safe_cell(c.title) for c in overview.columns]
    )
    for row in overview.rows:
        writer.writerow(
            [safe_cell(value(row.person)) for _, value in PERSON_COLUMNS]
            + [safe_cell(cell_text(cell)) for cell in row.cells]
        )
    return out.getvalue().encode("utf-8-sig")


def csv_filename(course: str | None, now: datetime | None = None) -> str:
    """The download's name: the course and the day (safe characters only)."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", course or "").strip("-")[:60] or "course"
    return f"overview-{safe}-{(now or utcnow()):%Y-%m-%d}.csv"

"""An educator's work on a credential: the current attempt, text answers saved with optimistic
concurrency, links, each part's status, the submission checklist, submitting, and the next
attempt after "not yet".

Every function takes a database session and plain values; the caller commits. Changes to an
attempt pass a gate first — a conditional ``UPDATE`` that succeeds only while the attempt is a
draft — so a save racing a submit either lands before the submission or is refused with a 409,
never after it. On PostgreSQL the gate's row lock also serialises a submit with the saves of
other tabs, so the checklist a submit reads is the evidence it locks.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.catalog import services as catalog
from app.catalog.models import Credential, CredentialVersion, Organisation
from app.db import utcnow
from app.errors import AppError, Conflict, NotFound
from app.evidence.access import AttemptLocked, educator, require_open
from app.evidence.models import Answer, Attempt, EvidenceFile, EvidenceLink
from app.grading import outbox
from app.grading.models import Decision, Review
from app.lti.launch import Launch
from app.lti.models import LtiUser

DEFAULT_ATTEMPT_LIMIT = 3
MAX_TEXT_CHARS = 200_000
"""About 30 000 words: far above any word limit, small enough to keep a save cheap."""
MAX_URL_CHARS = 2048
MAX_LINK_TITLE_CHARS = 200
MAX_LINKS_PER_PART = 20
MAX_NOTE_CHARS = 5000
LINK_SCHEMES = ("http", "https")

EMPTY = "empty"
IN_PROGRESS = "in_progress"
READY = "ready"
OVER_LIMIT = "over_limit"

STATE_LABELS = {
    Attempt.DRAFT: "Draft",
    Attempt.SUBMITTED: "Submitted",
    Attempt.IN_REVIEW: "In review",
    Attempt.NOT_YET: "Not yet",
    Attempt.EARNED: "Earned",
}

_WORD_CHAR = re.compile(r"\w")


class AnswerConflict(Conflict):
    """A save quoted a version older than the stored one: another tab saved in between."""

    code = "answer_conflict"
    title = "This answer was changed somewhere else"

    def __init__(self, *, your_text: str, server_text: str, server_version: int) -> None:
        super().__init__(
            "This answer was saved from another tab or device after this page loaded, so "
            "this save was not applied.",
            hint="Both texts are kept: choose which to keep, or keep both.",
        )
        self.your_text = your_text
        self.server_text = server_text
        self.server_version = server_version


class InvalidEvidence(AppError):
    code = "invalid_evidence"
    title = "This evidence cannot be saved"

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.field = field


class NotReady(AppError):
    code = "not_ready_to_submit"
    title = "This attempt is not ready to submit"


class AttemptLimitReached(Conflict):
    code = "attempt_limit_reached"
    title = "No attempts left"


class NoNextAttempt(Conflict):
    code = "no_next_attempt"
    title = "A new attempt cannot start now"


# --- The credential version's parts --------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One submission part of a credential version, with the criteria that judge it."""

    key: str
    title: str
    guidance: str
    evidence_kinds: tuple[str, ...]
    word_limit: int | None
    required: bool
    criteria: tuple[dict[str, Any], ...]

    def accepts(self, kind: str) -> bool:
        return kind in self.evidence_kinds

    def as_dict(self) -> dict[str, Any]:
        """The part as the version's content states it (for templates written against it)."""
        return {
            "key": self.key,
            "title": self.title,
            "guidance": self.guidance,
            "evidence_kinds": list(self.evidence_kinds),
            "word_limit": self.word_limit,
            "required": self.required,
        }


def parts_of(version: CredentialVersion) -> list[Part]:
    """Return a version's submission parts in order, each with its rubric criteria."""
    content = version.content or {}
    criteria: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for criterion in content.get("criteria", []):
        criteria[str(criterion.get("part"))].append(criterion)
    return [
        Part(
            key=str(part["key"]),
            title=str(part.get("title", part["key"])),
            guidance=str(part.get("guidance", "")),
            evidence_kinds=tuple(part.get("evidence_kinds", ())),
            word_limit=int(part["word_limit"]) if part.get("word_limit") else None,
            required=bool(part.get("required", True)),
            criteria=tuple(criteria.get(str(part["key"]), ())),
        )
        for part in content.get("parts", [])
    ]


def part_of(version: CredentialVersion, key: str) -> Part:
    for part in parts_of(version):
        if part.key == key:
            return part
    raise NotFound(
        "This credential has no such part.",
        hint="Reload the page: the list of parts comes from the credential.",
    )


def attempt_limit(version: CredentialVersion) -> int:
    """How many attempts an educator has at this version (the version's own, default 3)."""
    value = (version.content or {}).get("attempt_limit")
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_ATTEMPT_LIMIT


def count_words(text: str) -> int:
    """Count the words as the workspace's word counter does: runs of non-space characters
    that hold at least one letter or digit (so a lone dash or bullet is not a word)."""
    return sum(1 for token in text.split() if _WORD_CHAR.search(token))


# --- Attempts -------------------------------------------------------------------------------


def latest_attempt(session: Session, user_id: int, credential_id: int) -> Attempt | None:
    """The educator's most recent attempt at a credential, whatever its state."""
    return session.scalars(
        select(Attempt)
        .where(Attempt.user_id == user_id, Attempt.credential_id == credential_id)
        .order_by(Attempt.number.desc())
        .limit(1)
    ).first()


def attempts_of(session: Session, user_id: int, credential_id: int) -> list[Attempt]:
    """All of the educator's attempts at a credential, first to last."""
    return list(
        session.scalars(
            select(Attempt)
            .where(Attempt.user_id == user_id, Attempt.credential_id == credential_id)
            .order_by(Attempt.number)
        )
    )


def every_attempt_of(session: Session, user_id: int) -> list[Attempt]:
    """All of a person's attempts at any credential, oldest first (a records request)."""
    return list(
        session.scalars(
            select(Attempt)
            .where(Attempt.user_id == user_id)
            .order_by(Attempt.created_at, Attempt.id)
            .execution_options(all_platforms=True)
        )
    )


def start_attempt(
    session: Session,
    user: LtiUser,
    credential: Credential,
    version: CredentialVersion,
    *,
    resource_link_id: int | None = None,
) -> Attempt:
    """Open the educator's first attempt at a credential, or return the one they have.

    An existing attempt keeps its own version, whichever version this launch would show. Two
    tabs starting at once make one attempt: the unique (user, credential, number) constraint
    refuses the second insert, which then finds the first."""
    existing = latest_attempt(session, user.id, credential.id)
    if existing is not None:
        return existing
    attempt = Attempt(
        registration_id=user.registration_id,
        user_id=user.id,
        credential_id=credential.id,
        version_id=version.id,
        number=1,
        state=Attempt.DRAFT,
        changes_note="",
        started_resource_link_id=resource_link_id,
    )
    try:
        with session.begin_nested():
            session.add(attempt)
    except IntegrityError:
        found = latest_attempt(session, user.id, credential.id)
        assert found is not None  # the row that won the race
        return found
    return attempt


def _gate(session: Session, attempt: Attempt) -> None:
    """Claim the attempt for a change: succeed only while it is a draft (409 otherwise)."""
    require_open(attempt)
    now = utcnow()
    result = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.state == Attempt.DRAFT)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        # Submitted (or decided) since it was read: say so as the attempt's state does.
        session.refresh(attempt)
        require_open(attempt)
        raise AttemptLocked("This attempt can no longer be changed.")
    attempt.updated_at = now


# --- Text answers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    version: int
    saved_at: datetime
    words: int
    over_limit: bool
    changed: bool


def answers_of(session: Session, attempt_id: int) -> dict[str, Answer]:
    return {
        a.part_key: a
        for a in session.scalars(select(Answer).where(Answer.attempt_id == attempt_id))
    }


def _check_text(part: Part, text: str) -> str:
    if not part.accepts("text"):
        raise InvalidEvidence(
            f"“{part.title}” does not take a written answer.",
            hint="Add a file or a link to this part instead.",
        )
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidEvidence(
            f"This answer is longer than Microcred can keep ({MAX_TEXT_CHARS:,} characters).",
            field="text",
            hint="Shorten it, or put the long part in a file. What was saved before is kept.",
        )
    # Line endings differ between browsers and form posts; store one kind so that an unchanged
    # text is recognised as unchanged.
    return text.replace("\r\n", "\n").replace("\x00", "")


def save_answer(
    session: Session, attempt: Attempt, part_key: str, text: str, base_version: int
) -> Saved:
    """Save a part's text if ``base_version`` is the stored version (0: nothing stored yet).

    Saving the stored text again changes nothing. A stale ``base_version`` raises
    ``AnswerConflict`` with the stored text, so that nothing is silently overwritten.

    The usual save is two statements: the versioned update of the answer, then the draft gate.
    Taking the answer's row first cannot deadlock with a submit, which locks only the attempt;
    a submit that wins makes the gate refuse, and the answer's update is rolled back with it."""
    part = part_of(attempt.version, part_key)
    text = _check_text(part, text)
    require_open(attempt)
    words = count_words(text)
    over = part.word_limit is not None and words > part.word_limit
    now = utcnow()
    if base_version > 0:
        result = session.execute(
            update(Answer)
            .where(
                Answer.attempt_id == attempt.id,
                Answer.part_key == part_key,
                Answer.version == base_version,
                Answer.text != text,
            )
            .values(text=text, version=base_version + 1, saved_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            _gate(session, attempt)
            return Saved(base_version + 1, now, words, over, changed=True)
    stored = session.scalars(
        select(Answer).where(Answer.attempt_id == attempt.id, Answer.part_key == part_key)
    ).first()
    if stored is not None:
        # The same text (nothing to do), or a save quoting an older version (a conflict).
        return _conflict_or_same(stored, text, words, over)
    _gate(session, attempt)
    try:
        with session.begin_nested():
            session.add(
                Answer(
                    registration_id=attempt.registration_id,
                    attempt_id=attempt.id,
                    part_key=part_key,
                    text=text,
                    version=1,
                    saved_at=now,
                )
            )
    except IntegrityError:
        # Another tab's first save of this part landed first.
        stored = session.scalars(
            select(Answer).where(Answer.attempt_id == attempt.id, Answer.part_key == part_key)
        ).one()
        return _conflict_or_same(stored, text, words, over)
    return Saved(1, now, words, over, changed=True)


def _conflict_or_same(stored: Answer, text: str, words: int, over: bool) -> Saved:
    if stored.text == text:
        return Saved(stored.version, stored.saved_at, words, over, changed=False)
    raise AnswerConflict(your_text=text, server_text=stored.text, server_version=stored.version)


# --- Links ----------------------------------------------------------------------------------


def check_link(url: str, title: str) -> tuple[str, str]:
    """Return the cleaned (url, title), or refuse with a message naming the field."""
    url, title = url.strip(), " ".join(title.split())
    if not url:
        raise InvalidEvidence("Enter the link's address.", field="url")
    if len(url) > MAX_URL_CHARS:
        raise InvalidEvidence(
            f"This address is longer than {MAX_URL_CHARS} characters.",
            field="url",
            hint="Use the document's share link, which is usually shorter.",
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InvalidEvidence(
            "A web address cannot contain spaces or control characters.", field="url"
        )
    parts = urlsplit(url)
    if parts.scheme.lower() not in LINK_SCHEMES:
        raise InvalidEvidence(
            "Only web addresses starting with https:// or http:// can be added as links.",
            field="url",
            hint="Copy the address from your browser's address bar, e.g. https://…",
        )
    if not parts.hostname or ("." not in parts.hostname and parts.hostname != "localhost"):
        raise InvalidEvidence(
            "This address has no site name (for example https://example.org/…).", field="url"
        )
    if not title:
        raise InvalidEvidence(
            "Give the link a title, so the assessor knows what it shows.", field="title"
        )
    if len(title) > MAX_LINK_TITLE_CHARS:
        raise InvalidEvidence(
            f"Keep the title to {MAX_LINK_TITLE_CHARS} characters or fewer.", field="title"
        )
    return url, title


def links_of(session: Session, attempt_id: int) -> list[EvidenceLink]:
    return list(
        session.scalars(
            select(EvidenceLink)
            .where(EvidenceLink.attempt_id == attempt_id)
            .order_by(EvidenceLink.created_at, EvidenceLink.id)
        )
    )


def add_link(
    session: Session, attempt: Attempt, part_key: str, url: str, title: str
) -> EvidenceLink:
    """Add a web address (http or https only) with a title to a part."""
    part = part_of(attempt.version, part_key)
    if not part.accepts("link"):
        raise InvalidEvidence(
            f"“{part.title}” does not take links.", hint="Add the evidence this part asks for."
        )
    url, title = check_link(url, title)
    _gate(session, attempt)
    count = session.scalar(
        select(func.count())
        .select_from(EvidenceLink)
        .where(EvidenceLink.attempt_id == attempt.id, EvidenceLink.part_key == part_key)
    )
    if (count or 0) >= MAX_LINKS_PER_PART:
        raise InvalidEvidence(
            f"A part can hold at most {MAX_LINKS_PER_PART} links.",
            field="url",
            hint="Remove a link you no longer need, or gather several in one shared document.",
        )
    link = EvidenceLink(
        registration_id=attempt.registration_id,
        attempt_id=attempt.id,
        part_key=part_key,
        url=url,
        title=title,
    )
    session.add(link)
    session.flush()
    return link


def remove_link(session: Session, attempt: Attempt, link_id: int) -> None:
    """Remove one of the attempt's links (removing one already gone changes nothing)."""
    _gate(session, attempt)
    link = session.scalars(
        select(EvidenceLink).where(
            EvidenceLink.id == link_id, EvidenceLink.attempt_id == attempt.id
        )
    ).first()
    if link is not None:
        session.delete(link)
        session.flush()


# --- Status and checklist -------------------------------------------------------------------


def files_of(session: Session, attempt_id: int) -> dict[str, list[EvidenceFile]]:
    """The attempt's files by part, complete ones and unfinished uploads, oldest first."""
    found: dict[str, list[EvidenceFile]] = defaultdict(list)
    for row in session.scalars(
        select(EvidenceFile)
        .where(EvidenceFile.attempt_id == attempt_id)
        .order_by(EvidenceFile.created_at, EvidenceFile.id)
    ):
        found[row.part_key].append(row)
    return found


@dataclass
class PartWork:
    """A part of an attempt: what it asks for, what the educator has put in it, its status."""

    part: Part
    answer: Answer | None
    words: int
    links: list[EvidenceLink]
    files: list[EvidenceFile]
    status: str = EMPTY

    @property
    def text(self) -> str:
        return self.answer.text if self.answer else ""

    @property
    def text_version(self) -> int:
        return self.answer.version if self.answer else 0

    @property
    def complete_files(self) -> list[EvidenceFile]:
        return [f for f in self.files if f.state == EvidenceFile.COMPLETE]

    @property
    def over_limit(self) -> bool:
        return self.part.word_limit is not None and self.words > self.part.word_limit

    @property
    def has_evidence(self) -> bool:
        """Whether the part holds evidence of a kind it accepts (what the checklist counts)."""
        return (
            (self.part.accepts("text") and self.words > 0)
            or (self.part.accepts("link") and bool(self.links))
            or (self.part.accepts("file") and bool(self.complete_files))
        )

    @property
    def needs(self) -> str:
        """What the checklist says while this part has no evidence."""
        kinds = " or ".join(_KIND_WORDS[k] for k in self.part.evidence_kinds if k in _KIND_WORDS)
        return f"“{self.part.title}” needs {kinds or 'evidence'}."


def part_status(work: PartWork) -> str:
    """empty, in progress (something started but not counted yet, e.g. an unfinished upload),
    ready, or over the word limit."""
    if work.over_limit:
        return OVER_LIMIT
    unfinished = any(f.state != EvidenceFile.COMPLETE for f in work.files)
    if work.has_evidence and not unfinished:
        return READY
    if work.has_evidence or unfinished or work.text.strip():
        return IN_PROGRESS
    return EMPTY


def checklist(works: Iterable[PartWork]) -> list[str]:
    """What stands between this attempt and submitting it (empty: ready)."""
    problems = []
    for work in works:
        if work.over_limit:
            problems.append(
                f"“{work.part.title}” has {work.words} words; the limit is "
                f"{work.part.word_limit}. Shorten it to submit."
            )
        elif work.part.required and not work.has_evidence:
            problems.append(work.needs)
    return problems


_KIND_WORDS = {"text": "a written answer", "file": "a file", "link": "a link"}


def part_works(session: Session, attempt: Attempt) -> list[PartWork]:
    answers = answers_of(session, attempt.id)
    links: dict[str, list[EvidenceLink]] = defaultdict(list)
    for link in links_of(session, attempt.id):
        links[link.part_key].append(link)
    files = files_of(session, attempt.id)
    works = []
    for part in parts_of(attempt.version):
        answer = answers.get(part.key)
        work = PartWork(
            part=part,
            answer=answer,
            words=count_words(answer.text) if answer else 0,
            links=links.get(part.key, []),
            files=files.get(part.key, []),
        )
        work.status = part_status(work)
        works.append(work)
    return works


# --- Submitting -----------------------------------------------------------------------------


def submit(session: Session, attempt: Attempt) -> Attempt:
    """Lock a draft for review: all or nothing, and exactly once.

    The conditional UPDATE is the decision: of two concurrent submits one changes the row and
    the other finds it no longer a draft (409). The checklist is read after the row is claimed,
    inside a savepoint, so an incomplete attempt is left a draft."""
    require_open(attempt)
    now = utcnow()
    with session.begin_nested():
        result = session.execute(
            update(Attempt)
            .where(Attempt.id == attempt.id, Attempt.state == Attempt.DRAFT)
            .values(state=Attempt.SUBMITTED, submitted_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            session.refresh(attempt)
            require_open(attempt)
        problems = checklist(part_works(session, attempt))
        if problems:
            raise NotReady(
                "This attempt cannot be submitted yet: " + " ".join(problems),
                hint="Nothing was submitted; your draft is as you left it.",
            )
        outbox.record(
            session,
            attempt,
            outbox.SUBMITTED,
            {"submitted_at": now.isoformat(), "number": attempt.number},
        )
    session.refresh(attempt)
    return attempt


# --- The next attempt -----------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


def contact_of(session: Session, credential_id: int) -> Contact:
    """Who to write to about a credential: its issuing organisation."""
    organisation = session.scalars(
        select(Organisation)
        .join(Credential, Credential.organisation_id == Organisation.id)
        .where(Credential.id == credential_id)
    ).one()
    return Contact(organisation.name, organisation.email)


def limit_message(contact: Contact, limit: int) -> str:
    return (
        f"You have used all {limit} attempts at this micro-credential. To ask about another "
        f"attempt, write to {contact.name} at {contact.email}."
    )


def start_next_attempt(session: Session, previous: Attempt, note: str) -> Attempt:
    """After "not yet", open attempt n + 1 with the previous answers, links and complete files.

    It is made against the previous attempt's version, so the feedback and the carried-over
    evidence fit its parts. Files are carried as new rows sharing the stored bytes."""
    note = note.strip()
    if previous.state != Attempt.NOT_YET:
        raise NoNextAttempt(
            "A new attempt starts only after a decision of “not yet”.",
            hint="Nothing was changed.",
        )
    newer = latest_attempt(session, previous.user_id, previous.credential_id)
    if newer is not None and newer.id != previous.id:
        return newer  # another tab started it already
    limit = attempt_limit(previous.version)
    if previous.number >= limit:
        raise AttemptLimitReached(
            limit_message(contact_of(session, previous.credential_id), limit),
            hint="Your earlier attempts and their evidence are kept.",
        )
    if not note:
        raise InvalidEvidence(
            "Say briefly what you changed or will change since your last attempt.",
            field="note",
            hint="The assessor reads this first.",
        )
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidEvidence(
            f"Keep the note to {MAX_NOTE_CHARS:,} characters or fewer.", field="note"
        )
    attempt = Attempt(
        registration_id=previous.registration_id,
        user_id=previous.user_id,
        credential_id=previous.credential_id,
        version_id=previous.version_id,
        number=previous.number + 1,
        state=Attempt.DRAFT,
        changes_note=note,
        started_resource_link_id=previous.started_resource_link_id,
    )
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
            _carry_over(session, previous, attempt)
    except IntegrityError:
        found = latest_attempt(session, previous.user_id, previous.credential_id)
        assert found is not None
        return found
    return attempt


def _carry_over(session: Session, previous: Attempt, attempt: Attempt) -> None:
    now = utcnow()
    rows: list[Any] = []
    for answer in answers_of(session, previous.id).values():
        rows.append(
            Answer(
                registration_id=attempt.registration_id,
                attempt_id=attempt.id,
                part_key=answer.part_key,
                text=answer.text,
                version=1,
                saved_at=now,
            )
        )
    for link in links_of(session, previous.id):
        rows.append(
            EvidenceLink(
                registration_id=attempt.registration_id,
                attempt_id=attempt.id,
                part_key=link.part_key,
                url=link.url,
                title=link.title,
                created_at=link.created_at,
            )
        )
    for files in files_of(session, previous.id).values():
        for row in files:
            if row.state != EvidenceFile.COMPLETE:
                continue
            rows.append(
                EvidenceFile(
                    registration_id=attempt.registration_id,
                    attempt_id=attempt.id,
                    part_key=row.part_key,
                    storage_key=row.storage_key,
                    name=row.name,
                    media_type=row.media_type,
                    size=row.size,
                    received=row.size,
                    sha256=row.sha256,
                    state=EvidenceFile.COMPLETE,
                    upload=None,
                    created_at=row.created_at,
                    completed_at=row.completed_at or now,
                )
            )
    session.add_all(rows)
    session.flush()


# --- What other pages show ------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """An educator's standing on a credential, for the credential's page."""

    state: str | None
    """``None``: not started."""
    number: int = 0
    saved_at: datetime | None = None
    label: str = "Not started"

    @property
    def waiting(self) -> bool:
        """Submitted and not decided yet: waiting for review, or in it."""
        return self.state in Attempt.WAITING


def launch_summary(session: Session, launch: Launch, credential_id: int) -> Summary:
    """The launching person's standing on a credential (not started, for an anonymous one)."""
    if launch.user is None:
        return Summary(None)
    return summary(session, educator(session, launch).id, credential_id)


def summary(session: Session, user_id: int, credential_id: int) -> Summary:
    attempt = latest_attempt(session, user_id, credential_id)
    if attempt is None:
        return Summary(None)
    return Summary(
        attempt.state, attempt.number, attempt.updated_at, STATE_LABELS.get(attempt.state, "")
    )


@dataclass(frozen=True)
class LatestAttempt:
    """Where one educator stands on a credential: their latest attempt, and when they began."""

    attempt_id: int
    number: int
    state: str
    first_started_at: datetime
    """When their first attempt at the credential was opened."""
    submitted_at: datetime | None
    """When the latest attempt was submitted (``None`` while it is a draft)."""
    decided_at: datetime | None
    """When the latest attempt was decided (``None`` until then)."""


def latest_attempts(
    session: Session, user_ids: Sequence[int], credential_id: int
) -> dict[int, LatestAttempt]:
    """Each user's latest attempt at a credential, by user id, in one query."""
    found = latest_attempts_at(session, user_ids, [credential_id])
    return {user_id: latest for (user_id, _), latest in found.items()}


def latest_attempts_at(
    session: Session, user_ids: Sequence[int], credential_ids: Sequence[int]
) -> dict[tuple[int, int], LatestAttempt]:
    """Each user's latest attempt at each of these credentials, by (user id, credential id),
    in one query whatever the number of users and credentials (a course's overview)."""
    if not user_ids or not credential_ids:
        return {}
    latest = (
        select(
            Attempt.user_id,
            Attempt.credential_id,
            func.max(Attempt.number).label("number"),
            func.min(Attempt.created_at).label("first_started_at"),
        )
        .where(
            Attempt.credential_id.in_(list(credential_ids)),
            Attempt.user_id.in_(list(user_ids)),
        )
        .group_by(Attempt.user_id, Attempt.credential_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Attempt.user_id,
            Attempt.credential_id,
            Attempt.id,
            Attempt.number,
            Attempt.state,
            latest.c.first_started_at,
            Attempt.submitted_at,
            Attempt.decided_at,
        ).join(
            latest,
            (latest.c.user_id == Attempt.user_id)
            & (latest.c.credential_id == Attempt.credential_id)
            & (latest.c.number == Attempt.number),
        )
    ).all()
    return {
        (user_id, credential_id): LatestAttempt(
            attempt_id, number, state, started, submitted, decided
        )
        for user_id, credential_id, attempt_id, number, state, started, submitted, decided in rows
    }


def states_for(
    session: Session, user_ids: Sequence[int], credential_id: int
) -> dict[int, tuple[str, int]]:
    """Each user's latest attempt (state, number) at a credential, in one query."""
    return {
        user_id: (found.state, found.number)
        for user_id, found in latest_attempts(session, user_ids, credential_id).items()
    }


# --- The decision, as the educator reads it -------------------------------------------------


@dataclass(frozen=True)
class CriterionOutcome:
    """One rubric criterion of a decided attempt: what it asks, and the assessor's judgement."""

    key: str
    title: str
    part_key: str | None
    part_title: str
    pass_descriptor: str
    met: bool
    comment: str
    """The comment as decided (two agreeing reviewers' comments joined)."""
    comments_by: tuple[tuple[str, str], ...] = ()
    """With two reviewers: (``first`` or ``second``, that reviewer's comment) for each who
    commented, so the educator sees two voices rather than one merged text."""


@dataclass(frozen=True)
class ReviewerVoice:
    """One reviewer's overall feedback on a decided attempt, never named: ``first``, ``second``
    or ``lead`` reviewer (a review may be blind)."""

    ordinal: str
    feedback: str


@dataclass(frozen=True)
class DecisionView:
    """The outcome of one attempt as its educator sees it. It never names the assessor: a
    review may be blind, and the educator's question is what to change, not who judged."""

    attempt_id: int
    attempt_number: int
    outcome: str
    decided_at: datetime
    feedback: str
    criteria: tuple[CriterionOutcome, ...]
    """In the rubric's order; criteria the decision does not mention are left out."""
    voices: tuple[ReviewerVoice, ...] = ()
    """When more than one assessor reviewed the attempt: the two who agreed (first, second), or
    the lead reviewer who settled their disagreement. Empty for a single review."""

    @property
    def by_two(self) -> bool:
        """Two reviewers agreed on this decision (each one's words are shown apart)."""
        return len(self.voices) == 2

    @property
    def by_lead(self) -> bool:
        return len(self.voices) == 1 and self.voices[0].ordinal == "lead"

    @property
    def earned(self) -> bool:
        return self.outcome == Attempt.EARNED

    @property
    def not_met(self) -> tuple[CriterionOutcome, ...]:
        return tuple(c for c in self.criteria if not c.met)

    @property
    def not_met_first(self) -> tuple[CriterionOutcome, ...]:
        """The criteria with those that need work first (each group in the rubric's order)."""
        return self.not_met + tuple(c for c in self.criteria if c.met)

    def not_met_in(self, part_key: str) -> tuple[CriterionOutcome, ...]:
        """The criteria judging one part that were not met: what to revise in that part."""
        return tuple(c for c in self.not_met if c.part_key == part_key)


def _voices(reviews: Sequence[Review]) -> list[tuple[str, Review]]:
    """The reviews a decision rests on, by their place: the lead's alone when one settled a
    disagreement, both when two agreed, none worth naming for a single review."""
    done = {r.round: r for r in reviews if r.state == Review.SUBMITTED}
    if Review.LEAD in done:
        return [("lead", done[Review.LEAD])]
    if Review.FIRST in done and Review.SECOND in done:
        return [("first", done[Review.FIRST]), ("second", done[Review.SECOND])]
    return []


def _decision_view(
    decision: Decision, attempt: Attempt, reviews: Sequence[Review] = ()
) -> DecisionView:
    content = attempt.version.content or {}
    voices = _voices(reviews)
    both = voices if len(voices) == 2 else []
    part_titles = {p.key: p.title for p in parts_of(attempt.version)}
    judged: dict[str, Any] = decision.criteria if isinstance(decision.criteria, dict) else {}
    criteria = []
    seen = set()
    for criterion in content.get("criteria", []):
        key = str(criterion.get("key"))
        entry = judged.get(key)
        if not isinstance(entry, dict):
            continue  # not judged in this decision (a rubric the review did not cover)
        seen.add(key)
        part_key = criterion.get("part")
        criteria.append(
            CriterionOutcome(
                key=key,
                title=str(criterion.get("title") or key),
                part_key=str(part_key) if part_key is not None else None,
                part_title=part_titles.get(str(part_key), ""),
                pass_descriptor=str(criterion.get("pass_descriptor", "")),
                met=entry.get("met") is True,
                comment=str(entry.get("comment") or "").strip(),
                comments_by=tuple(
                    (ordinal, said)
                    for ordinal, review in both
                    if (said := _comment_in(review, key))
                ),
            )
        )
    # A judgement of a criterion the rubric no longer names still reaches the educator: the
    # assessor's comment is theirs to read.
    for key, entry in judged.items():
        if key in seen or not isinstance(entry, dict):
            continue
        criteria.append(
            CriterionOutcome(
                key=key,
                title=key,
                part_key=None,
                part_title="",
                pass_descriptor="",
                met=entry.get("met") is True,
                comment=str(entry.get("comment") or "").strip(),
            )
        )
    return DecisionView(
        attempt_id=attempt.id,
        attempt_number=attempt.number,
        outcome=decision.outcome,
        decided_at=decision.decided_at,
        feedback=(decision.feedback or "").strip(),
        criteria=tuple(criteria),
        voices=tuple(ReviewerVoice(o, (r.feedback or "").strip()) for o, r in voices),
    )


def _comment_in(review: Review, key: str) -> str:
    judged = review.criteria.get(key) if isinstance(review.criteria, dict) else None
    return str((judged or {}).get("comment") or "").strip() if isinstance(judged, dict) else ""


def decisions_of(session: Session, attempts: Sequence[Attempt]) -> dict[int, DecisionView]:
    """The decisions on some attempts, by attempt id, in one query (undecided ones absent)."""
    by_id = {a.id: a for a in attempts}
    if not by_id:
        return {}
    # The decisions with the reviews they rest on, in one statement.
    decisions: dict[int, Decision] = {}
    reviews: dict[int, list[Review]] = {}
    for decision, review in session.execute(
        select(Decision, Review)
        .outerjoin(Review, Review.attempt_id == Decision.attempt_id)
        .where(Decision.attempt_id.in_(list(by_id)))
        .order_by(Decision.attempt_id, Review.round)
    ):
        decisions[decision.attempt_id] = decision
        reviews.setdefault(decision.attempt_id, []).extend([review] if review else [])
    return {
        attempt_id: _decision_view(decision, by_id[attempt_id], reviews[attempt_id])
        for attempt_id, decision in decisions.items()
    }


def decision_of(session: Session, attempt_id: int) -> DecisionView | None:
    """The decision on one attempt as its educator sees it, or ``None`` while undecided."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    return decisions_of(session, [attempt]).get(attempt_id)


@dataclass
class Workspace:
    """Everything the workspace page shows for one attempt."""

    attempt: Attempt
    parts: list[PartWork]
    problems: list[str]
    limit: int
    contact: Contact
    history: list[Attempt] = field(default_factory=list)
    decision: DecisionView | None = None
    """This attempt's decision, once decided."""
    previous_decision: DecisionView | None = None
    """While this attempt awaits its own decision: the "not yet" on the attempt before it,
    whose feedback the educator is acting on."""

    @property
    def attempts_left(self) -> int:
        return max(0, self.limit - self.attempt.number)


def workspace(session: Session, attempt: Attempt) -> Workspace:
    parts = part_works(session, attempt)
    history = attempts_of(session, attempt.user_id, attempt.credential_id)
    previous = next((a for a in history if a.number == attempt.number - 1), None)
    # One query for both decisions, whatever the number of attempts or criteria.
    decisions = decisions_of(session, [attempt] + ([previous] if previous else []))
    decision = decisions.get(attempt.id)
    return Workspace(
        attempt=attempt,
        parts=parts,
        problems=checklist(parts),
        limit=attempt_limit(attempt.version),
        contact=contact_of(session, attempt.credential_id),
        history=history,
        decision=decision,
        previous_decision=(decisions.get(previous.id) if previous and decision is None else None),
    )


def credential_by_slug(session: Session, slug: str) -> Credential:
    found = session.scalars(select(Credential).where(Credential.slug == slug)).first()
    if found is None:
        raise NotFound(
            "There is no micro-credential at this address.",
            hint="Open it again from your course or the catalog.",
        )
    return found


def published_version(session: Session, credential: Credential) -> CredentialVersion:
    """The credential's latest published version (what the self-directed catalog offers)."""
    version = catalog.current_version(session, credential.id)
    if version is None:
        raise NotFound(
            "This micro-credential has been retired from the catalog, so it cannot be started.",
            hint="Choose another one from the catalog, or ask your instructor.",
        )
    return version

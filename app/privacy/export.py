"""One person's records as a zip: what the tool holds about them, as they may know it.

Whom: a person is a platform and the ``sub`` it gave them (``people_on``); an operator may join
the records one person has on several platforms by the email those platforms sent
(``people_with``), which the caller audits. What: their profile as the LMS sent it and as they
set it; every attempt with its answers, links and files (the files' bytes streamed from the
evidence store into the zip, never held whole in memory); each decision as the educator's own
outcome page shows it (``evidence.services.decisions_of``: the feedback and comments they were
shown, the reviewers never named, so blind review keeps its promise); and their badges, each
with its signed credential and baked images. Not in it: what others hold about them that they
were never shown (a reviewer's draft, who reviewed), and other people's rows.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask import render_template
from sqlalchemy.orm import Session

from app.audit import record
from app.badges import services as badges
from app.badges.identity import Site
from app.db import utcnow
from app.errors import AppError
from app.evidence import services as evidence
from app.evidence.storage import EvidenceStore
from app.lti import registrations
from app.lti import services as lti

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FORMAT = 1
"""The version of ``data.json``'s shape, raised when a field changes meaning."""


class NoSuchPerson(AppError):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint=hint, status=404, code="no_such_person")


class BadRequest(AppError):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint=hint, status=400, code="bad_records_request")


@dataclass(frozen=True)
class Person:
    """One person as one platform knows them."""

    user_id: int
    registration_id: int
    platform: str
    issuer: str
    sub: str


def _person(user: Any, registration: Any) -> Person:
    return Person(user.id, registration.id, registration.name, registration.issuer, user.sub)


def people_on(session: Session, platform: str, sub: str) -> list[Person]:
    """The person a platform (its uuid, name or issuer) knows as ``sub``."""
    if not platform.strip() or not sub.strip():
        raise BadRequest(
            "Say which platform and which LMS user id.",
            hint="Give the platform's name, issuer or id and the person's LMS user id (sub).",
        )
    found = registrations.find_platforms(session, platform)
    if not found:
        raise NoSuchPerson(
            f"No platform is called {platform!r}.",
            hint="Use a platform's name, issuer or id as the console's Platforms page lists it.",
        )
    people = [
        _person(user, registration)
        for registration in found
        if (user := lti.person_on_platform(session, registration.id, sub.strip())) is not None
    ]
    if not people:
        raise NoSuchPerson(
            "Nobody with that LMS user id has launched the tool from that platform.",
            hint="Check the user id (sub) the LMS sends for this person; the tool has no "
            "records of someone who never opened it.",
        )
    return people


def people_with(session: Session, email: str) -> list[Person]:
    """Everyone, on every platform, whose LMS sent ``email``: one person's records joined."""
    if not EMAIL.fullmatch(email.strip()):
        raise BadRequest(
            f"{email!r} is not an email address.",
            hint="Give the address the person's LMS has for them, like name@school.edu.",
        )
    people = []
    for user in lti.people_with_email(session, email):
        registration = registrations.find_by_id(session, user.registration_id)
        if registration is not None:
            people.append(_person(user, registration))
    if not people:
        raise NoSuchPerson(
            "No platform has sent the tool that email address.",
            hint="Look the person up by platform and LMS user id instead; some LMSs send no email.",
        )
    return people


@dataclass
class Counts:
    """What an export holds, for the operator's message and the audit log (never its content)."""

    people: int = 0
    attempts: int = 0
    files: int = 0
    missing_files: int = 0
    badges: int = 0
    bytes: int = 0
    names: list[str] = field(default_factory=list)
    """The zip's entries besides ``data.json`` and ``index.html``."""


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _safe(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._ -]+", "_", name).strip(" .") or "file"
    return cleaned[:120]


def _profile(user: Any) -> dict[str, Any]:
    return {
        "sub": user.sub,
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "email": user.email,
        "badge_name": user.badge_name,
        "name_in_badges": user.name_in_badges,
        "updated_at": _when(user.updated_at),
    }


def _decision(view: evidence.DecisionView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    shown = asdict(view)
    shown["decided_at"] = _when(view.decided_at)
    shown["criteria"] = [
        {**criterion, "comments_by": [list(pair) for pair in criterion["comments_by"]]}
        for criterion in shown["criteria"]
    ]
    return shown


def write(
    session: Session,
    store: EvidenceStore,
    site: Site,
    people: Iterable[Person],
    destination: str | Path | BinaryIO,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Counts:
    """Write the zip of ``people``'s records to ``destination``; return what it holds.

    ``progress`` is told (done, total) after each file and badge, for a long export's page."""
    people = list(people)
    counts = Counts(people=len(people))
    records = []
    work: list[tuple[str, Callable[[zipfile.ZipFile], None]]] = []
    for person in people:
        user = lti.person_on_platform(session, person.registration_id, person.sub)
        if user is None:
            continue
        attempts = evidence.every_attempt_of(session, user.id)
        decisions = evidence.decisions_of(session, attempts)
        entries = []
        for attempt in attempts:
            counts.attempts += 1
            files = []
            for part_key, rows in evidence.files_of(session, attempt.id).items():
                for row in rows:
                    path, kept = None, row.state == "complete"
                    if kept and store.exists(row.storage_key):
                        path = f"files/attempt-{attempt.id}/{row.id}-{_safe(row.name)}"
                        work.append((path, _copier(store, row.storage_key, path, counts)))
                    elif kept:
                        kept = False
                        counts.missing_files += 1
                    files.append(
                        {
                            "part": part_key,
                            "name": row.name,
                            "description": row.description,
                            "media_type": row.media_type,
                            "size": row.size,
                            "sha256": row.sha256,
                            "state": row.state,
                            "bytes_kept": kept,
                            "created_at": _when(row.created_at),
                            "completed_at": _when(row.completed_at),
                            "path": path,
                        }
                    )
            entries.append(
                {
                    "id": attempt.id,
                    "credential": attempt.version.title,
                    "credential_slug": attempt.credential.slug,
                    "credential_version": attempt.version.number,
                    "number": attempt.number,
                    "state": attempt.state,
                    "changes_note": attempt.changes_note,
                    "created_at": _when(attempt.created_at),
                    "updated_at": _when(attempt.updated_at),
                    "submitted_at": _when(attempt.submitted_at),
                    "decided_at": _when(attempt.decided_at),
                    "answers": [
                        {"part": key, "text": answer.text, "saved_at": _when(answer.saved_at)}
                        for key, answer in evidence.answers_of(session, attempt.id).items()
                    ],
                    "links": [
                        {
                            "part": link.part_key,
                            "url": link.url,
                            "title": link.title,
                            "created_at": _when(link.created_at),
                        }
                        for link in evidence.links_of(session, attempt.id)
                    ],
                    "files": files,
                    "decision": _decision(decisions.get(attempt.id)),
                }
            )
        awards = []
        for award in badges.badges_of(session, user.id):
            counts.badges += 1
            stem = f"badges/{award.public_id}"
            credential = json.dumps(award.credential_json, indent=2, ensure_ascii=False)
            work.append((f"{stem}.json", _writer(f"{stem}.json", credential)))
            images = []
            if award.version.image is not None:
                for ext in ("png", "svg"):
                    baked, _media_type = badges.baked_image(site, award, ext)
                    work.append((f"{stem}.{ext}", _writer(f"{stem}.{ext}", baked)))
                    images.append(f"{stem}.{ext}")
            awards.append(
                {
                    "public_id": award.public_id,
                    "credential": award.version.title,
                    "page": site.url(f"/badges/{award.public_id}"),
                    "issued_at": _when(award.issued_at),
                    "valid_until": _when(award.valid_until),
                    "recipient_name": award.recipient_name,
                    "revoked_at": _when(award.revoked_at),
                    "revocation_reason": award.revocation_reason,
                    "public_evidence": award.public_evidence,
                    "signed_credential": f"{stem}.json",
                    "baked_images": images,
                }
            )
        records.append(
            {
                "platform": {"name": person.platform, "issuer": person.issuer},
                "profile": _profile(user),
                "attempts": entries,
                "badges": awards,
            }
        )
    data = {"format": FORMAT, "exported_at": _when(utcnow()), "people": records}
    total = len(work)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        for done, (name, put) in enumerate(work, start=1):
            put(archive)
            counts.names.append(name)
            if progress is not None:
                progress(done, total)
        archive.writestr("index.html", render_template("privacy/export_index.html", data=data))
    return counts


def _writer(name: str, content: bytes | str) -> Callable[[zipfile.ZipFile], None]:
    def put(archive: zipfile.ZipFile) -> None:
        archive.writestr(name, content)

    return put


def _copier(
    store: EvidenceStore, key: str, name: str, counts: Counts
) -> Callable[[zipfile.ZipFile], None]:
    """Copy one evidence file into the zip a block at a time (stored, not compressed: video and
    images do not shrink)."""

    def put(archive: zipfile.ZipFile) -> None:
        info = zipfile.ZipInfo(name, date_time=utcnow().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED
        with archive.open(info, "w", force_zip64=True) as out:
            for block in store.read(key):
                out.write(block)
                counts.bytes += len(block)
        counts.files += 1

    return put


def audit(
    session: Session,
    people: list[Person],
    counts: Counts,
    *,
    actor: str,
    by_email: bool,
    operator_id: int | None = None,
) -> None:
    """Record an operator's export: who asked, whose records (by user id and platform, never
    the email typed), whether platforms were joined by email, and how much went out."""
    record(
        session,
        actor=actor,
        operator_id=operator_id,
        action="privacy.export",
        target=",".join(f"user:{person.user_id}" for person in people),
        details={
            "user_ids": [person.user_id for person in people],
            "platforms": [person.platform for person in people],
            "joined_by_email": by_email,
            "attempts": counts.attempts,
            "files": counts.files,
            "missing_files": counts.missing_files,
            "badges": counts.badges,
        },
    )


def people_on_launch(session: Session, registration_id: int, sub: str) -> list[Person]:
    """The person a launch names, on the platform it came from (an educator's own records)."""
    registration = registrations.find_by_id(session, registration_id)
    user = lti.person_on_platform(session, registration_id, sub)
    if registration is None or user is None:
        raise NoSuchPerson("Open Microcred from your course again.")
    return [_person(user, registration)]


def people_of_user(session: Session, user_id: int) -> list[Person]:
    """The person a stored user row is (a queued export names them by it)."""
    user = lti.user_by_id(session, user_id)
    if user is None:
        return []
    registration = registrations.find_by_id(session, user.registration_id)
    return [] if registration is None else [_person(user, registration)]


def evidence_bytes(session: Session, people: Iterable[Person]) -> int:
    """How many bytes of evidence files an export of ``people`` would carry."""
    total = 0
    for person in people:
        for attempt in evidence.every_attempt_of(session, person.user_id):
            for rows in evidence.files_of(session, attempt.id).values():
                total += sum(row.size for row in rows if row.state == "complete")
    return total

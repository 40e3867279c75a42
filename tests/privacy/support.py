"""Builders for the export tests: one educator's records on two platforms, made through the
real pages where the development LMS can make them (a launch, answers, uploads, a link, a
submission, a blind review with feedback, the badge the worker issues), and another educator's
draft that must never leave in the first one's export."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import Result
from flask import Flask
from sqlalchemy import select

from app.db import get_db, utcnow
from app.evidence.models import Attempt, EvidenceFile
from app.evidence.storage import evidence_store, new_key
from app.lti.models import LtiUser, Registration
from tests.backup.support import pdf, upload
from tests.badges.support import awards, process
from tests.evidence.support import (
    HINGE,
    INSTRUCTOR,
    LEARNER,
    OTHER_LEARNER,
    add_activity,
    attempt_id,
    launch,
    other_platform_attempt,
    start,
)
from tests.grading.support import decide, judgement, set_review
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

PLAN = pdf(300 * 1024)
SLIDES = pdf(20 * 1024)
BETA_NOTES = pdf(12 * 1024)
OTHERS = pdf(9 * 1024)
ANSWER = "My class of 28 and the hinge question on fractions."
OTHERS_ANSWER = "Priya's half-written overview, hers alone."
FEEDBACK = "Your hinge question found the misconception: well judged."
BETA_ANSWER = "Notes from the other district's course."


@dataclass
class World:
    devlms_platform: str
    """The development LMS's registration name."""
    sub: str
    """The educator's LMS user id there."""
    badge: str
    """Their badge's public id."""
    files: dict[str, bytes]
    """Their three files by name, and the bytes each must have in the export."""


def build_world(live: LiveServers) -> World:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, organisation_blind=True, blind=True)
    activity = add_activity(live, HINGE)

    educator = launch(live, LEARNER, activity)
    earned = attempt_id(start(educator, HINGE).text)
    upload(educator, earned, "lesson-plan", "Lesson plan, Year 7.pdf", PLAN)
    upload(educator, earned, "lesson-plan", "Slides.pdf", SLIDES)
    for part, text in (("overview", ANSWER), ("reflection", "I learned to wait.")):
        saved = educator.put_json(
            f"/work/attempts/{earned}/answers/{part}", {"text": text, "version": 0}
        )
        assert saved.ok, saved.text[:300]
    linked = educator.post(
        f"/work/attempts/{earned}/links",
        part="response-evidence",
        url="https://video.example.edu/lesson-12",
        title="Lesson video",
    )
    assert linked.status_code == 200, linked.text[:300]
    assert educator.post(f"/work/attempts/{earned}/submit").status_code == 200
    decided = decide(launch(live, INSTRUCTOR, activity), earned, judgement(), FEEDBACK)
    assert "Decision recorded: earned" in decided.text, decided.text[:800]
    process(live.tool)

    other = launch(live, OTHER_LEARNER, activity)
    theirs = attempt_id(start(other, HINGE).text)
    upload(other, theirs, "response-evidence", "Priya responses.pdf", OTHERS)
    assert other.put_json(
        f"/work/attempts/{theirs}/answers/overview", {"text": OTHERS_ANSWER, "version": 0}
    ).ok

    _beta, beta_attempt = other_platform_attempt(live, earned)
    beta_file(live, beta_attempt, "Beta notes.pdf", BETA_NOTES)

    with get_db(live.tool).begin() as session:
        user = session.scalars(select(LtiUser).where(LtiUser.email == LEARNER)).one()
        platform = session.get_one(Registration, user.registration_id).name
        beta_user = session.scalars(select(LtiUser).where(LtiUser.sub == "beta-user")).one()
        beta_user.email = LEARNER.upper()  # another LMS, the same address in other letters
        beta_user.name = "Jordan Lee"
        sub = user.sub
    (award,) = awards(live.tool)
    return World(
        devlms_platform=platform,
        sub=sub,
        badge=award.public_id,
        files={
            "Lesson plan, Year 7.pdf": PLAN,
            "Slides.pdf": SLIDES,
            "Beta notes.pdf": BETA_NOTES,
        },
    )


def beta_file(live: LiveServers, attempt: int, name: str, content: bytes) -> None:
    """A complete file of the other platform's attempt, its bytes put in the tool's store (that
    platform cannot launch here: it is only rows), with an answer beside it."""
    from app.evidence.models import Answer

    key = new_key()
    with live.tool.app_context():
        evidence_store().put(key, io.BytesIO(content))
    with get_db(live.tool).begin() as session:
        row = session.get_one(Attempt, attempt)
        session.add(
            EvidenceFile(
                registration_id=row.registration_id,
                attempt_id=attempt,
                part_key="lesson-plan",
                storage_key=key,
                name=name,
                media_type="application/pdf",
                size=len(content),
                received=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                state=EvidenceFile.COMPLETE,
                completed_at=utcnow(),
            )
        )
        session.add(
            Answer(
                registration_id=row.registration_id,
                attempt_id=attempt,
                part_key="overview",
                text=BETA_ANSWER,
            )
        )


def run(app: Flask, *args: str) -> Result:
    """Run ``flask privacy ARGS``; a refusal must not be a traceback."""
    result = app.test_cli_runner().invoke(args=["privacy", *args])
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (result.output, result.exc_info)
    assert "Traceback" not in result.output
    return result


@dataclass
class Export:
    data: dict[str, Any]
    index: str
    entries: dict[str, bytes]


def read_export(path: Path) -> Export:
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    return Export(
        data=json.loads(entries["data.json"]),
        index=entries["index.html"].decode(),
        entries=entries,
    )


def everything(export: Export) -> bytes:
    """Every byte of the zip's entries, to look for what must not be there."""
    return b"\n".join(export.entries.values())

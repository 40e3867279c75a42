"""Builders for the backup tests: a district's world made through the real pages (an educator
launched from the development LMS drafts, uploads, links and submits; the instructor decides;
the badge is issued; another educator keeps a draft with a file), and a look at every row of
every table, to compare a restored database with the one backed up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from click.testing import Result
from flask import Flask
from sqlalchemy import select

from app.db import get_db
from app.evidence.models import EvidenceFile
from tests.badges.support import awards, process
from tests.evidence.support import (
    HINGE,
    INSTRUCTOR,
    LEARNER,
    OTHER_LEARNER,
    Session,
    add_activity,
    attempt_id,
    launch,
    start,
)
from tests.grading.support import decide, judgement, set_review
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers


def pdf(size: int) -> bytes:
    """A PDF-looking file of ``size`` bytes, random inside (a backup must copy every byte)."""
    head, tail = b"%PDF-1.7\n% evidence\n", b"\n%%EOF\n"
    return head + os.urandom(size - len(head) - len(tail)) + tail


PLAN = pdf(700 * 1024)
"""Larger than a read block of the store, so that the copies stream it in pieces."""
RESPONSES = pdf(40 * 1024)


@dataclass
class World:
    """What a restore must give back."""

    attempts: dict[int, str]
    """Every attempt's id and state."""
    files: dict[int, bytes]
    """Every evidence file's id and its bytes."""
    badges: list[str]
    """The public id of every badge issued."""
    draft: Session
    """The educator whose draft holds ``draft_file`` (their page is open)."""
    draft_file: int


def upload(educator: Session, attempt: int, part: str, name: str, content: bytes) -> int:
    """Upload a file through the files page's plain form; return its id."""
    response = educator.user.http.post(
        f"{educator.base}/work/attempts/{attempt}/parts/{part}/files",
        data={"lt": educator.token},
        files={"file": (name, content, "application/pdf")},
        timeout=60,
    )
    assert response.status_code == 200, response.text[:500]
    with get_db(educator.user.live.tool).begin() as session:
        return session.scalars(
            select(EvidenceFile.id)
            .where(EvidenceFile.attempt_id == attempt, EvidenceFile.part_key == part)
            .order_by(EvidenceFile.id.desc())
        ).first()


def build_world(live: LiveServers) -> World:
    """An earned badge with a file, a text answer and a link behind it; another educator's
    draft with a file and an answer."""
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, blind=False)
    activity = add_activity(live, HINGE)

    educator = launch(live, LEARNER, activity)
    earned = attempt_id(start(educator, HINGE).text)
    plan = upload(educator, earned, "lesson-plan", "Lesson plan, Year 7.pdf", PLAN)
    for part, text in (("overview", "My class of 28 and the hinge."), ("reflection", "I learned.")):
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
    decided = decide(launch(live, INSTRUCTOR, activity), earned, judgement())
    assert "Decision recorded: earned" in decided.text, decided.text[:800]
    process(live.tool)

    other = launch(live, OTHER_LEARNER, activity)
    draft = attempt_id(start(other, HINGE).text)
    responses = upload(other, draft, "response-evidence", "Responses.pdf", RESPONSES)
    assert other.put_json(
        f"/work/attempts/{draft}/answers/overview", {"text": "Half written.", "version": 0}
    ).ok

    issued = [award.public_id for award in awards(live.tool)]
    assert len(issued) == 1
    return World(
        attempts={earned: "earned", draft: "draft"},
        files={plan: PLAN, responses: RESPONSES},
        badges=issued,
        draft=other,
        draft_file=responses,
    )


def every_row(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the app's database, in primary-key order."""
    from app.models import metadata

    rows = {}
    with get_db(app).engine.connect() as connection:
        for table in metadata.sorted_tables:
            found = connection.execute(select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(row) for row in found]
    return rows


def run(app: Flask, *args: str) -> Result:
    """Run ``flask backup ARGS`` against ``app``; a refusal must not be a traceback."""
    result = app.test_cli_runner().invoke(args=["backup", *args])
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result

"""``flask privacy export``: one person's records, whole, and nobody else's (issue 23 part 2).

The world is made through the real pages of the tool launched from the development LMS, on
both databases, and with both evidence stores (the files' bytes come out of a folder or an S3
bucket)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import get_db
from tests.badges.support import add_educator
from tests.evidence.support import INSTRUCTOR, LEARNER
from tests.privacy.support import (
    ANSWER,
    BETA_ANSWER,
    FEEDBACK,
    OTHERS,
    OTHERS_ANSWER,
    build_world,
    everything,
    read_export,
    run,
)
from tests.support.live import LiveServers


def exports(app: Flask) -> list[AuditEvent]:
    with get_db(app).begin() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.export"))
        )


@pytest.mark.parametrize("store_kind", ["local", "s3"], indirect=True)
def test_export_by_email_joins_two_platforms_whole_and_nobody_elses(
    live: LiveServers, tmp_path: Path
) -> None:
    world = build_world(live)
    out = tmp_path / "records.zip"

    result = run(live.tool, "export", "--email", LEARNER, "--out", str(out))

    assert result.exit_code == 0, result.output
    assert "2 attempt(s), 3 file(s), 1 badge(s)" in result.output
    export = read_export(out)
    people = export.data["people"]
    assert sorted(p["platform"]["name"] for p in people) == sorted(["beta", world.devlms_platform])
    attempts = [a for p in people for a in p["attempts"]]
    assert len(attempts) == 2
    files = {f["name"]: f for a in attempts for f in a["files"]}
    assert set(files) == set(world.files)
    for name, content in world.files.items():
        assert export.entries[files[name]["path"]] == content, name
    answers = [answer["text"] for a in attempts for answer in a["answers"]]
    assert ANSWER in answers and BETA_ANSWER in answers
    links = [link["url"] for a in attempts for link in a["links"]]
    assert links == ["https://video.example.edu/lesson-12"]
    # The decision as the educator's outcome page showed it: its feedback, not who gave it.
    (decided,) = [a for a in attempts if a["decision"]]
    assert decided["decision"]["outcome"] == "earned"
    assert decided["decision"]["feedback"] == FEEDBACK
    (badge,) = [b for p in people for b in p["badges"]]
    assert badge["public_id"] == world.badge
    signed = json.loads(export.entries[badge["signed_credential"]])
    assert signed["proof"], signed
    assert export.entries[f"badges/{world.badge}.png"].startswith(b"\x89PNG")
    assert b"<svg" in export.entries[f"badges/{world.badge}.svg"]
    profile = next(p["profile"] for p in people if p["platform"]["name"] != "beta")
    assert profile["email"] == LEARNER and profile["sub"] == world.sub
    # The readable page: self-contained, no scripts, and it says what the data says.
    assert "<script" not in export.index.lower()
    assert ANSWER in export.index and FEEDBACK in export.index
    assert 'href="data.json"' in export.index
    # Nobody else's records: not the other educator's, not the reviewer's name or email.
    whole = everything(export)
    for foreign in (OTHERS, OTHERS_ANSWER.encode(), b"Priya", INSTRUCTOR.encode(), b"Alvarez"):
        assert foreign not in whole, foreign[:40]
    (event,) = exports(live.tool)
    assert event.actor == "cli"
    assert event.details["joined_by_email"] is True
    assert sorted(event.details["platforms"]) == sorted(["beta", world.devlms_platform])
    assert LEARNER not in json.dumps(event.details).lower()


def test_export_by_platform_and_sub_is_that_platform_only(
    live: LiveServers, tmp_path: Path
) -> None:
    world = build_world(live)
    out = tmp_path / "records.zip"

    result = run(
        live.tool,
        "export",
        "--platform",
        world.devlms_platform,
        "--sub",
        world.sub,
        "--out",
        str(out),
    )

    assert result.exit_code == 0, result.output
    export = read_export(out)
    (person,) = export.data["people"]
    assert person["platform"]["name"] == world.devlms_platform
    assert len(person["attempts"]) == 1
    assert BETA_ANSWER.encode() not in everything(export)
    (event,) = exports(live.tool)
    assert event.details["joined_by_email"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not-an-email"], "is not an email address"),
        (["--email", "nobody@example.edu"], "No platform has sent the tool that email"),
        (["--platform", "No such LMS", "--sub", "x"], "No platform is called"),
        (["--platform", "beta", "--sub", "someone-else"], "Nobody with that LMS user id"),
        (["--email", LEARNER, "--platform", "beta"], "Give either --platform with --sub"),
        ([], "Give either --platform with --sub"),
    ],
)
def test_a_records_request_that_names_nobody_is_refused_with_a_reason(
    app: Flask, tmp_path: Path, args: list[str], message: str
) -> None:
    add_educator(app, email=LEARNER, platform="beta")
    out = tmp_path / "records.zip"

    result = run(app, "export", *args, "--out", str(out))

    assert result.exit_code != 0
    assert message in result.output, result.output
    assert not out.exists() and not list(tmp_path.glob("*.part"))
    assert exports(app) == []

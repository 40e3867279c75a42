"""Files shared by carried-over attempts keep their bytes until the last row goes; abandoned
uploads are swept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.db import get_db, utcnow
from app.evidence import files
from app.evidence.models import EvidenceFile
from app.evidence.storage import CHUNK_SIZE
from app.lti.models import LtiUser
from tests.evidence.conftest import evidence_root, file_row, make_attempt


def carry_over(live, educator, file_id: int) -> int:
    """Copy a complete file into a second attempt, as resubmission does; return the copy's id."""
    with get_db(live.tool).begin() as session:
        sub = session.get(LtiUser, educator.user_id).sub
    second, _ = make_attempt(live, sub, number=2)
    with get_db(live.tool).begin() as session:
        original = session.get(EvidenceFile, file_id)
        copy = EvidenceFile(
            registration_id=original.registration_id,
            attempt_id=second,
            part_key=original.part_key,
            storage_key=original.storage_key,
            name=original.name,
            media_type=original.media_type,
            size=original.size,
            received=original.size,
            sha256=original.sha256,
            state=EvidenceFile.COMPLETE,
            completed_at=utcnow(),
        )
        session.add(copy)
        session.flush()
        return copy.id


def stored(live) -> list:
    return [p for p in evidence_root(live).rglob("*") if p.is_file()]


def test_bytes_shared_with_a_later_attempt_stay_until_the_last_row_goes(educator, live):
    done = educator.upload("plan.pdf", b"%PDF-1.4 shared", CHUNK_SIZE)
    copy_id = carry_over(live, educator, done["id"])
    assert educator.delete(done["id"]).status_code == 200
    assert len(stored(live)) == 1
    assert educator.download(copy_id).content == b"%PDF-1.4 shared"
    assert educator.delete(copy_id).status_code == 200
    assert stored(live) == []


def _age(live, file_id: int, hours: int) -> None:
    with get_db(live.tool).begin() as session:
        session.execute(
            update(EvidenceFile)
            .where(EvidenceFile.id == file_id)
            .values(created_at=utcnow() - timedelta(hours=hours))
        )


def test_sweep_removes_abandoned_uploads_and_keeps_recent_and_complete_ones(educator, live):
    done = educator.upload("plan.pdf", b"%PDF-1.4 kept", CHUNK_SIZE)
    _age(live, done["id"], 100)
    abandoned = educator.start("old.pdf", 2 * CHUNK_SIZE).json()["id"]
    educator.put(abandoned, 0, b"%PDF-1.4" + bytes(CHUNK_SIZE - 8))
    _age(live, abandoned, 49)
    recent = educator.start("new.pdf", 20).json()["id"]
    result = live.tool.test_cli_runner().invoke(args=["evidence", "sweep"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 abandoned upload." in result.output
    assert file_row(live, abandoned) is None
    assert file_row(live, recent) is not None
    assert educator.download(done["id"]).content == b"%PDF-1.4 kept"
    assert len(stored(live)) == 2  # the complete file and the recent upload's chunk file


def test_sweep_takes_its_age_from_the_command_line(educator, live):
    upload = educator.start("old.pdf", 20).json()["id"]
    _age(live, upload, 3)
    result = live.tool.test_cli_runner().invoke(args=["evidence", "sweep", "--hours", "2"])
    assert "Removed 1 abandoned upload." in result.output
    assert file_row(live, upload) is None


def test_the_stored_objects_are_listed_once_each_without_unfinished_uploads(educator, live):
    """What a backup copies (app/backup): one object per key, with every file that uses it."""
    done = educator.upload("plan.pdf", b"%PDF-1.4 shared", CHUNK_SIZE)
    copy_id = carry_over(live, educator, done["id"])
    other = educator.upload("notes.pdf", b"%PDF-1.4 other", CHUNK_SIZE)
    educator.start("unfinished.pdf", 20)
    with get_db(live.tool).begin() as session:
        objects = files.stored_objects(session)
        unfinished = files.unfinished_uploads(session)
    shared = file_row(live, done["id"])
    assert sorted((o.key, o.size, o.sha256, o.file_ids) for o in objects) == sorted(
        [
            (shared.storage_key, 15, done["sha256"], (done["id"], copy_id)),
            (file_row(live, other["id"]).storage_key, 14, other["sha256"], (other["id"],)),
        ]
    )
    assert unfinished == 1

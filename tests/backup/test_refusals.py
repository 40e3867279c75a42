"""What a backup refuses and reports (issue 29 item 6): each refusal exits non-zero with a
message that says what to do, never a traceback, and touches nothing it should not."""

from __future__ import annotations

import io
import json

from sqlalchemy import select

from app import create_app
from app.backup import databases, services
from app.backup.manifest import LOST, REMOVED, Absent
from app.db import get_db
from app.evidence.files import key_in_use
from app.evidence.models import EvidenceFile
from app.evidence.storage import evidence_store, new_key
from tests.backup.support import build_world, every_row, run
from tests.badges.support import load_sample
from tests.conftest import backend


def _key_of(app, file_id: int) -> str:
    with get_db(app).begin() as session:
        return session.get_one(EvidenceFile, file_id).storage_key


def _url(app) -> str:
    return app.config["MICROCRED_SETTINGS"].database_url


def _edit_manifest(folder, change) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


# --- Making a backup --------------------------------------------------------------------------


def test_a_backup_goes_into_a_new_or_empty_folder(app, tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "notes.txt").write_text("last week's")
    made = run(app, "create", str(folder))
    assert made.exit_code == 1
    assert "already holds files" in made.output and "Give a new (or empty) folder" in made.output
    assert [path.name for path in folder.iterdir()] == ["notes.txt"]


def test_a_file_missing_from_the_store_is_reported_and_the_rest_kept(live, tmp_path):
    world = build_world(live)
    with live.tool.app_context():
        evidence_store().delete(_key_of(live.tool, world.draft_file))
    folder = tmp_path / "backup"

    made = run(live.tool, "create", str(folder))
    assert made.exit_code == 1
    assert f"1 evidence file(s) (id {world.draft_file}) had no bytes in the store" in made.output
    assert "Find out why" in made.output
    absent = json.loads((folder / "manifest.json").read_text())["evidence"]["absent"]
    assert absent == [
        {
            "key": _key_of(live.tool, world.draft_file),
            "file_ids": [world.draft_file],
            "reason": LOST,
        }
    ]
    assert run(live.tool, "verify", str(folder)).exit_code == 0  # the backup holds the rest


def test_a_file_removed_after_the_snapshot_is_reported_not_silently_missing(
    live, restored, tmp_path
):
    """The database is copied first; a draft's file removed before its bytes are copied is
    absent from the backup, and every command says which one and why."""
    world = build_world(live)
    settings = live.tool.config["MICROCRED_SETTINGS"]
    key = _key_of(live.tool, world.draft_file)
    folder = tmp_path / "backup"

    def still_used(stored: str) -> bool:
        with get_db(live.tool).begin() as session:
            return key_in_use(session, stored)

    services.prepare(folder)
    taken = services.snapshot(settings.database_url, folder)
    removed = world.draft.post(f"/work/files/{world.draft_file}/remove")
    assert removed.status_code == 200, removed.text[:300]
    with live.tool.app_context():
        copied = services.copy_evidence(taken, evidence_store(), folder, still_used)
    services.finish(folder, taken, copied, secret_key=settings.secret_key, store_label="folder")

    assert copied.absent == [Absent(key, [world.draft_file], REMOVED)]
    checked = run(live.tool, "verify", str(folder))
    assert checked.exit_code == 0, checked.output
    said = f"1 evidence file(s) (id {world.draft_file}) had been removed"
    assert said in checked.output and "after the snapshot" in checked.output
    done = run(restored, "restore", str(folder))
    assert done.exit_code == 0, done.output
    assert said in done.output
    with restored.app_context():
        assert not evidence_store().exists(key)
    with get_db(restored).begin() as session:
        assert session.get(EvidenceFile, world.draft_file) is not None  # as at the snapshot


# --- Checking a backup ------------------------------------------------------------------------


def test_verify_finds_a_changed_file_and_restore_stops_before_the_database(
    live, restored, tmp_path
):
    build_world(live)
    folder = tmp_path / "backup"
    assert run(live.tool, "create", str(folder)).exit_code == 0
    (damaged,) = [p for p in (folder / "evidence").rglob("*") if p.stat().st_size > 500_000]
    data = bytearray(damaged.read_bytes())
    data[300_000] ^= 0x01
    damaged.write_bytes(bytes(data))
    shown = damaged.relative_to(folder).as_posix()

    checked = run(live.tool, "verify", str(folder))
    assert checked.exit_code == 1
    assert f"{shown} does not have the SHA-256 the manifest records" in checked.output
    assert "do not restore it. Restore an earlier backup" in checked.output

    done = run(restored, "restore", str(folder))
    assert done.exit_code == 1
    assert shown in done.output and "The database was not touched" in done.output
    assert databases.holds_data(_url(restored)) == []
    with restored.app_context():
        assert damaged.name not in set(evidence_store().keys())


def test_a_backup_without_its_database_is_refused(app, restored, tmp_path):
    load_sample(app)
    folder = tmp_path / "backup"
    assert run(app, "create", str(folder)).exit_code == 0
    (dump,) = [p for p in folder.iterdir() if p.name.startswith("database.")]
    dump.unlink()

    checked = run(app, "verify", str(folder))
    assert checked.exit_code == 1 and f"{dump.name} is missing" in checked.output
    done = run(restored, "restore", str(folder))
    assert done.exit_code == 1
    assert f"This backup is incomplete: {dump.name} is missing" in done.output
    assert "flask backup verify" in done.output


def test_a_folder_that_is_not_a_backup_is_said_to_be_one(app, tmp_path):
    checked = run(app, "verify", str(tmp_path))
    assert checked.exit_code == 1
    assert "holds no manifest.json: it is not a backup, or its making did not finish" in (
        checked.output
    )


def test_a_manifest_naming_a_path_outside_the_backup_is_refused(app, tmp_path):
    folder = tmp_path / "backup"
    assert run(app, "create", str(folder)).exit_code == 0
    entry = {"key": "../../../../etc/passwd", "size": 1, "sha256": "0" * 64}
    _edit_manifest(folder, lambda m: m["evidence"]["objects"].append(entry))
    checked = run(app, "verify", str(folder))
    assert checked.exit_code == 1
    assert "manifest.json of this backup cannot be read" in checked.output


# --- Restoring a backup -----------------------------------------------------------------------


def test_a_backup_restores_only_into_the_kind_of_database_it_was_made_from(
    app, restored_settings, tmp_path
):
    load_sample(app)
    folder = tmp_path / "backup"
    assert run(app, "create", str(folder)).exit_code == 0
    if backend() == "postgresql":
        other, made, into = f"sqlite:///{tmp_path / 'other.sqlite'}", "PostgreSQL", "SQLite"
    else:  # refused before anything connects: no server needed at this address
        other, made, into = (
            "postgresql+psycopg://microcred@127.0.0.1:9/nowhere",
            "SQLite",
            "PostgreSQL",
        )
    target = create_app({**restored_settings, "MICROCRED_DATABASE_URL": other})
    try:
        done = run(target, "restore", str(folder))
    finally:
        target.extensions["db"].dispose()
    assert done.exit_code == 1
    assert f"This backup holds a {made} database; MICROCRED_DATABASE_URL points at {into}" in (
        done.output
    )
    assert f"Set MICROCRED_DATABASE_URL to an empty {made} database" in done.output


def test_a_backup_made_under_another_secret_key_is_refused_unless_told(
    app, restored_settings, tmp_path
):
    load_sample(app)
    folder = tmp_path / "backup"
    assert run(app, "create", str(folder)).exit_code == 0
    target = create_app(
        {**restored_settings, "MICROCRED_SECRET_KEY": "another-secret-key-of-enough-length-0123"}
    )
    try:
        done = run(target, "restore", str(folder))
        assert done.exit_code == 1
        assert "made by a tool with another MICROCRED_SECRET_KEY" in done.output
        assert databases.holds_data(_url(target)) == []
        forced = run(target, "restore", "--other-secret-key", str(folder))
        assert forced.exit_code == 0, forced.output
    finally:
        target.extensions["db"].dispose()


def test_a_backup_of_a_newer_revision_is_refused(app, restored, tmp_path):
    folder = tmp_path / "backup"
    assert run(app, "create", str(folder)).exit_code == 0
    _edit_manifest(folder, lambda m: m["database"].update(revision="9999_from_the_future"))
    done = run(restored, "restore", str(folder))
    assert done.exit_code == 1
    assert "revision 9999_from_the_future, which this version of Microcred does not know" in (
        done.output
    )
    assert "Restore it with that version of Microcred or a newer one" in done.output


def test_a_database_holding_data_is_replaced_only_when_told(app, restored, tmp_path):
    load_sample(app)
    folder = tmp_path / "backup"
    assert run(app, "create", str(folder)).exit_code == 0
    assert run(restored, "restore", str(folder)).exit_code == 0

    again = run(restored, "restore", str(folder))
    assert again.exit_code == 1
    assert "already holds data" in again.output and "--replace-database" in again.output
    replaced = run(restored, "restore", "--replace-database", str(folder))
    assert replaced.exit_code == 0, replaced.output
    assert every_row(restored) == every_row(app)


def test_a_store_holding_files_is_added_to_only_when_told(live, restored, tmp_path):
    world = build_world(live)
    folder = tmp_path / "backup"
    assert run(live.tool, "create", str(folder)).exit_code == 0
    already = new_key()
    with restored.app_context():
        evidence_store().put(already, io.BytesIO(b"%PDF-1.7 already there"))

    done = run(restored, "restore", str(folder))
    assert done.exit_code == 1
    assert "already holds files" in done.output and "--into-nonempty-store" in done.output
    assert databases.holds_data(_url(restored)) == []
    added = run(restored, "restore", "--into-nonempty-store", str(folder))
    assert added.exit_code == 0, added.output
    with restored.app_context():
        keys = set(evidence_store().keys())
    with get_db(restored).begin() as session:
        restored_keys = set(session.scalars(select(EvidenceFile.storage_key)))
    assert keys == restored_keys | {already}
    assert len(restored_keys) == len(world.files)


def test_a_backup_that_fails_leaves_no_folder_behind(app, settings_override, tmp_path):
    nowhere = f"sqlite:///{tmp_path / 'no' / 'such' / 'microcred.sqlite'}"
    target = create_app({**settings_override, "MICROCRED_DATABASE_URL": nowhere})
    folder = tmp_path / "backup"
    try:
        made = run(target, "create", str(folder))
    finally:
        target.extensions["db"].dispose()
    assert made.exit_code == 1
    assert "There is no database file at" in made.output and "MICROCRED_DATABASE_URL" in made.output
    assert not folder.exists()

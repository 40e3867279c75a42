"""A backup restored into a fresh database and a fresh evidence store gives back every attempt,
file and badge (issue 29 item 6): on SQLite and on PostgreSQL (``MICROCRED_TEST_DATABASE``),
from a local folder and from an S3-compatible bucket; the restored tool still signs with the
keys it had, and its badges still verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from app import migrate
from app.badges import identity, proofs
from app.badges.models import Award, IssuerKey
from app.badges.services import signer_of, site_of
from app.db import get_db
from app.evidence.models import Attempt, EvidenceFile
from app.evidence.storage import evidence_store
from app.lti import keys, runtime
from tests.backup.support import build_world, every_row, run
from tests.badges.support import load_sample


@pytest.mark.parametrize("store_kind", ["local", "s3"], indirect=True)
def test_a_restored_backup_gives_back_every_attempt_file_and_badge(
    live, restored, tmp_path, store_kind
):
    world = build_world(live)
    folder = tmp_path / "backup"

    made = run(live.tool, "create", str(folder))
    assert made.exit_code == 0, made.output
    done = run(restored, "restore", str(folder))
    assert done.exit_code == 0, done.output

    assert every_row(restored) == every_row(live.tool)
    with get_db(restored).begin() as session:
        attempts = {row.id: row.state for row in session.scalars(select(Attempt))}
        stored = {row.id: row.storage_key for row in session.scalars(select(EvidenceFile))}
        public_ids = [row.public_id for row in session.scalars(select(Award))]
    assert attempts == world.attempts
    assert stored.keys() == world.files.keys()
    with restored.app_context():
        for file_id, content in world.files.items():
            assert b"".join(evidence_store().read(stored[file_id])) == content
    assert public_ids == world.badges


@pytest.mark.parametrize("store_kind", ["local", "s3"], indirect=True)
def test_the_restored_tool_signs_with_its_keys_and_its_badges_verify(
    live, restored, tmp_path, store_kind
):
    """The tool's LTI keys and the issuers' badge keys are rows of the database, encrypted with
    the secret key: restored with the same secret, they sign again."""
    world = build_world(live)
    published = live.tool.test_client().get("/lti/jwks").get_json()  # its first key made
    run(live.tool, "create", str(tmp_path / "backup"))
    assert run(restored, "restore", str(tmp_path / "backup")).exit_code == 0

    (public_id,) = world.badges
    client = restored.test_client()
    page = client.get(f"/badges/{public_id}").get_data(as_text=True)
    assert "passed" in page and "failed" not in page
    assert client.get("/lti/jwks").get_json() == published
    with restored.app_context(), get_db(restored).begin() as session:
        (award,) = session.scalars(select(Award))
        resolver = identity.resolver(session, site_of(restored))
        verified = proofs.verify(award.credential_json, resolver)
        assert verified.ok, verified.reason
        (key,) = session.scalars(select(IssuerKey))
        identity.private_key(key, signer_of(restored).cipher)  # decrypts: the issuer signs again
        keys.signing_key(session, runtime().cipher)  # so does the tool, for its LTI messages


def test_the_backup_lists_what_it_holds_and_verifies(live, tmp_path):
    world = build_world(live)
    folder = tmp_path / "backup"
    assert run(live.tool, "create", str(folder)).exit_code == 0

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format_version"] == 1
    assert manifest["database"]["kind"] == get_db(live.tool).engine.dialect.name
    assert manifest["database"]["rows"]["evidence_attempt"] == len(world.attempts)
    assert manifest["database"]["rows"]["badges_award"] == 1
    objects = {entry["key"]: entry for entry in manifest["evidence"]["objects"]}
    with get_db(live.tool).begin() as session:
        rows = list(session.scalars(select(EvidenceFile)))
    assert {row.storage_key for row in rows} == objects.keys()
    for row in rows:
        assert objects[row.storage_key]["sha256"] == row.sha256
        assert objects[row.storage_key]["size"] == len(world.files[row.id])

    checked = run(live.tool, "verify", str(folder))
    assert checked.exit_code == 0, checked.output
    assert "2 attempts" in checked.output and "1 badge" in checked.output
    assert "The backup is intact" in checked.output


def test_a_new_backup_folder_is_readable_by_its_owner_only(app, tmp_path):
    folder = tmp_path / "backup"
    assert run(app, "create", str(folder)).exit_code == 0
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_database_made_by_the_migrations_and_never_used_counts_as_empty(app, restored, tmp_path):
    load_sample(app)
    folder = tmp_path / "backup"
    assert run(app, "create", str(folder)).exit_code == 0
    url = restored.config["MICROCRED_SETTINGS"].database_url
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    migrate.upgrade(url)

    done = run(restored, "restore", str(folder))
    assert done.exit_code == 0, done.output
    assert every_row(restored) == every_row(app)

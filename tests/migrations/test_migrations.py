"""The Alembic migrations build exactly the models' schema, undo it cleanly, and run from the CLI.

The round trip and the drift check run on the backend the suite runs on
(``MICROCRED_TEST_DATABASE``): a temporary SQLite file, or a fresh database on the session's
throwaway PostgreSQL server. A migration may work on one backend and not on the other, and CI runs
the suite on each (``make test`` and ``make test DB=postgresql``); running both backends in both
runs only did the same work twice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String, create_engine, func, inspect, select

from app import migrate
from app.models import metadata
from config import PROJECT_ROOT
from tests.conftest import backend

MODEL_TABLES = frozenset(metadata.tables)
VERSION_TABLE = "alembic_version"


@pytest.fixture
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database on the backend this run tests."""
    if backend() == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.sqlite'}"
    server = request.getfixturevalue("postgres_server")
    return str(server.create_database(f"microcred_migrations_{uuid.uuid4().hex[:12]}"))


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))


def schema_diffs(url: str, target: MetaData) -> list[Any]:
    """What autogenerate would put in a new migration to bring the database to ``target``."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, target))
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    url = empty_database
    head = script_directory().get_current_head()
    assert table_names(url) == set()

    migrate.upgrade(url)
    assert table_names(url) == MODEL_TABLES | {VERSION_TABLE}
    assert current_revision(url) == head

    migrate.downgrade(url, "base")
    assert table_names(url) == {VERSION_TABLE}
    assert current_revision(url) is None

    migrate.upgrade(url)
    assert table_names(url) == MODEL_TABLES | {VERSION_TABLE}
    assert current_revision(url) == head


def test_every_revision_downgrades_and_upgrades_again(empty_database: str) -> None:
    """Each migration's downgrade undoes its upgrade, not only the chain as a whole."""
    url = empty_database
    revisions = list(reversed(list(script_directory().walk_revisions("base", "heads"))))
    assert revisions, "no migrations found"
    for revision in revisions:
        before = table_names(url)
        migrate.upgrade(url, revision.revision)
        after = table_names(url)
        migrate.downgrade(url, revision.down_revision or "base")
        assert table_names(url) == before | {VERSION_TABLE}, revision.revision
        migrate.upgrade(url, revision.revision)
        assert table_names(url) == after, revision.revision
        assert current_revision(url) == revision.revision
    assert table_names(url) == MODEL_TABLES | {VERSION_TABLE}


def test_models_match_migrations(empty_database: str) -> None:
    """A model change without a migration fails here: autogenerate must find nothing to do."""
    url = empty_database
    migrate.upgrade(url)
    diffs = schema_diffs(url, metadata)
    assert diffs == [], (
        "app.models and the migrations differ; write a migration "
        f"(`alembic revision --autogenerate -m ...`):\n{diffs}"
    )
    # The same comparison through migrations/env.py, as `alembic check` does it.
    command.check(migrate.alembic_config(url))


def test_drift_check_notices_model_changes(empty_database: str) -> None:
    """The comparison above has teeth: a new column and changed types are reported."""
    url = empty_database
    migrate.upgrade(url)
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["lti_state"].append_column(Column("note", String(50)))
    changed.tables["lti_user"].c.email.type = String(100)
    changed.tables["lti_context"].c.updated_at.type = String(40)  # was UTCDateTime

    found = set()
    for diff in schema_diffs(url, changed):
        for entry in diff if isinstance(diff, list) else [diff]:
            if entry[0] == "add_column":
                found.add((entry[0], entry[2], entry[3].name))
            else:
                found.add((entry[0], entry[2], entry[3]))
    assert found == {
        ("add_column", "lti_state", "note"),
        ("modify_type", "lti_user", "email"),
        ("modify_type", "lti_context", "updated_at"),
    }


def _flask_command() -> list[str]:
    script = shutil.which("flask", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "flask"]


def _run_flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*_flask_command(), "--app", "app", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, (
        f"flask {' '.join(args)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result


def _row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: connection.scalar(select(func.count()).select_from(table)) or 0
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_cli_upgrade_then_demo_seed_twice(empty_database: str, tmp_path: Path) -> None:
    url = empty_database
    instance = tmp_path / "instance"
    env = {key: value for key, value in os.environ.items() if not key.startswith("MICROCRED_")}
    env.update(
        MICROCRED_DATABASE_URL=url,
        MICROCRED_INSTANCE_PATH=str(instance),
        MICROCRED_LOG_LEVEL="WARNING",
    )

    upgraded = _run_flask(env, "db", "upgrade")
    assert "Database upgraded to head." in upgraded.stdout
    assert table_names(url) == MODEL_TABLES | {VERSION_TABLE}
    assert current_revision(url) == script_directory().get_current_head()

    first = _run_flask(env, "demo", "seed")
    assert "Demo course ready" in first.stdout
    seeded = _row_counts(url)
    for table in (
        "devlms_course",
        "devlms_user",
        "devlms_enrolment",
        "devlms_tool",
        "devlms_link",
        "lti_registration",
        "lti_deployment",
    ):
        assert seeded[table] > 0, table

    second = _run_flask(env, "demo", "seed")
    assert "Demo course ready" in second.stdout
    assert _row_counts(url) == seeded

    # Upgrading an up-to-date database changes nothing.
    _run_flask(env, "db", "upgrade")
    assert _row_counts(url) == seeded


def test_0004_fills_the_registration_of_existing_courses_links_and_key_schedule(
    empty_database: str,
) -> None:
    """Rows written before 0004 name their registration afterwards; old keys keep signing."""
    from sqlalchemy import text

    migrate.upgrade(empty_database, "0003")
    engine = create_engine(empty_database)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO lti_registration (id, uuid, name, issuer, client_id,"
                    " auth_login_url, auth_token_url, key_set_url, platform_family,"
                    " auto_approve_deployments, frame_origins, created_at) VALUES"
                    " (7, 'u-7', 'LMS', 'https://lms', 'c', 'a', 't', 'k', 'moodle', :f, '[]',"
                    " :now)"
                ),
                {"f": False, "now": "2026-01-01 00:00:00+00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO lti_deployment (id, registration_id, deployment_id, status,"
                    " created_at) VALUES (3, 7, '1', 'active', :now)"
                ),
                {"now": "2026-01-01 00:00:00+00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO lti_context (id, deployment_id, context_id, updated_at)"
                    " VALUES (5, 3, 'course', :now)"
                ),
                {"now": "2026-01-01 00:00:00+00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO lti_resource_link (id, context_id, resource_link_id, updated_at)"
                    " VALUES (9, 5, 'link', :now)"
                ),
                {"now": "2026-01-01 00:00:00+00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO lti_tool_key (id, kid, public_jwk, private_key_encrypted,"
                    " status, created_at) VALUES (1, 'kid', '{}', 'x', 'active', :now)"
                ),
                {"now": "2026-01-02 03:04:05+00:00"},
            )
        migrate.upgrade(empty_database)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT registration_id FROM lti_context")) == 7
            assert connection.scalar(text("SELECT registration_id FROM lti_resource_link")) == 7
            signs_from = connection.scalar(text("SELECT signs_from FROM lti_tool_key"))
            assert str(signs_from).startswith("2026-01-02 03:04:05")
            assert connection.scalar(text("SELECT is_active FROM lti_registration")) in (True, 1)
        migrate.downgrade(empty_database, "0003")
    finally:
        engine.dispose()


def test_0006_keeps_existing_accounts_operators_and_counts_draft_saves_from_one(
    empty_database: str,
) -> None:
    """Accounts made before authoring accounts existed keep their full powers."""
    from sqlalchemy import text

    migrate.upgrade(empty_database, "0005")
    engine = create_engine(empty_database)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO admin_operator (id, email, name, password_hash, is_active,"
                    " created_at) VALUES (1, 'op@example.org', 'Op', 'h', :t, :now)"
                ),
                {"t": True, "now": "2026-01-01 00:00:00+00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO catalog_organisation (id, slug, name, url, email, description,"
                    " created_at) VALUES (1, 'org', 'Org', 'https://org', 'a@org', '', :now)"
                ),
                {"now": "2026-01-01 00:00:00+00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO catalog_credential (id, slug, organisation_id, created_at)"
                    " VALUES (1, 'cred', 1, :now)"
                ),
                {"now": "2026-01-01 00:00:00+00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO catalog_credential_version (id, credential_id, number, status,"
                    " content, title, short_description, tags, created_at) VALUES"
                    " (1, 1, 1, 'draft', '{}', 'T', 'S', '[]', :now)"
                ),
                {"now": "2026-01-01 00:00:00+00:00"},
            )
        migrate.upgrade(empty_database)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT is_operator FROM admin_operator")) in (True, 1)
            assert connection.scalar(text("SELECT revision FROM catalog_credential_version")) == 1
        migrate.downgrade(empty_database, "0005")
    finally:
        engine.dispose()


def test_0013_clears_the_bare_host_audiences_dynamic_registration_stored(
    empty_database: str,
) -> None:
    """A Canvas registered dynamically kept ``sso.canvaslms.com`` as its token audience (so no
    access token); afterwards it has none (the token URL). URLs, and what operators typed, stay."""
    from sqlalchemy import text

    rows = [
        (1, "dynamic", "sso.canvaslms.com"),
        (2, "dynamic", "https://auth.lms.example/token"),
        (3, "dynamic", "HTTP://127.0.0.1:5001/token"),
        (4, "dynamic", None),
        (5, "manual", "sso.canvaslms.com"),
        (6, "cli", "lms-audience"),
    ]
    migrate.upgrade(empty_database, "0012")
    engine = create_engine(empty_database)

    def audiences() -> dict[int, str | None]:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT id, auth_audience FROM lti_registration"))
            return {row.id: row.auth_audience for row in found}

    try:
        with engine.begin() as connection:
            for id_, source, audience in rows:
                connection.execute(
                    text(
                        "INSERT INTO lti_registration (id, uuid, name, issuer, client_id,"
                        " auth_login_url, auth_token_url, auth_audience, key_set_url,"
                        " platform_family, auto_approve_deployments, is_active, source,"
                        " frame_origins, created_at) VALUES (:id, :uuid, 'LMS', 'https://lms',"
                        " :client, 'a', 't', :audience, 'k', 'canvas', :f, :t, :source, '[]',"
                        " :now)"
                    ),
                    {
                        "id": id_,
                        "uuid": f"u-{id_}",
                        "client": f"c-{id_}",
                        "audience": audience,
                        "source": source,
                        "f": False,
                        "t": True,
                        "now": "2026-01-01 00:00:00+00:00",
                    },
                )
        migrate.upgrade(empty_database, "0013")
        expected = {
            1: None,
            2: "https://auth.lms.example/token",
            3: "HTTP://127.0.0.1:5001/token",
            4: None,
            5: "sso.canvaslms.com",
            6: "lms-audience",
        }
        assert audiences() == expected
        migrate.downgrade(empty_database, "0012")
        assert audiences() == expected
    finally:
        engine.dispose()


_ONE_COLUMN = (
    "INSERT INTO lti_registration (id, uuid, name, issuer, client_id, auth_login_url,"
    " auth_token_url, key_set_url, platform_family, auto_approve_deployments,"
    " created_at) VALUES (1, 'u-1', 'LMS', 'https://lms', 'c', 'a', 't', 'k',"
    " :family, :f, :now)",
    "INSERT INTO lti_deployment (id, registration_id, deployment_id, status,"
    " created_at) VALUES (1, 1, '1', 'active', :now)",
    "INSERT INTO lti_context (id, registration_id, deployment_id, context_id,"
    " updated_at) VALUES (1, 1, 1, 'course', :now)",
    "INSERT INTO lti_resource_link (id, registration_id, context_id, resource_link_id,"
    " updated_at) VALUES (1, 1, 1, 'link', :now)",
    "INSERT INTO lti_line_item (id, registration_id, resource_link_id, url, scopes,"
    " updated_at) VALUES (1, 1, 1, 'https://lms/li/1', '[]', :now)",
)
"""One platform (family ``:family``), its course, a link and the link's gradebook column; the
learners and their cells come after (their rows refer to these)."""


def test_0016_keeps_scores_and_turns_its_new_states_into_the_old_ones_on_downgrade(
    empty_database: str,
) -> None:
    """Rows written before 0016 keep their meaning; on the way back a teacher's grade found
    standing is "delivered" again and a cell of a link without a column "failed"."""
    from sqlalchemy import text

    migrate.upgrade(empty_database, "0015")
    now = {"now": "2026-01-01 00:00:00+00:00"}
    engine = create_engine(empty_database)
    try:
        with engine.begin() as connection:
            for statement in (
                *_ONE_COLUMN,
                "INSERT INTO lti_user (id, registration_id, sub, updated_at)"
                " VALUES (1, 1, 'learner', :now), (2, 1, 'other', :now)",
                "INSERT INTO grading_score_delivery (id, registration_id, line_item_id, user_id,"
                " body, version, sent_version, status, desired_at, available_at, tries,"
                " created_at) VALUES (1, 1, 1, 1, '{}', 2, 2, 'delivered', :now, :now, 0, :now),"
                " (2, 1, 1, 2, '{}', 1, 0, 'pending', :now, :now, 0, :now)",
            ):
                connection.execute(text(statement), {**now, "f": False, "family": "moodle"})
        migrate.upgrade(empty_database, "0016")
        with engine.begin() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, status, resent_version, lms_score_given FROM"
                    " grading_score_delivery ORDER BY id"
                )
            ).all()
            assert [tuple(r) for r in rows] == [
                (1, "delivered", None, None),
                (2, "pending", None, None),
            ]
            assert connection.scalar(text("SELECT no_column FROM lti_line_item")) is None
            connection.execute(
                text(
                    "UPDATE grading_score_delivery SET status = CASE id WHEN 1 THEN 'overridden'"
                    " ELSE 'no_column' END"
                )
            )
        migrate.downgrade(empty_database, "0015")
        with engine.connect() as connection:
            statuses = connection.execute(
                text("SELECT status FROM grading_score_delivery ORDER BY id")
            ).scalars()
            assert list(statuses) == ["delivered", "failed"]
        migrate.upgrade(empty_database)
    finally:
        engine.dispose()


def test_0019_marks_the_cells_whose_lms_holds_a_decision_of_the_tools(
    empty_database: str,
) -> None:
    """A cell whose latest accepted score was a decision holds one; a cell whose latest was a
    submission (sent without preserve_score, so it cleared the grade) or that is pending does
    not."""
    from sqlalchemy import text

    migrate.upgrade(empty_database, "0018")
    now = {"now": "2026-01-01 00:00:00+00:00"}
    decided = '{"activityProgress": "Completed", "gradingProgress": "FullyGraded"}'
    pending = '{"activityProgress": "Submitted", "gradingProgress": "PendingManual"}'
    engine = create_engine(empty_database)
    try:
        with engine.begin() as connection:
            for statement in (
                *_ONE_COLUMN,
                "INSERT INTO lti_user (id, registration_id, sub, updated_at)"
                " VALUES (1, 1, 'a', :now), (2, 1, 'b', :now), (3, 1, 'c', :now)",
                "INSERT INTO grading_score_delivery (id, registration_id, line_item_id, user_id,"
                " body, version, sent_version, status, desired_at, available_at, tries,"
                " created_at) VALUES"
                " (1, 1, 1, 1, :decided, 2, 2, 'delivered', :now, :now, 0, :now),"
                " (2, 1, 1, 2, :pending, 3, 3, 'delivered', :now, :now, 0, :now),"
                " (3, 1, 1, 3, :decided, 1, 0, 'pending', :now, :now, 0, :now)",
            ):
                connection.execute(
                    text(statement),
                    {**now, "f": False, "family": "canvas", "decided": decided, "pending": pending},
                )
        migrate.upgrade(empty_database, "0019")
        with engine.connect() as connection:
            marked = connection.execute(
                text("SELECT decision_delivered FROM grading_score_delivery ORDER BY id")
            ).scalars()
            assert [bool(m) for m in marked] == [True, False, False]
        migrate.downgrade(empty_database, "0018")
        migrate.upgrade(empty_database)
    finally:
        engine.dispose()


_ONE_AWARD = (
    "INSERT INTO catalog_organisation (id, slug, name, url, email, description, blind_review,"
    " turnaround_days, created_at) VALUES (1, 'org', 'Org', 'https://org', 'b@org', '', :f, 14,"
    " :now)",
    "INSERT INTO catalog_credential (id, slug, organisation_id, created_at)"
    " VALUES (1, 'cred', 1, :now)",
    "INSERT INTO catalog_credential_version (id, credential_id, number, status, revision,"
    " content, title, short_description, tags, created_at)"
    " VALUES (1, 1, 1, 'published', 1, '{}', 'Cred', 'A credential.', '[]', :now)",
    "INSERT INTO badges_issuer_key (id, organisation_id, public_multibase, private_key_encrypted,"
    " state, created_at) VALUES (1, 1, 'z6Mk', 'x', 'active', :now)",
    "INSERT INTO badges_status_list (id, organisation_id, purpose, size, used, revision,"
    " created_at) VALUES (1, 1, 'revocation', 131072, 2, 1, :now)",
    "INSERT INTO lti_user (id, registration_id, sub, name, updated_at)"
    " VALUES (1, 1, 'educator', 'Ana Teacher', :now)",
)
"""An organisation with a published credential, its key and status list, and an educator."""

_AWARD = (
    "INSERT INTO badges_award (id, public_id, registration_id, user_id, credential_id,"
    " version_id, organisation_id, issuer_key_id, status_list_id, status_index, issued_at,"
    " recipient_name, recipient_type, recipient_salt, recipient_hash, credential_json,"
    " public_evidence) VALUES (:id, :public_id, 1, 1, 1, 1, 1, 1, 1, :id, :now, :name, 'email',"
    " 's', 'sha256$h', '{}', '[]')"
)


def test_0021_shows_names_as_before_and_a_nameless_badge_goes_back_empty(
    empty_database: str,
) -> None:
    """Organisations that existed show names in badges (as every badge did), educators have
    not chosen; a badge issued without a name keeps an empty one on the way back."""
    from sqlalchemy import text

    migrate.upgrade(empty_database, "0020")
    now = {"now": "2026-01-01 00:00:00+00:00", "f": False, "family": "moodle"}
    engine = create_engine(empty_database)
    try:
        with engine.begin() as connection:
            for statement in (*_ONE_COLUMN, *_ONE_AWARD):
                connection.execute(text(statement), now)
            connection.execute(
                text(_AWARD), {**now, "id": 1, "public_id": "named", "name": "Ana Teacher"}
            )
        migrate.upgrade(empty_database, "0021")
        with engine.begin() as connection:
            assert connection.scalar(text("SELECT badge_name_shown FROM catalog_organisation"))
            assert connection.scalar(text("SELECT name_in_badges FROM lti_user")) is None
            connection.execute(
                text(_AWARD), {**now, "id": 2, "public_id": "nameless", "name": None}
            )
            names = connection.execute(
                text("SELECT recipient_name FROM badges_award ORDER BY id")
            ).scalars()
            assert list(names) == ["Ana Teacher", None]
        migrate.downgrade(empty_database, "0020")
        with engine.connect() as connection:
            names = connection.execute(
                text("SELECT recipient_name FROM badges_award ORDER BY id")
            ).scalars()
            assert list(names) == ["Ana Teacher", ""]
        migrate.upgrade(empty_database)
    finally:
        engine.dispose()

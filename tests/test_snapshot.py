"""Seeded rows put back in a later test (``tests/support/snapshot.py``) are the rows the seeding
wrote, with the later servers' origins, and ids go on after them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import JSON, create_engine, insert, select

from app.devlms.models import DevUser
from app.devlms.seed import seed_demo
from app.models import metadata
from config import Settings, load_settings
from tests.conftest import empty_database, settings_for
from tests.support import snapshot

# The tool's first origin begins the LMS's: only a whole origin is swapped.
FIRST = {"tool": "http://127.0.0.1:4000", "lms": "http://127.0.0.1:40001"}
LATER = {"tool": "http://127.0.0.1:5100", "lms": "http://localhost:5"}


def _settings(origins: dict[str, str]) -> Settings:
    overrides = settings_for("sqlite://", Path("/nonexistent"))
    overrides.update(MICROCRED_BASE_URL=origins["tool"], MICROCRED_DEVLMS_URL=origins["lms"])
    return load_settings(overrides)


def _rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row, and for each JSON column whether it is SQL NULL (``None`` either way)."""
    engine = create_engine(url)
    rows = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            nulls = [
                c.is_(None).label(f"{c.name} is NULL")
                for c in table.columns
                if isinstance(c.type, JSON)
            ]
            rows[table.name] = [dict(r) for r in conn.execute(select(table, *nulls)).mappings()]
    engine.dispose()
    return {name: found for name, found in rows.items() if found}


def _seed(url: str, name: str, origins: dict[str, str]) -> None:
    from sqlalchemy.orm import Session

    engine = create_engine(url)
    with engine.connect() as connection:

        def seed() -> None:
            with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
                seed_demo(session, _settings(origins))

        snapshot.seeded(connection, name, origins, seed)
        connection.commit()
    engine.dispose()


def test_rows_come_back_with_the_later_origins_and_ids_go_on(clean_database, monkeypatch):
    url = clean_database
    monkeypatch.setattr(snapshot, "_kept", {})
    _seed(url, "demo", FIRST)
    written = _rows(url)
    empty_database(url)

    _seed(url, "demo", LATER)

    again = _rows(url)
    assert again.keys() == written.keys()
    text = repr(again)
    assert FIRST["tool"] not in text and FIRST["lms"] not in text
    assert again["devlms_tool"][0]["initiate_login_uri"] == LATER["tool"] + "/lti/login"
    assert again["lti_registration"][0]["issuer"] == LATER["lms"]
    assert again["devlms_tool"][0]["registration_document is NULL"]  # SQL NULL, not JSON null
    swapped = (
        repr(written).replace(FIRST["lms"], LATER["lms"]).replace(FIRST["tool"], LATER["tool"])
    )
    assert text == swapped
    engine = create_engine(url)
    with engine.begin() as conn:
        new = conn.execute(
            insert(DevUser).values(sub="x", given_name="x", family_name="", email="")
        ).inserted_primary_key
    engine.dispose()
    assert new is not None and new[0] == max(u["id"] for u in written["devlms_user"]) + 1


def test_a_seeding_that_adds_to_rows_already_there_runs_every_time(clean_database, monkeypatch):
    url = clean_database
    monkeypatch.setattr(snapshot, "_kept", {})
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(DevUser).values(sub="y", given_name="y", family_name="", email=""))
    engine.dispose()
    _seed(url, "demo", FIRST)
    assert snapshot._kept == {"demo": None}
    empty_database(url)
    _seed(url, "demo", LATER)
    assert _rows(url)["lti_registration"][0]["issuer"] == LATER["lms"]

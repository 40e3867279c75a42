"""Backup fixtures: the evidence store of the backed-up tool (a local folder, or a bucket on the
S3-compatible server), and a second tool on a fresh database and a fresh store of the same kind
to restore into — a new SQLite file, or a new database on the test PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import backend, settings_for
from tests.support.stores import settings_override, store_kind

__all__ = ["settings_override", "store_kind"]


@pytest.fixture
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has used: not migrated, no tables."""
    if backend() != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored' / 'microcred.sqlite'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"restored_{uuid.uuid4().hex[:10]}"
    yield server.create_database(name)
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def restored_settings(
    fresh_database_url: str, store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> dict[str, Any]:
    """The settings of a second tool standing in for the first (the same secret and base URL:
    badges name their issuer by it), on the fresh database and an empty store."""
    settings = settings_for(fresh_database_url, tmp_path / "restored-instance")
    if "live" in request.fixturenames:
        backed_up = request.getfixturevalue("live").tool.config["MICROCRED_SETTINGS"]
        settings["MICROCRED_BASE_URL"] = backed_up.base_url
        settings["MICROCRED_DEVLMS_URL"] = backed_up.devlms_url
    if store_kind == "s3":
        server = request.getfixturevalue("s3_server")
        settings.update(server.settings(server.new_bucket()))
    else:
        settings["MICROCRED_EVIDENCE_PATH"] = str(tmp_path / "restored-evidence")
    return settings


@pytest.fixture
def restored(restored_settings: dict[str, Any]) -> Iterator[Flask]:
    """The second tool, to restore into."""
    from app import create_app

    application = create_app(restored_settings)
    yield application
    application.extensions["db"].dispose()

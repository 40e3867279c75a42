"""The reset between tests: every row gone and ids from 1 again, on either database."""

from __future__ import annotations

from sqlalchemy import create_engine, func, insert, select

from app.devlms.models import DevCourse, DevUser
from tests.conftest import empty_database


def _add_user(url: str, name: str) -> int:
    engine = create_engine(url)
    with engine.begin() as conn:
        new = conn.execute(
            insert(DevUser).values(sub=name, given_name=name, family_name="", email="")
        ).inserted_primary_key
    engine.dispose()
    assert new is not None
    return int(new[0])


def test_every_row_goes_and_ids_start_again_from_one(clean_database):
    url = clean_database
    _add_user(url, "a")
    assert _add_user(url, "b") == 2
    engine = create_engine(url)
    with engine.connect() as conn:  # an insert rolled back still uses the table's sequence
        conn.execute(insert(DevCourse).values(title="t", label="l", context_id="c"))
        conn.rollback()
    engine.dispose()

    empty_database(url)

    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(DevUser)) == 0
        conn.execute(insert(DevCourse).values(title="t", label="l", context_id="c"))
        assert conn.scalar(select(DevCourse.id)) == 1
        conn.rollback()
    engine.dispose()
    assert _add_user(url, "c") == 1


def test_a_disposed_engines_pool_goes_to_the_next_unless_a_connection_is_out(
    database_url, monkeypatch
):
    """Tests reuse PostgreSQL pools (``tests/conftest.py``): a disposed engine's pool, with its
    idle connections, goes to the next engine of the database; one a connection is still out
    of goes to nobody, so no test can wait on what another left behind."""
    from app.db import Database
    from tests import conftest

    monkeypatch.setattr(conftest, "_free_pools", {})
    monkeypatch.setattr(conftest, "_shared_urls", {database_url})
    first = Database(database_url)
    with first.engine.connect():
        pass
    pool = first.engine.pool
    first.dispose()
    second = Database(database_url)
    assert second.engine.pool is pool
    held = second.engine.connect()
    second.dispose()
    third = Database(database_url)
    try:
        assert third.engine.pool is not pool
    finally:
        held.close()  # back into the pool no engine has
        pool.dispose()
        third.dispose()
        for pools in conftest._free_pools.values():
            for free in pools:
                free.dispose()

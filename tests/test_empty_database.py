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


def test_a_shared_pool_left_with_a_connection_out_is_replaced(database_url, monkeypatch):
    """Tests share PostgreSQL pools (``tests/conftest.py``); one a test left a connection
    checked out of is dropped, so the next test cannot wait on it."""
    from tests import conftest

    monkeypatch.setattr(conftest, "_shared_pools", {})
    kept, leaked = create_engine(database_url), create_engine(database_url)
    conftest._shared_pools[("kept", 1)] = kept.pool
    conftest._shared_pools[("leaked", 1)] = leaked.pool
    with kept.connect():
        pass
    held = leaked.connect()
    try:
        conftest._pools_checked_in()
        assert list(conftest._shared_pools) == [("kept", 1)]
    finally:
        held.close()
        kept.dispose()
        leaked.dispose()

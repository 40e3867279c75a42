"""The engine: pooled PostgreSQL connections the server dropped are replaced before use."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import db as db_module
from app.db import make_engine


def _terminate_other_backends(server, database: str) -> int:
    with psycopg.connect(
        f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True
    ) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def test_a_dropped_connection_that_sat_idle_is_replaced(postgres_server, monkeypatch):
    engine = make_engine(postgres_server.create_database("microcred_ping_test"))
    try:
        with engine.connect() as connection:
            first_pid = connection.scalar(text("SELECT pg_backend_pid()"))
        assert _terminate_other_backends(postgres_server, "microcred_ping_test") == 1

        monkeypatch.setattr(db_module.time, "monotonic", lambda: 10.0**9)  # long idle
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT pg_backend_pid()")) != first_pid
    finally:
        engine.dispose()


def test_a_connection_returned_moments_ago_is_used_without_a_ping(postgres_server):
    # No ping: the drop surfaces as one error, which invalidates the pool, and the next
    # checkout is a fresh connection. A busy server saves a round trip on every checkout.
    engine = make_engine(postgres_server.create_database("microcred_ping_test"))
    try:
        with engine.connect() as connection:
            first_pid = connection.scalar(text("SELECT pg_backend_pid()"))
        _terminate_other_backends(postgres_server, "microcred_ping_test")

        with pytest.raises(DBAPIError) as raised, engine.connect() as connection:
            connection.scalar(text("SELECT 1"))
        assert raised.value.connection_invalidated

        with engine.connect() as connection:
            assert connection.scalar(text("SELECT pg_backend_pid()")) != first_pid
    finally:
        engine.dispose()


def test_the_idle_ping_leaves_no_transaction_open(postgres_server, monkeypatch):
    """The ping's own transaction ends with it: the request's work starts a fresh one (a ping
    left "idle in transaction" made the request run in the ping's snapshot)."""
    engine = make_engine(postgres_server.create_database("microcred_ping_test"))
    try:
        with engine.connect() as connection:
            connection.scalar(text("SELECT 1"))
        monkeypatch.setattr(db_module.time, "monotonic", lambda: 10.0**9)  # long idle
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    finally:
        engine.dispose()

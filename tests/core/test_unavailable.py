"""A database that cannot be reached is a 503 "try again in a moment", not a 500 (issue 29).

The request failed for a reason that passes (a restart, a failover, a full pool): the page says
so in the app's one error form, JSON or HTML, with ``Retry-After``. A database error that is a
bug (SQLite's missing table) stays a 500."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from app import create_app
from app.db import db_session
from tests.conftest import TEST_SECRET, backend
from tests.support.postgres import free_port


def _token() -> str:
    """A correctly signed session token (its launch never needs to be found)."""
    serializer = URLSafeTimedSerializer(TEST_SECRET, salt="microcred-launch-session")
    return serializer.dumps({"l": "launch-1", "r": 1, "d": "d", "u": "u", "c": None, "k": None})


@pytest.fixture(params=["postgresql", "sqlite"])
def unreachable(request: pytest.FixtureRequest, settings_override: dict[str, Any], tmp_path: Path):
    """The tool on a database it cannot reach: a PostgreSQL port where nothing listens, or an
    SQLite file in a folder that does not exist."""
    url = (
        f"postgresql+psycopg://microcred@127.0.0.1:{free_port()}/x"
        if request.param == "postgresql"
        else f"sqlite:///{tmp_path}/gone/microcred.sqlite"
    )
    app = create_app({**settings_override, "MICROCRED_DATABASE_URL": url})
    yield app
    app.extensions["db"].dispose()


def test_a_page_on_an_unreachable_database_is_a_503_try_again(unreachable):
    response = unreachable.test_client().get("/home", query_string={"lt": _token()})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    page = response.get_data(as_text=True)
    assert "could not reach its database" in page
    assert "Try again in a moment" in page
    assert response.headers["X-Request-Id"] in page


def test_a_script_on_an_unreachable_database_gets_a_json_503(unreachable):
    response = unreachable.test_client().get(
        "/api/session", headers={"Authorization": f"Bearer {_token()}"}
    )
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["hint"].startswith("Try again in a moment")


def test_a_database_error_that_is_a_bug_stays_a_500(app):
    @app.get("/missing-table")
    def missing_table() -> str:
        db_session().execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    assert app.test_client().get("/missing-table").status_code == 500


@pytest.mark.skipif(backend() != "postgresql", reason="a server that drops a connection")
def test_a_page_made_before_the_database_dropped_its_connection_is_still_answered(app):
    """PostgreSQL killed after a request's last statement, before its end (seen on the
    cluster, tests/cluster/test_faults.py): the page is made, and the rollback that ends the
    request's transaction fails on the dropped connection. The page is answered all the same,
    and the next request on that thread gets a working session.

    The connection is cut under the driver (its socket shut), as a server killed outright
    leaves it, in a teardown that runs just before the one that ends the session."""

    @app.get("/reading")
    def reading() -> str:
        return str(db_session().execute(text("SELECT 41 + 1")).scalar_one())

    cut_next = []

    @app.teardown_appcontext
    def cut_the_connection(_exc: BaseException | None) -> None:
        session = app.extensions["db"].session
        if cut_next and session.registry.has() and session().in_transaction():
            cut_next.clear()
            driver = session().connection().connection.dbapi_connection
            with socket.socket(fileno=os.dup(driver.pgconn.socket)) as cut:
                cut.shutdown(socket.SHUT_RDWR)

    client = app.test_client()
    cut_next.append(True)
    response = client.get("/reading")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "42")
    again = client.get("/reading")
    assert (again.status_code, again.get_data(as_text=True)) == (200, "42")

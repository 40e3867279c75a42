"""Liveness and readiness for a load balancer (issue 29, docs/operating.md).

``/healthz/live`` says the process answers and touches nothing else; ``/healthz/ready`` (and
``/healthz``) checks every part the instance needs — database, state store, evidence store —
and answers 503 naming each it cannot reach, so a balancer sends that instance no traffic."""

from __future__ import annotations

from typing import Any

import pytest

from app import create_app
from tests.support.postgres import free_port


@pytest.fixture
def unreachable_database(settings_override: dict[str, Any]) -> Any:
    """The tool on a PostgreSQL address where nothing listens."""
    app = create_app(
        {
            **settings_override,
            "MICROCRED_DATABASE_URL": f"postgresql+psycopg://microcred@127.0.0.1:{free_port()}/x",
        }
    )
    yield app
    app.extensions["db"].dispose()


def test_readiness_reports_every_part_the_instance_needs(client):
    for path in ("/healthz/ready", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200
        report = response.get_json()
        assert report["status"] == "ready"
        assert {name: check["status"] for name, check in report["checks"].items()} == {
            "database": "ok",
            "state_store": "ok",
            "evidence_store": "ok",
        }
        assert report["checks"]["state_store"]["kind"] == "database"
        assert report["checks"]["evidence_store"]["kind"] == "local"


def test_readiness_names_the_database_when_it_cannot_be_reached(unreachable_database):
    response = unreachable_database.test_client().get("/healthz/ready")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    report = response.get_json()
    assert report["status"] == "not ready"
    assert report["checks"]["database"]["status"] == "unreachable"
    assert report["checks"]["evidence_store"]["status"] == "ok"
    assert "127.0.0.1" not in response.get_data(as_text=True)  # no addresses, no secrets


def test_liveness_answers_without_touching_the_database(unreachable_database):
    response = unreachable_database.test_client().get("/healthz/live")
    assert response.status_code == 200
    assert response.get_json() == {"status": "alive"}


def test_readiness_names_redis_when_it_cannot_be_reached(settings_override, own_redis):
    app = create_app({**settings_override, **own_redis.settings()})
    try:
        client = app.test_client()
        ready = client.get("/healthz/ready").get_json()
        assert ready["checks"]["state_store"] == {**ready["checks"]["state_store"], "status": "ok"}
        assert ready["checks"]["state_store"]["kind"] == "redis"
        own_redis.kill()
        response = client.get("/healthz/ready")
        assert response.status_code == 503
        checks = response.get_json()["checks"]
        assert checks["state_store"]["status"] == "unreachable"
        assert checks["database"]["status"] == "ok"
        assert client.get("/healthz/live").status_code == 200
    finally:
        app.extensions["db"].dispose()

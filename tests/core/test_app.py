"""The app shell: health check, error pages and JSON errors, request ids, JSON-lines logs."""

from __future__ import annotations

import json
import re

import pytest


def test_healthz_answers_ready(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ready"  # tests/core/test_health.py: the details


def test_unknown_page_is_a_friendly_404_with_request_id(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "There is no page at this address" in page
    assert response.headers["X-Request-Id"] in page


def test_errors_are_json_when_json_is_asked_for(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "http_404"
    assert error["request_id"] == response.headers["X-Request-Id"]


def test_wrong_method_is_405_with_allow_header(client):
    response = client.get("/lti/launch")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "launch the tool again" in response.get_data(as_text=True)


def test_unexpected_error_is_a_500_page_without_a_stack_trace(app, capsys):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page
    assert "secret internals" not in page and "Traceback" not in page
    logged = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    failure = next(entry for entry in logged if entry["msg"] == "unhandled error")
    assert "secret internals" in failure["exc"]
    assert failure["request_id"] == response.headers["X-Request-Id"]


def test_a_good_incoming_request_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-Id": "lb-1234567890"})
    assert response.headers["X-Request-Id"] == "lb-1234567890"


@pytest.mark.parametrize("bad", ["short", "has spaces in it!", "x" * 100])
def test_a_malformed_incoming_request_id_is_replaced(client, bad):
    response = client.get("/healthz", headers={"X-Request-Id": bad})
    assert response.headers["X-Request-Id"] != bad
    assert len(response.headers["X-Request-Id"]) == 32


def test_each_request_is_logged_as_one_json_line_without_query_string(settings_override, capsys):
    from app import create_app

    app = create_app({**settings_override, "MICROCRED_LOG_LEVEL": "INFO"})
    app.test_client().get("/healthz?login_hint=private")
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    entry = next(e for e in lines if e.get("path") == "/healthz")
    assert entry["status"] == 200 and entry["method"] == "GET" and entry["request_id"]
    assert "private" not in json.dumps(lines)
    app.extensions["db"].dispose()


def test_secret_tokens_in_paths_are_not_logged(settings_override, capsys):
    from app import create_app

    app = create_app({**settings_override, "MICROCRED_LOG_LEVEL": "INFO"})
    app.test_client().get("/lti/register/secret-registration-token-123")
    out = capsys.readouterr().out
    assert "secret-registration-token-123" not in out
    assert '"path": "/lti/register/\\u2026"' in out or '"/lti/register/…"' in out
    app.extensions["db"].dispose()


def test_home_page_lists_the_values_an_lms_admin_needs(client):
    page = client.get("/").get_data(as_text=True)
    assert "/lti/login" in page and "/lti/launch" in page and "/.well-known/jwks.json" in page


def test_the_browsers_icon_request_finds_the_logo(client):
    """Every browser asks for /favicon.ico; a 404 on each first page is noise in every log."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data
    page = client.get("/")
    assert 'rel="icon"' in page.get_data(as_text=True)


def test_make_runs_log_reads_as_text_one_line_per_request(settings_override, capsys):
    """Issue 28 item 14: `make run` printed every request as a JSON line, for a person at a
    terminal. MICROCRED_LOG_FORMAT=text (what `make run` sets) prints a line a person reads;
    the default stays JSON for log collectors."""
    from app import create_app
    from app.logs import configure_logging

    app = create_app(
        {**settings_override, "MICROCRED_LOG_LEVEL": "INFO", "MICROCRED_LOG_FORMAT": "text"}
    )
    try:
        app.test_client().get("/healthz?login_hint=private")
        out = capsys.readouterr().out
        line = next(line for line in out.splitlines() if "/healthz" in line)
        assert not line.startswith("{"), line
        assert re.search(r"^\d\d:\d\d:\d\d INFO +tool\.access +GET /healthz 200 [\d.]+ ms", line)
        assert "private" not in out
    finally:
        configure_logging("INFO", "json")
        app.extensions["db"].dispose()

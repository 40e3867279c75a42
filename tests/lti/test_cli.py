"""Operator commands: register a platform, approve a deployment."""

from __future__ import annotations

from sqlalchemy import select

from app.db import get_db
from app.lti.models import Deployment, Registration

MOODLE = [
    "--name",
    "District Moodle",
    "--issuer",
    "https://moodle.example.edu",
    "--client-id",
    "AbC123",
    "--auth-login-url",
    "https://moodle.example.edu/mod/lti/auth.php",
    "--token-url",
    "https://moodle.example.edu/mod/lti/token.php",
    "--jwks-url",
    "https://moodle.example.edu/mod/lti/certs.php",
    "--family",
    "moodle",
]


def test_platforms_add_registers_and_approves_deployments(app):
    result = app.test_cli_runner().invoke(
        args=["platforms", "add", *MOODLE, "--deployment-id", "3"]
    )
    assert result.exit_code == 0, result.output
    with get_db(app).begin() as session:
        registration = session.scalars(select(Registration)).one()
        assert registration.auth_token_url.endswith("token.php")
        assert [(d.deployment_id, d.status) for d in registration.deployments] == [("3", "active")]


def test_platforms_add_twice_updates_rather_than_duplicates(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["platforms", "add", *MOODLE])
    result = runner.invoke(
        args=["platforms", "add", *MOODLE[:-2], "--family", "generic", "--name", "Renamed"]
    )
    assert result.exit_code == 0, result.output
    with get_db(app).begin() as session:
        (registration,) = session.scalars(select(Registration)).all()
        assert registration.name == "Renamed"


def test_platforms_add_refuses_a_non_url(app):
    args = [*MOODLE]
    args[args.index("--token-url") + 1] = "token.php"
    result = app.test_cli_runner().invoke(args=["platforms", "add", *args])
    assert result.exit_code != 0
    assert "not an http(s) URL" in result.output


def test_approve_deployment_activates_a_pending_one(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["platforms", "add", *MOODLE])
    result = runner.invoke(
        args=[
            "platforms",
            "approve-deployment",
            "--issuer",
            "https://moodle.example.edu",
            "--client-id",
            "AbC123",
            "7",
        ]
    )
    assert result.exit_code == 0, result.output
    with get_db(app).begin() as session:
        assert session.scalars(select(Deployment)).one().status == Deployment.ACTIVE
    listing = runner.invoke(args=["platforms", "list"])
    assert "deployment 7\tactive" in listing.output


def test_approve_deployment_of_unknown_platform_says_so(app):
    result = app.test_cli_runner().invoke(
        args=["platforms", "approve-deployment", "--issuer", "x", "--client-id", "y", "1"]
    )
    assert result.exit_code != 0
    assert "No platform with issuer x" in result.output

"""``flask operator …`` and the audit records of ``flask platforms …`` (actor ``cli``)."""

from __future__ import annotations

from sqlalchemy import select

from app.admin import passwords
from app.admin.models import Operator
from app.db import get_db
from tests.admin.console import PASSWORD, events

CREATE = ["operator", "create", "--email", "Ada@Example.org", "--name", "Ada Lovelace"]
MOODLE = [
    "--name", "District Moodle",
    "--issuer", "https://moodle.example.edu",
    "--client-id", "AbC123",
    "--auth-login-url", "https://moodle.example.edu/mod/lti/auth.php",
    "--token-url", "https://moodle.example.edu/mod/lti/token.php",
    "--jwks-url", "https://moodle.example.edu/mod/lti/certs.php",
    "--family", "moodle",
]  # fmt: skip


def _operator(app, email="ada@example.org"):
    with get_db(app).begin() as session:
        return session.scalars(select(Operator).where(Operator.email == email)).one_or_none()


def test_create_reads_the_password_twice_at_a_hidden_prompt(app):
    result = app.test_cli_runner().invoke(args=CREATE, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    operator = _operator(app)
    assert operator is not None
    assert operator.name == "Ada Lovelace"
    assert passwords.verify(operator.password_hash, PASSWORD).ok


def test_create_with_password_stdin_for_scripts(app):
    result = app.test_cli_runner().invoke(args=[*CREATE, "--password-stdin"], input=PASSWORD)
    assert result.exit_code == 0, result.output
    assert "Operator ada@example.org created" in result.output
    assert "/admin/" in result.output


def test_create_stores_the_email_lower_cased(app):
    app.test_cli_runner().invoke(args=[*CREATE, "--password-stdin"], input=PASSWORD)
    assert _operator(app, "ada@example.org") is not None


def test_create_refuses_a_password_shorter_than_12(app):
    result = app.test_cli_runner().invoke(args=[*CREATE, "--password-stdin"], input="short\n")
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert _operator(app) is None


def test_create_refuses_a_duplicate_email_clearly(app):
    runner = app.test_cli_runner()
    runner.invoke(args=[*CREATE, "--password-stdin"], input=PASSWORD)
    again = [*CREATE, "--password-stdin"]
    again[again.index("Ada@Example.org")] = "ADA@example.org"
    result = runner.invoke(args=again, input=PASSWORD)
    assert result.exit_code != 0
    assert "There is already an operator with the email ada@example.org" in result.output
    assert "set-password" in result.output


def test_create_refuses_what_is_not_an_email(app):
    args = [*CREATE, "--password-stdin"]
    args[args.index("Ada@Example.org")] = "ada"
    result = app.test_cli_runner().invoke(args=args, input=PASSWORD)
    assert result.exit_code != 0
    assert "is not an email address" in result.output


def test_create_is_recorded_with_actor_cli(app):
    app.test_cli_runner().invoke(args=[*CREATE, "--password-stdin"], input=PASSWORD)
    (event,) = events(app)
    assert (event.actor, event.action, event.target) == (
        "cli",
        "operator.created",
        "operator:ada@example.org",
    )
    assert event.operator_id is None


def test_list_shows_operators(app):
    runner = app.test_cli_runner()
    runner.invoke(args=[*CREATE, "--password-stdin"], input=PASSWORD)
    result = runner.invoke(args=["operator", "list"])
    assert result.exit_code == 0
    assert "ada@example.org\tAda Lovelace\tactive\tlast sign-in never" in result.output


def test_list_without_operators_says_how_to_create_one(app):
    result = app.test_cli_runner().invoke(args=["operator", "list"])
    assert "flask operator create" in result.output


def test_set_password_replaces_the_password_and_is_recorded(app):
    runner = app.test_cli_runner()
    runner.invoke(args=[*CREATE, "--password-stdin"], input=PASSWORD)
    result = runner.invoke(
        args=["operator", "set-password", "--email", "ada@example.org", "--password-stdin"],
        input="a brand new passphrase\n",
    )
    assert result.exit_code == 0, result.output
    operator = _operator(app)
    assert passwords.verify(operator.password_hash, "a brand new passphrase").ok
    assert not passwords.verify(operator.password_hash, PASSWORD).ok
    assert [e.action for e in events(app)] == ["operator.created", "operator.password_set"]


def test_set_password_for_an_unknown_email_says_so(app):
    result = app.test_cli_runner().invoke(
        args=["operator", "set-password", "--email", "nobody@example.org", "--password-stdin"],
        input=PASSWORD,
    )
    assert result.exit_code != 0
    assert "There is no operator with the email nobody@example.org" in result.output


def test_platforms_add_is_recorded_as_created_then_updated(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["platforms", "add", *MOODLE, "--deployment-id", "3"])
    runner.invoke(args=["platforms", "add", *MOODLE])
    first, second = events(app)
    assert (first.actor, first.action) == ("cli", "registration.created")
    assert first.details["approved_deployments"] == ["3"]
    assert (second.actor, second.action) == ("cli", "registration.updated")
    assert first.target == second.target
    assert first.target.startswith("registration:")


def test_platforms_add_marks_the_registration_as_made_by_the_cli(app):
    from app.lti.models import Registration

    app.test_cli_runner().invoke(args=["platforms", "add", *MOODLE])
    with get_db(app).begin() as session:
        assert session.scalars(select(Registration)).one().source == "cli"


def test_approve_deployment_is_recorded_with_actor_cli(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["platforms", "add", *MOODLE])
    result = runner.invoke(
        args=[
            "platforms", "approve-deployment",
            "--issuer", "https://moodle.example.edu", "--client-id", "AbC123", "7",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    event = events(app, "deployment.approved")[0]
    assert event.actor == "cli"
    assert event.details["deployment_id"] == "7"
    assert event.details["previous_status"] is None


def test_approving_an_approved_deployment_records_nothing_more(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["platforms", "add", *MOODLE, "--deployment-id", "7"])
    result = runner.invoke(
        args=[
            "platforms", "approve-deployment",
            "--issuer", "https://moodle.example.edu", "--client-id", "AbC123", "7",
        ]
    )  # fmt: skip
    assert "was already approved" in result.output
    assert events(app, "deployment.approved") == []


def test_demo_seed_creates_a_demo_operator_in_development_only(app, settings_override):
    from app import create_app
    from app.admin import services
    from app.db import get_db

    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "operator@example.org / microcred-demo-operator" in result.output
    with get_db(app).begin() as session:
        assert services.find_operator(session, "operator@example.org") is not None
        operator = services.find_operator(session, "operator@example.org")
        session.delete(operator)

    production = create_app(
        {**settings_override, "MICROCRED_ENV": "production", "MICROCRED_ALLOW_HTTP": "true"}
    )
    try:
        result = production.test_cli_runner().invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
        assert "microcred-demo-operator" not in result.output
        with get_db(production).begin() as session:
            assert services.find_operator(session, "operator@example.org") is None
    finally:
        production.extensions["db"].dispose()

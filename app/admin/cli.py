"""``flask platforms`` and ``flask operator``: the console's Platforms page and its accounts on
the command line. Every change is audited as the CLI."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from app import audit
from app.admin import services
from app.db import get_db
from app.errors import AppError
from app.lti.registrations import (
    find_by_issuer_and_client_id,
    list_registrations,
    register_platform,
)
from config import Settings


def _settings() -> Settings:
    s: Settings = current_app.config["MICROCRED_SETTINGS"]
    return s


def _read_password(from_stdin: bool) -> str:
    """Read a password: the first line of stdin, or typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    value: str = click.prompt(
        "Password (at least 12 characters)", hide_input=True, confirmation_prompt=True
    )
    return value


def _cli_message(exc: AppError) -> str:
    return f"{exc.message} {exc.hint}" if exc.hint else exc.message


@click.group("platforms", cls=AppGroup)
def platforms_group() -> None:
    """LMS platforms registered with the tool."""


@platforms_group.command("add")
@click.option("--name", required=True, help="What operators call it, e.g. 'District Moodle'.")
@click.option("--issuer", required=True, help="Platform ID / issuer (iss), exactly.")
@click.option("--client-id", required=True, help="The client id the LMS gave the tool.")
@click.option("--auth-login-url", required=True, help="OIDC authentication request URL.")
@click.option("--token-url", required=True, help="OAuth2 access token URL.")
@click.option("--jwks-url", required=True, help="The platform's public keyset URL.")
@click.option("--auth-audience", default=None, help="Token audience, if not the token URL.")
@click.option("--family", type=click.Choice(["moodle", "canvas", "generic"]), default="generic")
@click.option(
    "--deployment-id",
    "deployment_ids",
    multiple=True,
    help="Deployment id(s) to approve now (repeatable).",
)
def platforms_add(
    name: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    token_url: str,
    jwks_url: str,
    auth_audience: str | None,
    family: str,
    deployment_ids: tuple[str, ...],
) -> None:
    """Register an LMS (or update the registration with the same issuer and client id)."""
    for label, url in (
        ("--auth-login-url", auth_login_url),
        ("--token-url", token_url),
        ("--jwks-url", jwks_url),
    ):
        if not url.startswith(("https://", "http://")):
            raise click.BadParameter(f"{url!r} is not an http(s) URL.", param_hint=label)
    with get_db(current_app).begin() as session:
        existed = find_by_issuer_and_client_id(session, issuer, client_id) is not None
        registration = register_platform(
            session,
            name=name,
            issuer=issuer,
            client_id=client_id,
            auth_login_url=auth_login_url,
            auth_token_url=token_url,
            key_set_url=jwks_url,
            auth_audience=auth_audience,
            platform_family=family,
            active_deployment_ids=deployment_ids,
        )
        audit.record(
            session,
            actor=audit.CLI,
            action="registration.updated" if existed else "registration.created",
            target=f"registration:{registration.uuid}",
            details={
                "name": name,
                "issuer": issuer,
                "client_id": client_id,
                "auth_login_url": auth_login_url,
                "auth_token_url": token_url,
                "auth_audience": auth_audience,
                "key_set_url": jwks_url,
                "platform_family": family,
                "approved_deployments": list(deployment_ids),
            },
        )
        click.echo(
            f"Registered {registration.name}: issuer {issuer}, client id {client_id}, "
            f"approved deployments: {', '.join(deployment_ids) or 'none yet'}."
        )


@platforms_group.command("list")
def platforms_list() -> None:
    """List registrations and their deployments."""
    with get_db(current_app).begin() as session:
        for registration in list_registrations(session):
            click.echo(f"{registration.name}\t{registration.issuer}\t{registration.client_id}")
            for deployment in registration.deployments:
                click.echo(f"    deployment {deployment.deployment_id}\t{deployment.status}")


@platforms_group.command("approve-deployment")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.argument("deployment_id")
def approve_deployment(issuer: str, client_id: str, deployment_id: str) -> None:
    """Approve DEPLOYMENT_ID of a registered platform (e.g. one recorded as pending)."""
    with get_db(current_app).begin() as session:
        registration = find_by_issuer_and_client_id(session, issuer, client_id)
        if registration is None:
            raise click.ClickException(
                f"No platform with issuer {issuer} and client id {client_id}."
            )
        _, changed = services.decide_deployment(
            session,
            services.CLI_ACTOR,
            registration,
            deployment_id,
            services.DECISIONS["approve"],
            create_if_unseen=True,
        )
        state = "approved" if changed else "was already approved"
        click.echo(f"Deployment {deployment_id} of {registration.name} {state}.")


@click.group("operator", cls=AppGroup)
def operator_group() -> None:
    """People who sign in to the operator console (/admin)."""


@operator_group.command("create")
@click.option("--email", required=True, help="The operator's email; their sign-in name.")
@click.option("--name", required=True, help="The operator's name, e.g. 'Ada Lovelace'.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
def operator_create(email: str, name: str, password_stdin: bool) -> None:
    """Create an operator (the first one, or another) who signs in at /admin."""
    password = _read_password(password_stdin)
    with get_db(current_app).begin() as session:
        try:
            operator = services.create_operator(
                session, services.CLI_ACTOR, email=email, name=name, password=password
            )
        except AppError as exc:
            raise click.ClickException(_cli_message(exc)) from None
        click.echo(f"Operator {operator.email} created. Sign in at {_settings().base_url}/admin/ .")


@operator_group.command("list")
def operator_list() -> None:
    """List operators: email, name, active or not, last sign-in (UTC)."""
    with get_db(current_app).begin() as session:
        operators = services.list_operators(session)
        if not operators:
            click.echo("No operators yet: create one with `flask operator create`.")
        for operator in operators:
            last = operator.last_signed_in_at
            click.echo(
                f"{operator.email}\t{operator.name}\t"
                f"{'active' if operator.is_active else 'inactive'}\t"
                f"last sign-in {last.isoformat(timespec='seconds') if last else 'never'}"
            )


@operator_group.command("set-password")
@click.option("--email", required=True, help="The operator's email.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
def operator_set_password(email: str, password_stdin: bool) -> None:
    """Give an operator a new password (their open console sessions end)."""
    password = _read_password(password_stdin)
    with get_db(current_app).begin() as session:
        try:
            operator = services.set_password(
                session, services.CLI_ACTOR, email=email, password=password
            )
        except AppError as exc:
            raise click.ClickException(_cli_message(exc)) from None
        click.echo(f"New password set for {operator.email}.")

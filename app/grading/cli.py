"""``flask grading``: grant and revoke assessors from the command line, and list the grants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin.services import CLI_ACTOR
from app.catalog.authoring import Rights
from app.catalog.models import Organisation
from app.db import get_db
from app.errors import AppError
from app.grading import assessors

group = AppGroup("grading", help="Review: who may assess an organisation's credentials.")

CLI_RIGHTS = Rights(actor=CLI_ACTOR, is_operator=True, roles={})


def _organisation(session: Session, slug: str) -> Organisation:
    found = session.scalars(select(Organisation).where(Organisation.slug == slug)).first()
    if found is None:
        raise click.ClickException(f"There is no organisation {slug!r}.")
    return found


def _message(exc: AppError) -> str:
    return f"{exc.message} {exc.hint}" if exc.hint else exc.message


F = TypeVar("F", bound=Callable[..., Any])


def _person_options(command: F) -> F:
    for option in reversed(
        [
            click.option(
                "--platform",
                required=True,
                help="The person's platform: its registration id or uuid.",
            ),
            click.option("--email", default="", help="Their email, as the LMS sends it."),
            click.option("--sub", default="", help="Their LMS user id (the launch's sub)."),
        ]
    ):
        command = option(command)
    return command


def _one_of(email: str, sub: str) -> None:
    if bool(email) == bool(sub):
        raise click.UsageError("Give one of --email or --sub.")


@group.command("grant")
@click.argument("organisation")
@_person_options
@click.option("--lead", is_flag=True, help="A lead reviewer (settles disagreements).")
def grant_command(organisation: str, platform: str, email: str, sub: str, lead: bool) -> None:
    """Let a person assess ORGANISATION's credentials (its slug), from any course or platform.
    Granting again restores a revoked grant, or sets --lead on or off."""
    _one_of(email, sub)
    with get_db(current_app).begin() as session:
        found = _organisation(session, organisation)
        try:
            registration = assessors.find_registration(session, platform)
            result = assessors.grant(
                session, CLI_RIGHTS, found, registration, email=email, sub=sub, lead=lead
            )
        except AppError as exc:
            raise click.ClickException(_message(exc)) from exc
    role = f"{'a lead reviewer' if lead else 'an assessor'} of {found.name}"
    said = {
        "granted": f"{result.person} is now {role}.",
        "regranted": f"{result.person} is {role} again.",
        "lead-changed": f"{result.person} is now {role}.",
        "unchanged": f"{result.person} was already {role}; nothing changed.",
    }
    click.echo(said[result.outcome])


@group.command("revoke")
@click.argument("organisation")
@_person_options
def revoke_command(organisation: str, platform: str, email: str, sub: str) -> None:
    """Stop a person assessing ORGANISATION's credentials (the grant is kept, revoked)."""
    _one_of(email, sub)
    with get_db(current_app).begin() as session:
        found = _organisation(session, organisation)
        try:
            registration = assessors.find_registration(session, platform)
            row, _ = assessors.revoke_person(
                session, CLI_RIGHTS, found, registration, email=email, sub=sub
            )
        except AppError as exc:
            raise click.ClickException(_message(exc)) from exc
    click.echo(f"{row.person} no longer assesses {found.name}'s credentials.")


@group.command("grants")
@click.argument("organisation", required=False)
def grants_command(organisation: str | None) -> None:
    """List the assessor grants (of ORGANISATION, or of every organisation)."""
    with get_db(current_app).begin() as session:
        found = _organisation(session, organisation) if organisation else None
        names = {
            oid: slug for oid, slug in session.execute(select(Organisation.id, Organisation.slug))
        }
        rows = assessors.all_grants(session, found)
    if not rows:
        click.echo("No assessor grants.")
        return
    for row in sorted(rows, key=lambda r: (names[r.organisation_id], r.revoked_at is not None)):
        state = f"revoked {row.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if row.revoked_at else "active"
        lead = " lead" if row.lead else ""
        click.echo(
            f"{names[row.organisation_id]}\t{row.person}\t{row.platform}\t"
            f"sub={row.sub}\t{state}{lead}\t"
            f"granted by {row.granted_by} {row.granted_at:%Y-%m-%dT%H:%M:%SZ}"
        )

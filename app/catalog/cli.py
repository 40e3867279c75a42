"""``flask catalog``: import and export the catalog file format (``catalog.schema.json``)."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.admin.services import CLI_ACTOR, find_operator
from app.catalog.authoring import Rights, add_author
from app.catalog.exchange import CatalogInvalid, export_catalog, import_catalog
from app.catalog.models import Author, Credential, Organisation
from app.db import get_db
from app.errors import AppError

group = AppGroup("catalog", help="Import and export micro-credentials, organisations and stacks.")


def _read(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"Cannot read {path}: {exc.strerror}.") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.ClickException(
            f"{path} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc


@group.command("import")
@click.argument("path")
def import_command(path: str) -> None:
    """Import a catalog file (PATH, or - for standard input); nothing is written if it has any
    problem."""
    document = _read(path)
    with get_db(current_app).begin() as session:
        try:
            summary = import_catalog(session, document)
        except CatalogInvalid as exc:
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            raise click.ClickException(
                f"{len(exc.problems)} problem(s) in {path}; nothing was imported."
            ) from exc
        audit.record(
            session,
            actor=audit.CLI,
            action="catalog.imported",
            target=f"file:{Path(path).name}",
            details={
                "organisations": summary.organisations,
                "credentials": summary.credentials,
                "versions_added": summary.versions_added,
                "versions_changed": summary.versions_changed,
                "stacks": summary.stacks,
            },
        )
    click.echo(
        f"Imported {summary.organisations} organisation(s), {summary.credentials} credential(s) "
        f"({summary.versions_added} new version(s), {summary.versions_changed} changed, "
        f"{len(summary.unchanged)} unchanged), {summary.stacks} stack(s)."
    )


@group.command("export")
@click.argument("path", default="-")
def export_command(path: str) -> None:
    """Write the whole catalog to PATH (default: standard output)."""
    with get_db(current_app).begin() as session:
        text = json.dumps(export_catalog(session), indent=2, ensure_ascii=False) + "\n"
    if path == "-":
        click.echo(text, nl=False)
    else:
        Path(path).write_text(text, encoding="utf-8")
        click.echo(f"Catalog written to {path}.", err=True)


def seed_sample_catalog(session: Session) -> int:
    """Import the team's sample catalog into an empty catalog; return how many credentials."""
    if session.scalar(select(func.count()).select_from(Credential)):
        return 0
    text = resources.files("app.catalog").joinpath("sample/catalog.json").read_text("utf-8")
    return import_catalog(session, json.loads(text)).credentials


CLI_RIGHTS = Rights(actor=CLI_ACTOR, is_operator=True, roles={})


@group.command("add-author")
@click.argument("organisation")
@click.argument("email")
@click.option("--name", default="", help="Their name (for a new account).")
@click.option(
    "--role",
    type=click.Choice([Author.AUTHOR, Author.ADMIN]),
    default=Author.AUTHOR,
    show_default=True,
    help="admin also manages the organisation's profile and authors.",
)
def add_author_command(organisation: str, email: str, name: str, role: str) -> None:
    """Let EMAIL write credentials for ORGANISATION (its slug); a new account (not an
    operator) is created when there is none, with a first password typed at the prompt."""
    with get_db(current_app).begin() as session:
        found = session.scalars(
            select(Organisation).where(Organisation.slug == organisation)
        ).first()
        if found is None:
            raise click.ClickException(f"There is no organisation {organisation!r}.")
        password = ""
        if find_operator(session, email) is None:
            if not name:
                raise click.ClickException("There is no account with this email: give --name.")
            password = click.prompt("First password", hide_input=True, confirmation_prompt=True)
        try:
            account, created = add_author(
                session, CLI_RIGHTS, found, email=email, name=name, role=role, password=password
            )
        except AppError as exc:
            raise click.ClickException(exc.message) from exc
    made = "New account" if created else "Account"
    click.echo(f"{made} {account.email} writes for {found.name} ({role}).")


def add_demo_author(session: Session, *, email: str, password: str, organisation: str) -> None:
    """Give the demo an author of one sample organisation (development only)."""
    found = session.scalars(select(Organisation).where(Organisation.slug == organisation)).first()
    if found is not None:
        add_author(
            session,
            CLI_RIGHTS,
            found,
            email=email,
            name="Demo Author",
            role=Author.AUTHOR,
            password=password,
        )

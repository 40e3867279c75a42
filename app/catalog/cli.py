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

from app.admin import audit
from app.catalog.exchange import CatalogInvalid, export_catalog, import_catalog
from app.catalog.models import Credential
from app.db import get_db

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

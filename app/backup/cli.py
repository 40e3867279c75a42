"""``flask backup``: make, check and restore a backup of the database and the evidence store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.backup import databases, services
from app.backup.manifest import LOST, BackupError, Manifest
from app.db import get_db
from app.evidence.files import human_size, key_in_use
from app.evidence.storage import evidence_store
from config import Settings

group = AppGroup(
    "backup",
    help="Back up the database and the evidence files together, check a backup, restore one.",
)
FOLDER = click.Path(file_okay=False, path_type=Path)
SUMMARY = (
    ("evidence_attempt", "attempt"),
    ("evidence_file", "evidence file"),
    ("badges_award", "badge"),
)
"""The tables a person counts a backup by: its attempts, their files and the badges."""


def _settings() -> Settings:
    settings: Settings = current_app.config["MICROCRED_SETTINGS"]
    return settings


def store_label(settings: Settings) -> str:
    """The evidence store as an operator names it in the settings."""
    if settings.evidence_store == "s3":
        return f"S3 bucket {settings.s3_bucket}" + (
            f" at {settings.s3_endpoint_url}" if settings.s3_endpoint_url else ""
        )
    return f"folder {settings.evidence_path}"


@contextmanager
def _refusals() -> Iterator[None]:
    """A refusal is a message and exit status 1, never a traceback."""
    try:
        yield
    except BackupError as exc:
        raise click.ClickException(f"{exc.message} {exc.hint or ''}".strip()) from None


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _summary(manifest: Manifest) -> str:
    database = manifest.database
    counts = ", ".join(_plural(database.rows.get(table, 0), noun) for table, noun in SUMMARY)
    return (
        f"Backup of {manifest.created_at} by Microcred {manifest.tool_version}: "
        f"{databases.kind_name(database.kind)} database at revision {database.revision}; "
        f"{counts}."
    )


def _notes(manifest: Manifest) -> None:
    for note in services.recorded_notes(manifest):
        click.echo(f"Note: {note}", err=True)


@group.command("create")
@click.argument("folder", type=FOLDER)
def create_command(folder: Path) -> None:
    """Back up the database and the evidence files it refers to into FOLDER (new or empty).

    \b
    The database is copied as of one moment (pg_dump, or SQLite's online backup), then the
    evidence files that copy refers to are copied from the store, each with its SHA-256, and
    manifest.json, written last, lists them. The tool may keep running meanwhile.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = _settings()

    def still_used(key: str) -> bool:
        with get_db(app).begin() as session:
            return key_in_use(session, key)

    with _refusals():
        manifest = services.create(
            folder,
            database_url=settings.database_url,
            store=evidence_store(),
            still_used=still_used,
            secret_key=settings.secret_key,
            store_label=store_label(settings),
        )
    stored = sum(copy.size for copy in manifest.objects)
    click.echo(_summary(manifest))
    click.echo(
        f"Database: {manifest.database.file} ({human_size(manifest.database.size)}). "
        f"Evidence: {_plural(len(manifest.objects), 'file')} ({human_size(stored)}) from the "
        f"{manifest.store}."
    )
    _notes(manifest)
    click.echo(f"Backup written to {folder}. Check it with: flask backup verify {folder}")
    lost = [entry for entry in manifest.absent if entry.reason == LOST]
    if lost or manifest.changed:
        raise click.ClickException(
            "The backup is written, but the evidence store had lost or changed files (see the "
            "notes above). Find out why (the store's own logs, its versioning or an earlier "
            "backup may still have them) before relying on the store."
        )


@group.command("verify")
@click.argument("folder", type=FOLDER)
def verify_command(folder: Path) -> None:
    """Check every file of the backup in FOLDER against its size and SHA-256."""
    with _refusals():
        report = services.verify(folder)
    manifest = report.manifest
    click.echo(_summary(manifest))
    stored = sum(copy.size for copy in manifest.objects)
    click.echo(
        f"Checked the database ({human_size(manifest.database.size)}) and "
        f"{_plural(len(manifest.objects), 'evidence file')} ({human_size(stored)})."
    )
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)
    if report.problems:
        for problem in report.problems:
            click.echo(f"Problem: {problem}", err=True)
        raise click.ClickException(
            f"The backup is damaged ({_plural(len(report.problems), 'problem')}): do not restore "
            "it. Restore an earlier backup, and find out what changed the files (a failing disk, "
            "or something writing into the backups' folder)."
        )
    click.echo("The backup is intact.")


@group.command("restore")
@click.argument("folder", type=FOLDER)
@click.option(
    "--replace-database",
    is_flag=True,
    help="Delete everything in the configured database before restoring into it.",
)
@click.option(
    "--into-nonempty-store",
    is_flag=True,
    help="Add the backup's files to an evidence store that already holds files.",
)
@click.option(
    "--other-secret-key",
    is_flag=True,
    help="Restore a backup made under another MICROCRED_SECRET_KEY (its keys will not sign).",
)
def restore_command(
    folder: Path, replace_database: bool, into_nonempty_store: bool, other_secret_key: bool
) -> None:
    """Restore the backup in FOLDER into the configured database and evidence store.

    \b
    Stop the tool and its workers first. The database must be empty and the store hold no
    files, unless told otherwise. The database comes back at the backup's revision: run
    'flask db upgrade' afterwards to bring it to this version's.
    """
    settings = _settings()
    label = store_label(settings)
    with _refusals():
        manifest = services.check_restorable(
            folder,
            database_url=settings.database_url,
            secret_key=settings.secret_key,
            known_revision=services.known_revision,
            other_secret=other_secret_key,
        )
        restored = services.restore(
            folder,
            manifest,
            database_url=settings.database_url,
            store=evidence_store(),
            store_label=label,
            replace_database=replace_database,
            into_nonempty_store=into_nonempty_store,
        )
    get_db(current_app).engine.dispose()  # no pooled connection may remember the old database
    click.echo(_summary(manifest))
    click.echo(
        f"Restored the {databases.kind_name(manifest.database.kind)} database "
        f"({_plural(restored.rows, 'row')} in {_plural(restored.tables, 'table')}) and "
        f"{_plural(restored.objects, 'evidence file')} ({human_size(restored.bytes)}) into the "
        f"{label}."
    )
    _notes(manifest)
    head = services.head_revision()
    revision = manifest.database.revision
    if revision == head:
        click.echo(
            f"The database is at revision {revision}, the latest this version knows: "
            "'flask db upgrade' has nothing to do. Start the tool."
        )
    else:
        click.echo(
            f"The database is at revision {revision}, as it was backed up; this version of "
            f"Microcred is at {head}. Run 'flask db upgrade' to bring it forward, then start "
            "the tool."
        )

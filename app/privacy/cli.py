"""``flask privacy``: answer a records request from the command line (docs/privacy.md)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.audit import CLI
from app.badges.services import site_of
from app.db import get_db
from app.errors import AppError
from app.evidence.storage import evidence_store
from app.privacy import export

group = AppGroup("privacy", help="Records requests: export everything the tool holds on a person.")


@group.command("export")
@click.option("--platform", default="", help="The platform's name, issuer or id.")
@click.option("--sub", default="", help="The person's LMS user id on that platform.")
@click.option(
    "--email", default="", help="Instead: join the person's records on every platform by email."
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The zip to write (it must not exist yet).",
)
def export_command(platform: str, sub: str, email: str, out: Path) -> None:
    """Write one zip of a person's records: index.html, data.json, files and badges.

    Name the person by --platform and --sub, or by --email to join their records across
    platforms (audited either way)."""
    if bool(email) == bool(platform or sub):
        raise click.UsageError("Give either --platform with --sub, or --email.")
    if out.exists():
        raise click.ClickException(f"{out} already exists; choose a new file name.")
    partial = out.with_name(out.name + ".part")
    try:
        with get_db(current_app).begin() as session:
            people = (
                export.people_with(session, email)
                if email
                else export.people_on(session, platform, sub)
            )
            counts = export.write(session, evidence_store(), site_of(current_app), people, partial)
            export.audit(session, people, counts, actor=CLI, by_email=bool(email))
    except AppError as exc:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"{exc.message} {exc.hint or ''}".strip()) from None
    partial.replace(out)
    platforms = ", ".join(sorted({person.platform for person in people}))
    click.echo(
        f"Wrote {out}: {counts.attempts} attempt(s), {counts.files} file(s), "
        f"{counts.badges} badge(s) from {platforms}."
    )
    if counts.missing_files:
        click.echo(
            f"Note: {counts.missing_files} file(s) are no longer in the evidence store; "
            "the export lists them without their bytes.",
            err=True,
        )

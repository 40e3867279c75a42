"""``flask evidence`` commands: housekeeping of the evidence store."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import get_db
from app.evidence import files
from app.evidence.storage import evidence_store

group = AppGroup("evidence", help="Evidence files: housekeeping.")


@group.command("sweep")
@click.option(
    "--hours",
    type=click.IntRange(min=1),
    default=int(files.SWEEP_AFTER.total_seconds() // 3600),
    show_default=True,
    help="Abandon uploads begun more than this many hours ago.",
)
def sweep(hours: int) -> None:
    """Remove uploads that were begun and never completed (their rows and stored chunks)."""
    with get_db(current_app).begin() as session:
        swept = files.sweep(session, evidence_store(), timedelta(hours=hours))
    click.echo(f"Removed {len(swept)} abandoned upload{'' if len(swept) == 1 else 's'}.")

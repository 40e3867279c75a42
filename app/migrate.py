"""Run Alembic migrations programmatically: the ``flask db`` commands (``init_app``) and the
tests use this.

Alembic is imported when a migration runs, not when the app is built (``create_app`` wires the
commands): it takes about half a second to import, which every process serving the tool would
otherwise pay for nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import AppGroup

import migrations

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    """Return an Alembic config for ``database_url``.

    Built in code rather than read from ``alembic.ini``: the migrations ship inside the
    installed package, so ``flask db upgrade`` works from a wheel as well as from a checkout.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("path_separator", "os")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: the latest)."""
    upgrade(_database_url(), revision)
    click.echo(f"Database upgraded to {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (e.g. -1, or base)."""
    downgrade(_database_url(), revision)
    click.echo(f"Database downgraded to {revision}.")


def _database_url() -> str:
    return str(current_app.config["MICROCRED_SETTINGS"].database_url)


def init_app(app: Flask) -> None:
    """Give the app's ``flask`` the ``db`` commands."""
    app.cli.add_command(db_group)

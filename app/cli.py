"""``flask`` commands: database migrations, the demo, serving, keys."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app

from app.db import get_db
from config import Settings


def _settings() -> Settings:
    s: Settings = current_app.config["MICROCRED_SETTINGS"]
    return s


def init_app(app: Flask) -> None:
    @app.cli.group("db")
    def db_group() -> None:
        """Database schema (Alembic migrations)."""

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        """Upgrade the database to REVISION (default: the latest)."""
        from app import migrate

        migrate.upgrade(_settings().database_url, revision)
        click.echo(f"Database upgraded to {revision}.")

    @db_group.command("downgrade")
    @click.argument("revision")
    def db_downgrade(revision: str) -> None:
        """Downgrade the database to REVISION (e.g. -1, or base)."""
        from app import migrate

        migrate.downgrade(_settings().database_url, revision)
        click.echo(f"Database downgraded to {revision}.")

    @app.cli.group("demo")
    def demo_group() -> None:
        """The demo data of the embedded default."""

    @demo_group.command("seed")
    def demo_seed() -> None:
        """Register the development LMS with the tool and create the demo course (idempotent)."""
        from app.devlms.seed import seed_demo

        with get_db(current_app).begin() as session:
            course = seed_demo(session, _settings())
            click.echo(f"Demo course ready: {course.title} ({course.label}).")

    @app.cli.group("keys")
    def keys_group() -> None:
        """The tool's signing keys."""

    @keys_group.command("list")
    def keys_list() -> None:
        """List the tool's keys (kid and status; never the private key)."""
        from app.lti import keys, runtime

        with get_db(current_app).begin() as session:
            keys.ensure_active_key(session, runtime().cipher)
            for row in keys.list_keys(session):
                click.echo(f"{row.kid}\t{row.status}\t{row.created_at.isoformat()}")

    @app.cli.command("serve")
    @click.option("--devlms/--no-devlms", default=None,
                  help="Also serve the development LMS (default: when it is enabled).")
    def serve(devlms: bool | None) -> None:
        """Serve the tool (and the development LMS) until interrupted."""
        from app.devlms import create_devlms_app
        from app.serve import host_port, start_server

        settings = _settings()
        with_devlms = settings.devlms_enabled if devlms is None else devlms
        host, port = host_port(settings.base_url)
        servers = [start_server(current_app._get_current_object(), host, port)]  # type: ignore[attr-defined]
        click.echo(f"Microcred tool:   {settings.base_url}/")
        if with_devlms:
            lms_host, lms_port = host_port(settings.devlms_url)
            servers.append(start_server(create_devlms_app(), lms_host, lms_port))
            click.echo(f"Development LMS:  {settings.devlms_url}/")
            click.echo("")
            click.echo(f"Open {settings.devlms_url}/ , pick a user, open the course and launch "
                       "the tool.")
        click.echo("Press Ctrl+C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            for server in servers:
                server.shutdown()

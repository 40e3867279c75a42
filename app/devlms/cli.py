"""``flask demo``: the demo of the embedded default, seeded into the development LMS and the tool
together (a command of the tool's app: ``app.devlms.init_tool_app``)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.admin import services as admin_services
from app.catalog.cli import add_demo_author, seed_sample_catalog
from app.db import get_db
from app.devlms.seed import seed_demo
from config import Settings

DEMO_OPERATOR = ("operator@example.org", "microcred-demo-operator")
DEMO_AUTHOR = ("author@example.org", "microcred-demo-author", "lakemont-itl")


@click.group("demo", cls=AppGroup)
def demo_group() -> None:
    """The demo data of the embedded default."""


@demo_group.command("seed")
def demo_seed() -> None:
    """Register the development LMS with the tool and create the demo course (idempotent)."""
    settings: Settings = current_app.config["MICROCRED_SETTINGS"]
    with get_db(current_app).begin() as session:
        course = seed_demo(session, settings)
        click.echo(f"Demo course ready: {course.title} ({course.label}).")
        added = seed_sample_catalog(session)
        if added:
            click.echo(f"Sample catalog imported: {added} micro-credentials.")
        if settings.is_production:
            return
        # A known sign-in, so a newcomer can click through the console; never in production.
        if admin_services.find_operator(session, DEMO_OPERATOR[0]) is None:
            admin_services.create_operator(
                session,
                admin_services.CLI_ACTOR,
                email=DEMO_OPERATOR[0],
                name="Demo Operator",
                password=DEMO_OPERATOR[1],
            )
        if admin_services.find_operator(session, DEMO_AUTHOR[0]) is None:
            add_demo_author(
                session,
                email=DEMO_AUTHOR[0],
                password=DEMO_AUTHOR[1],
                organisation=DEMO_AUTHOR[2],
            )
        click.echo(
            f"Operator console: {settings.base_url}/admin/ (development only: "
            f"{DEMO_OPERATOR[0]} / {DEMO_OPERATOR[1]}; an author of "
            f"{DEMO_AUTHOR[2]}: {DEMO_AUTHOR[0]} / {DEMO_AUTHOR[1]})."
        )

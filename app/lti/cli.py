"""``flask registration-links``: one-time Dynamic Registration URLs for LMS admins."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app import audit
from app.db import get_db, utcnow
from app.lti import registration_links
from config import Settings

group = AppGroup("registration-links", help="Issue, list and revoke Dynamic Registration links.")


def _settings() -> Settings:
    s: Settings = current_app.config["MICROCRED_SETTINGS"]
    return s


@group.command("issue")
@click.option("--label", required=True, help="The LMS it is for; becomes the platform's name.")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 90))
@click.option(
    "--auto-approve/--no-auto-approve",
    default=True,
    show_default=True,
    help="Approve the platform's new deployment ids on first sight.",
)
def issue(label: str, days: int, auto_approve: bool) -> None:
    """Issue a link and print it (it is shown only now)."""
    with get_db(current_app).begin() as session:
        try:
            issued = registration_links.issue(
                session,
                label=label,
                created_by=audit.CLI,
                lifetime=timedelta(days=days),
                auto_approve_deployments=auto_approve,
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        audit.record(
            session,
            actor=audit.CLI,
            action="registration_link.issued",
            target=f"registration_link:{issued.link.id}",
            details={"label": issued.link.label, "expires_at": issued.link.expires_at.isoformat()},
        )
        url = issued.url(_settings().base_url)
        expires = issued.link.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    click.echo(url)
    click.echo(f"One use, until {expires}. Send it to the LMS admin of {label}.", err=True)


@group.command("list")
def list_links() -> None:
    """List links: id, state, label, expiry."""
    now = utcnow()
    with get_db(current_app).begin() as session:
        for link in registration_links.list_links(session):
            state = registration_links.state(link, now)
            click.echo(
                f"{link.id}\t{state}\t{link.label}\texpires {link.expires_at:%Y-%m-%d %H:%M} UTC"
            )


@group.command("revoke")
@click.argument("link_id", type=int)
def revoke(link_id: int) -> None:
    """Withdraw an unused link."""
    with get_db(current_app).begin() as session:
        try:
            link = registration_links.revoke(session, link_id)
        except (LookupError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        audit.record(
            session,
            actor=audit.CLI,
            action="registration_link.revoked",
            target=f"registration_link:{link.id}",
            details={"label": link.label},
        )
    click.echo(f"Link {link_id} revoked.")

"""``flask badges``: issuer keys (list, rotate, withdraw), revoking a badge, issuing what is
waiting. Every change is audited as the CLI."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin.services import CLI_ACTOR
from app.badges import identity, processing, services
from app.badges.models import IssuerKey
from app.catalog.authoring import Rights
from app.catalog.models import Organisation
from app.db import get_db
from app.errors import AppError

badges_group = AppGroup("badges", help="Open Badges: issuer keys, revocation, issuing.")
CLI_RIGHTS = Rights(actor=CLI_ACTOR, is_operator=True, roles={})


def _organisation(session: Session, slug: str) -> Organisation:
    found = session.scalars(select(Organisation).where(Organisation.slug == slug)).first()
    if found is None:
        raise click.ClickException(f"There is no issuer organisation “{slug}”.")
    return found


@badges_group.command("keys")
@click.argument("organisation")
def keys_command(organisation: str) -> None:
    """List an issuer's signing keys and their state."""
    with get_db(current_app).begin() as session:
        org = _organisation(session, organisation)
        rows = session.scalars(
            select(IssuerKey).where(IssuerKey.organisation_id == org.id).order_by(IssuerKey.id)
        ).all()
        site = services.site_of(current_app)
        if not rows:
            click.echo(f"{org.name} has no key yet; its first badge makes one.")
        for key in rows:
            click.echo(f"{key.state:<10} {site.key_id(org.slug, key.public_multibase)}")


@badges_group.command("rotate-key")
@click.argument("organisation")
def rotate_command(organisation: str) -> None:
    """Make a new signing key; earlier keys stay published, so their badges keep verifying."""
    signer = services.signer_of(current_app)
    with get_db(current_app).begin() as session:
        org = _organisation(session, organisation)
        key = identity.rotate(session, org, signer.cipher, actor=CLI_ACTOR.label)
        click.echo(f"New signing key: {signer.site.key_id(org.slug, key.public_multibase)}")


@badges_group.command("withdraw-key")
@click.argument("organisation")
@click.argument("key")
@click.option("--reason", required=True, help="Why it must no longer be trusted (audited).")
def withdraw_command(organisation: str, key: str, reason: str) -> None:
    """Unpublish a leaked key: badges it signed stop verifying (rotate first)."""
    with get_db(current_app).begin() as session:
        org = _organisation(session, organisation)
        try:
            identity.withdraw(session, org, key.rpartition("#")[2], reason, actor=CLI_ACTOR.label)
        except AppError as refused:
            raise click.ClickException(f"{refused.message} {refused.hint or ''}".strip()) from None
        click.echo(f"Withdrawn: {key}")


@badges_group.command("revoke")
@click.argument("badge")
@click.option("--reason", required=True, help="Shown on the badge's public page.")
def revoke_command(badge: str, reason: str) -> None:
    """Revoke a badge (its public id, or its URL). An id issued before ids stopped starting
    with "-" goes after "--": flask badges revoke --reason "…" -- -AbC…"""
    public_id = badge.rstrip("/").rpartition("/")[2]
    with get_db(current_app).begin() as session:
        try:
            services.revoke(session, public_id, reason, CLI_RIGHTS)
        except AppError as refused:
            raise click.ClickException(f"{refused.message} {refused.hint or ''}".strip()) from None
    click.echo(f"Revoked: {public_id}")


@badges_group.command("issue")
def issue_command() -> None:
    """Issue every badge waiting to be issued, then exit (a running worker does this too)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    counters = processing.build(app).run(until_idle=True)
    click.echo(
        f"Issued {counters.issued} badges; {counters.failed} failed, {counters.retried} to retry."
    )

"""``flask registration-links``: one-time Dynamic Registration URLs for LMS admins; ``flask
keys``: the tool's signing keys and their rotation schedule (LTI-CHECKLIST E)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from app import audit
from app.db import get_db, utcnow
from app.lti import keys, registration_links, runtime
from config import Settings

group = AppGroup("registration-links", help="Issue, list and revoke Dynamic Registration links.")

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

KEY_ROW = "{:<44} {:<9} {:<21} {:<21} {}"

ROTATE_HELP = """Schedule the next signing key: published now, signing after the overlap.

\b
The next key appears in the JWKS at once and starts signing OVERLAP from now. The key signing
now keeps signing until then and stays published for RETAIN after it, so that anything it signed
just before the switch still verifies; then it leaves the JWKS by itself (no job to run).

\b
The overlap must exceed the longest time any platform caches the tool's JWKS: the JWKS asks for
at most {max_age} seconds, some LMSs keep it longer. For a compromised key, rotate with
--overlap 0 --retain 0, then 'flask keys retire OLD_KID --yes'.
"""


class Duration(click.ParamType):
    """A duration such as ``2d``, ``12h``, ``30m``, ``45s`` or ``0``."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        match = re.fullmatch(r"(\d+)([smhd]?)", str(value).strip().lower())
        if match is None or (not match.group(2) and match.group(1).strip("0")):
            self.fail(
                f"{value!r} is not a duration: give a whole number with s, m, h or d "
                "(e.g. 2d, 12h, 30m) or 0.",
                param,
                ctx,
            )
        number, unit = match.groups()
        return timedelta(seconds=int(number) * DURATION_UNITS[unit or "s"])


@click.group("keys", cls=AppGroup)
def keys_group() -> None:
    """The tool's signing keys: list, rotate, retire."""


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


@keys_group.command("list")
def keys_list() -> None:
    """List the tool's keys and where each is in its schedule (never the private key)."""
    with get_db(current_app).begin() as session:
        now = utcnow()
        keys.ensure_active_key(session, runtime().cipher, now)
        states = keys.key_states(session, now)
    click.echo(KEY_ROW.format("KID", "STATE", "CREATED", "SIGNS FROM", "RETIRES AT"))
    for state in states:
        click.echo(
            KEY_ROW.format(
                state.kid,
                state.state,
                keys.iso(state.created_at),
                keys.iso(state.signs_from),
                keys.iso(state.retires_at) if state.retires_at else "-",
            )
        )


@keys_group.command("rotate", help=ROTATE_HELP.format(max_age=keys.JWKS_MAX_AGE))
@click.option(
    "--overlap",
    type=Duration(),
    default="2d",
    show_default=True,
    help="How long the next key is published before it signs (s, m, h or d).",
)
@click.option(
    "--retain",
    type=Duration(),
    default=None,
    help="How long the old key stays published after it stops signing [default: the overlap].",
)
def keys_rotate(overlap: timedelta, retain: timedelta | None) -> None:
    cipher = runtime().cipher
    with get_db(current_app).begin() as session:
        now = utcnow()
        current = keys.ensure_active_key(session, cipher, now)
        try:
            next_key = keys.rotate(session, cipher, overlap=overlap, retain=retain, now=now)
        except keys.KeyScheduleError as exc:
            raise click.ClickException(f"{exc.message} {exc.hint or ''}".strip()) from exc
        click.echo(f"Next key {next_key.kid} is published in the JWKS now.")
        click.echo(f"It starts signing at {keys.iso(next_key.signs_from)} (UTC).")
        assert current.retires_at is not None
        click.echo(
            f"Key {current.kid} signs until then and leaves the JWKS at "
            f"{keys.iso(current.retires_at)} (UTC)."
        )
    if overlap < timedelta(seconds=keys.JWKS_MAX_AGE):
        click.echo(
            f"Warning: the overlap is shorter than the {keys.JWKS_MAX_AGE} s platforms may "
            "cache the JWKS; a platform that does not refetch on an unknown kid will refuse "
            "the new key's signatures until its cache expires."
        )


# A kid is base64url and may begin with "-"; it must not be taken for an option.
@keys_group.command("retire", context_settings={"ignore_unknown_options": True})
@click.argument("kid")
@click.confirmation_option(
    prompt="Retire this key now? Platforms will refuse anything it signed.",
    help="Retire without asking.",
)
def keys_retire(kid: str) -> None:
    """Withdraw key KID at once (e.g. compromised): out of the JWKS, never signs again.

    The key signing now cannot be retired: rotate with --overlap 0 --retain 0 first, then
    retire the old key. Retiring a next key that has not started signing cancels the
    rotation.
    """
    with get_db(current_app).begin() as session:
        try:
            keys.retire(session, kid)
        except keys.KeyScheduleError as exc:
            raise click.ClickException(f"{exc.message} {exc.hint or ''}".strip()) from exc
    click.echo(f"Key {kid} is retired: no longer published, never signs again.")

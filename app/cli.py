"""``flask`` commands: database migrations, the demo, serving, the worker (scores and badges),
keys, platforms, operators."""

from __future__ import annotations

import re
import signal
import sys
import threading
import time
from datetime import timedelta
from types import FrameType
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.db import get_db, utcnow
from app.errors import AppError
from config import Settings

DEMO_OPERATOR = ("operator@example.org", "microcred-demo-operator")
DEMO_AUTHOR = ("author@example.org", "microcred-demo-author", "lakemont-itl")
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


def _settings() -> Settings:
    s: Settings = current_app.config["MICROCRED_SETTINGS"]
    return s


def _read_password(from_stdin: bool) -> str:
    """Read a password: the first line of stdin, or typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    value: str = click.prompt(
        "Password (at least 12 characters)", hide_input=True, confirmation_prompt=True
    )
    return value


def _cli_message(exc: AppError) -> str:
    return f"{exc.message} {exc.hint}" if exc.hint else exc.message


@click.command("worker")
@with_appcontext
@click.option("--threads", type=click.IntRange(1, 256), help="Sends in flight (default: setting).")
@click.option(
    "--until-idle",
    is_flag=True,
    help="Exit once nothing is waiting to be sent (for scripts and one-off catch-ups).",
)
def worker_command(threads: int | None, until_idle: bool) -> None:
    """Send scores to the LMSs' gradebooks and issue earned badges until stopped (SIGTERM or
    Ctrl+C finish the work in flight first)."""
    from app.badges import processing
    from app.grading.worker_cli import build

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = build(app, threads=threads)
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            found.stop()

        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, _stop)
    # The claiming loop waits on the database and the sending threads on the LMS; with the
    # default 5 ms switch interval each of the loop's round trips may wait that long for the
    # GIL behind the senders, and the loop, not the LMS, would set the pace.
    sys.setswitchinterval(0.0005)
    click.echo(f"{found.name}: sending scores with {found.settings.threads} threads.")
    badges = processing.build(app, name=f"{found.name}-badges")
    if not until_idle:
        badges.run_in_thread()
    try:
        counters = found.run(until_idle=until_idle)
        if until_idle:
            issued = badges.run(until_idle=True)
            click.echo(f"{badges.name}: issued {issued.issued} badges.")
    finally:
        badges.stop()
        if badges.thread is not None:
            badges.thread.join(timeout=30)
        for number, handler in previous.items():
            signal.signal(number, handler)
    ungraded = (
        f" {counters.no_column} belonged to activities the LMS keeps no grades for (see their "
        "Gradebook sync page)."
        if counters.no_column
        else ""
    )
    click.echo(
        f"{found.name}: stopped. Delivered {counters.delivered}, to retry {counters.retried}, "
        f"failed {counters.failed}.{ungraded}"
    )


def init_app(app: Flask) -> None:
    from app import backup
    from app.badges.cli import badges_group
    from app.catalog.cli import group as catalog_group
    from app.grading.cli import group as grading_group
    from app.grading.worker_cli import grades_group
    from app.lti.cli import group as registration_links_group
    from app.lti.keys import JWKS_MAX_AGE

    app.cli.add_command(registration_links_group)
    app.cli.add_command(catalog_group)
    app.cli.add_command(grading_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(grades_group)
    app.cli.add_command(badges_group)
    backup.init_app(app)

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

        settings = _settings()
        with get_db(current_app).begin() as session:
            course = seed_demo(session, settings)
            click.echo(f"Demo course ready: {course.title} ({course.label}).")
            from app.catalog.cli import seed_sample_catalog

            added = seed_sample_catalog(session)
            if added:
                click.echo(f"Sample catalog imported: {added} micro-credentials.")
            if settings.is_production:
                return
            # A known sign-in, so a newcomer can click through the console; never in production.
            from app.admin import services as admin_services

            if admin_services.find_operator(session, DEMO_OPERATOR[0]) is None:
                admin_services.create_operator(
                    session,
                    admin_services.CLI_ACTOR,
                    email=DEMO_OPERATOR[0],
                    name="Demo Operator",
                    password=DEMO_OPERATOR[1],
                )
            if admin_services.find_operator(session, DEMO_AUTHOR[0]) is None:
                from app.catalog.cli import add_demo_author

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

    @app.cli.group("keys")
    def keys_group() -> None:
        """The tool's signing keys: list, rotate, retire."""

    @keys_group.command("list")
    def keys_list() -> None:
        """List the tool's keys and where each is in its schedule (never the private key)."""
        from app.lti import keys, runtime

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

    @keys_group.command("rotate", help=ROTATE_HELP.format(max_age=JWKS_MAX_AGE))
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
        from app.lti import keys, runtime

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
        from app.lti import keys

        with get_db(current_app).begin() as session:
            try:
                keys.retire(session, kid)
            except keys.KeyScheduleError as exc:
                raise click.ClickException(f"{exc.message} {exc.hint or ''}".strip()) from exc
        click.echo(f"Key {kid} is retired: no longer published, never signs again.")

    @app.cli.group("platforms")
    def platforms_group() -> None:
        """LMS platforms registered with the tool."""

    @platforms_group.command("add")
    @click.option("--name", required=True, help="What operators call it, e.g. 'District Moodle'.")
    @click.option("--issuer", required=True, help="Platform ID / issuer (iss), exactly.")
    @click.option("--client-id", required=True, help="The client id the LMS gave the tool.")
    @click.option("--auth-login-url", required=True, help="OIDC authentication request URL.")
    @click.option("--token-url", required=True, help="OAuth2 access token URL.")
    @click.option("--jwks-url", required=True, help="The platform's public keyset URL.")
    @click.option("--auth-audience", default=None, help="Token audience, if not the token URL.")
    @click.option("--family", type=click.Choice(["moodle", "canvas", "generic"]), default="generic")
    @click.option(
        "--deployment-id",
        "deployment_ids",
        multiple=True,
        help="Deployment id(s) to approve now (repeatable).",
    )
    def platforms_add(
        name: str,
        issuer: str,
        client_id: str,
        auth_login_url: str,
        token_url: str,
        jwks_url: str,
        auth_audience: str | None,
        family: str,
        deployment_ids: tuple[str, ...],
    ) -> None:
        """Register an LMS (or update the registration with the same issuer and client id)."""
        from app import audit
        from app.lti.registrations import find_by_issuer_and_client_id, register_platform

        for label, url in (
            ("--auth-login-url", auth_login_url),
            ("--token-url", token_url),
            ("--jwks-url", jwks_url),
        ):
            if not url.startswith(("https://", "http://")):
                raise click.BadParameter(f"{url!r} is not an http(s) URL.", param_hint=label)
        with get_db(current_app).begin() as session:
            existed = find_by_issuer_and_client_id(session, issuer, client_id) is not None
            registration = register_platform(
                session,
                name=name,
                issuer=issuer,
                client_id=client_id,
                auth_login_url=auth_login_url,
                auth_token_url=token_url,
                key_set_url=jwks_url,
                auth_audience=auth_audience,
                platform_family=family,
                active_deployment_ids=deployment_ids,
            )
            audit.record(
                session,
                actor=audit.CLI,
                action="registration.updated" if existed else "registration.created",
                target=f"registration:{registration.uuid}",
                details={
                    "name": name,
                    "issuer": issuer,
                    "client_id": client_id,
                    "auth_login_url": auth_login_url,
                    "auth_token_url": token_url,
                    "auth_audience": auth_audience,
                    "key_set_url": jwks_url,
                    "platform_family": family,
                    "approved_deployments": list(deployment_ids),
                },
            )
            click.echo(
                f"Registered {registration.name}: issuer {issuer}, client id {client_id}, "
                f"approved deployments: {', '.join(deployment_ids) or 'none yet'}."
            )

    @platforms_group.command("list")
    def platforms_list() -> None:
        """List registrations and their deployments."""
        from app.lti.registrations import list_registrations

        with get_db(current_app).begin() as session:
            for registration in list_registrations(session):
                click.echo(f"{registration.name}\t{registration.issuer}\t{registration.client_id}")
                for deployment in registration.deployments:
                    click.echo(f"    deployment {deployment.deployment_id}\t{deployment.status}")

    @platforms_group.command("approve-deployment")
    @click.option("--issuer", required=True)
    @click.option("--client-id", required=True)
    @click.argument("deployment_id")
    def approve_deployment(issuer: str, client_id: str, deployment_id: str) -> None:
        """Approve DEPLOYMENT_ID of a registered platform (e.g. one recorded as pending)."""
        from app.admin.services import CLI_ACTOR, decide_deployment
        from app.lti.models import Deployment
        from app.lti.registrations import find_by_issuer_and_client_id

        with get_db(current_app).begin() as session:
            registration = find_by_issuer_and_client_id(session, issuer, client_id)
            if registration is None:
                raise click.ClickException(
                    f"No platform with issuer {issuer} and client id {client_id}."
                )
            _, changed = decide_deployment(
                session,
                CLI_ACTOR,
                registration,
                deployment_id,
                Deployment.ACTIVE,
                create_if_unseen=True,
            )
            state = "approved" if changed else "was already approved"
            click.echo(f"Deployment {deployment_id} of {registration.name} {state}.")

    @app.cli.group("operator")
    def operator_group() -> None:
        """People who sign in to the operator console (/admin)."""

    @operator_group.command("create")
    @click.option("--email", required=True, help="The operator's email; their sign-in name.")
    @click.option("--name", required=True, help="The operator's name, e.g. 'Ada Lovelace'.")
    @click.option(
        "--password-stdin",
        is_flag=True,
        help="Read the password from the first line of standard input (for scripts).",
    )
    def operator_create(email: str, name: str, password_stdin: bool) -> None:
        """Create an operator (the first one, or another) who signs in at /admin."""
        from app.admin import services

        password = _read_password(password_stdin)
        with get_db(current_app).begin() as session:
            try:
                operator = services.create_operator(
                    session, services.CLI_ACTOR, email=email, name=name, password=password
                )
            except AppError as exc:
                raise click.ClickException(_cli_message(exc)) from None
            click.echo(
                f"Operator {operator.email} created. Sign in at {_settings().base_url}/admin/ ."
            )

    @operator_group.command("list")
    def operator_list() -> None:
        """List operators: email, name, active or not, last sign-in (UTC)."""
        from app.admin import services

        with get_db(current_app).begin() as session:
            operators = services.list_operators(session)
            if not operators:
                click.echo("No operators yet: create one with `flask operator create`.")
            for operator in operators:
                last = operator.last_signed_in_at
                click.echo(
                    f"{operator.email}\t{operator.name}\t"
                    f"{'active' if operator.is_active else 'inactive'}\t"
                    f"last sign-in {last.isoformat(timespec='seconds') if last else 'never'}"
                )

    @operator_group.command("set-password")
    @click.option("--email", required=True, help="The operator's email.")
    @click.option(
        "--password-stdin",
        is_flag=True,
        help="Read the password from the first line of standard input (for scripts).",
    )
    def operator_set_password(email: str, password_stdin: bool) -> None:
        """Give an operator a new password (their open console sessions end)."""
        from app.admin import services

        password = _read_password(password_stdin)
        with get_db(current_app).begin() as session:
            try:
                operator = services.set_password(
                    session, services.CLI_ACTOR, email=email, password=password
                )
            except AppError as exc:
                raise click.ClickException(_cli_message(exc)) from None
            click.echo(f"New password set for {operator.email}.")

    @app.cli.command("serve")
    @click.option(
        "--devlms/--no-devlms",
        default=None,
        help="Also serve the development LMS (default: when it is enabled).",
    )
    def serve(devlms: bool | None) -> None:
        """Serve the tool (and the development LMS) until interrupted."""
        from app.badges.processing import start_embedded as start_badges
        from app.badges.services import site_of
        from app.devlms import create_devlms_app
        from app.grading.worker_cli import start_embedded
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
            click.echo(
                f"Open {settings.devlms_url}/ , pick a user, open the course and launch the tool."
            )
        embedded = start_embedded(current_app._get_current_object())  # type: ignore[attr-defined]
        badges = start_badges(current_app._get_current_object())  # type: ignore[attr-defined]
        if embedded is not None:
            click.echo("Score worker:     running in this process (sends grades to the LMS).")
        if badges is not None:
            click.echo("Badge issuing:    running in this process (issues earned badges).")
        if not site_of(current_app).checkable_by_wallets:  # say so before anyone relies on it
            click.echo(
                "Badges:           served over http, so wallets cannot check the badges it "
                "issues (their pages here can); docs/using.md, 'Badges from the demo', says why."
            )
        click.echo("Press Ctrl+C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            if embedded is not None:
                embedded.stop()
            if badges is not None:
                badges.stop()
            for server in servers:
                server.shutdown()

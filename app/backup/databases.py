"""The database half of a backup: one snapshot out, and back in, for each kind the tool runs on.

PostgreSQL: a ``REPEATABLE READ`` transaction exports its snapshot (``pg_export_snapshot``) and
``pg_dump --snapshot`` dumps exactly what that transaction sees, in the custom format, while
the transaction itself lists the evidence files and counts every table's rows: the dump, the
list and the counts are of one moment. ``pg_restore --single-transaction`` puts it back, all or
nothing. https://www.postgresql.org/docs/current/app-pgdump.html (``--snapshot``),
https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-SNAPSHOT-SYNCHRONIZATION

SQLite: the online backup API (``sqlite3.Connection.backup``, in one step) copies the database
as of one moment while the tool goes on writing; the copy is then read for the list and the
counts. Restoring uses the same API the other way. https://www.sqlite.org/backup.html

The client programs are found as the test suite finds them: on ``PATH`` first, else the newest
under ``/usr/lib/postgresql`` (Debian installs them there). ``pg_dump`` must be at least the
server's version.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, func, inspect, literal, select, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app.backup.manifest import DATABASE_FILES, KIND_NAMES, BackupError

T = TypeVar("T")
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class Snapshot:
    """The database as of one moment, in the backup folder, and what was read from it."""

    kind: str
    path: Path
    revision: str | None
    rows: dict[str, int]


def kind_of(url: str) -> str:
    """``postgresql`` or ``sqlite``, from a SQLAlchemy URL; refuse anything else."""
    backend = make_url(url).get_backend_name()
    if backend not in DATABASE_FILES:
        raise BackupError(
            f"Backups are made of PostgreSQL and SQLite databases, not {backend}.",
            hint="Point MICROCRED_DATABASE_URL at the tool's PostgreSQL or SQLite database.",
        )
    if backend == "sqlite" and not _sqlite_path(url):
        raise BackupError(
            "An in-memory SQLite database cannot be backed up or restored into.",
            hint="Point MICROCRED_DATABASE_URL at a database file (sqlite:////path/file.db).",
        )
    return backend


def take(url: str, folder: Path, read: Callable[[Session], T]) -> tuple[Snapshot, T]:
    """Copy the database into ``folder`` as of one moment; ``read`` runs on that same moment
    (a session of the snapshot) and its answer is returned with it."""
    kind = kind_of(url)
    path = folder / DATABASE_FILES[kind]
    if kind == "postgresql":
        return _take_postgresql(url, path, read)
    if not Path(_sqlite_path(url)).is_file():
        raise BackupError(
            f"There is no database file at {_sqlite_path(url)}.",
            hint="Check MICROCRED_DATABASE_URL (and MICROCRED_INSTANCE_PATH): they name the "
            "database the tool uses.",
        )
    # The live database is opened as the tool opens it: read-only, a database in WAL mode
    # may not be readable without the shared-memory file only a writer can make.
    _copy_sqlite(_sqlite_path(url), path, source_read_only=False)
    with _connection(f"sqlite:///{path}") as connection:
        snapshot = Snapshot(kind, path, _revision(connection), count_rows(connection))
        with Session(bind=connection) as session:
            found = read(session)
    return snapshot, found


def _take_postgresql(url: str, path: Path, read: Callable[[Session], T]) -> tuple[Snapshot, T]:
    with _connection(url) as plain:
        connection = plain.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        with connection.begin():
            exported = connection.scalar(text("SELECT pg_export_snapshot()"))
            snapshot = Snapshot("postgresql", path, _revision(connection), count_rows(connection))
            with Session(bind=connection) as session:
                found = read(session)
            # The exported snapshot lives as long as this transaction: pg_dump imports it.
            _run(
                "pg_dump",
                ["--format=custom", f"--snapshot={exported}", f"--file={path}"],
                url,
                "dump the database",
                "Check that the user in MICROCRED_DATABASE_URL may read every table of the "
                "database (pg_dump reads them all) and that the backup's disk has room.",
            )
    return snapshot, found


def holds_data(url: str) -> list[str]:
    """The tables of the database that hold a row (its Alembic version aside)."""
    if kind_of(url) == "sqlite" and not Path(_sqlite_path(url)).exists():
        return []
    with _connection(url) as connection:
        return [
            name
            for name in inspect(connection).get_table_names()
            if name != VERSION_TABLE
            and connection.scalar(select(literal(1)).select_from(table(name)).limit(1))
        ]


def restore(url: str, snapshot: Path) -> None:
    """Replace the whole content of the database at ``url`` by the snapshot's."""
    if kind_of(url) == "sqlite":
        target = Path(_sqlite_path(url))
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(str(snapshot), target, source_read_only=True)
        return
    with _connection(url) as connection, connection.begin():
        _drop_everything(connection)
    _run(
        "pg_restore",
        ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", str(snapshot)],
        url,
        "restore the database",
        "Nothing of the backup was kept (it is restored in one transaction). Check that the user "
        "in MICROCRED_DATABASE_URL may create tables in the database, then restore again.",
    )


def rows_and_revision(url: str) -> tuple[dict[str, int], str | None]:
    """Every table's row count and the Alembic revision of the database at ``url``."""
    with _connection(url) as connection:
        return count_rows(connection), _revision(connection)


def count_rows(connection: Connection) -> dict[str, int]:
    return {
        name: int(connection.scalar(select(func.count()).select_from(table(name))) or 0)
        for name in sorted(inspect(connection).get_table_names())
    }


def _revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext  # not at start-up (services.py)

    revision: str | None = MigrationContext.configure(connection).get_current_revision()
    return revision


@contextmanager
def _connection(url: str) -> Iterator[Connection]:
    """A connection of its own (not the app's pool): its isolation and its life are the
    backup's. A database that does not answer is a refusal that says which, not a traceback."""
    options: dict[str, Any] = {"poolclass": NullPool}
    if kind_of(url) == "postgresql":
        options["connect_args"] = {"connect_timeout": 10}
    engine = create_engine(url, **options)
    try:
        try:
            connection = engine.connect()
        except SQLAlchemyError as exc:
            raise BackupError(
                f"The database at {_shown(url)} did not answer: {_first_line(exc)}",
                hint="Check MICROCRED_DATABASE_URL and that the database server is running.",
            ) from None
        with connection:
            yield connection
    finally:
        engine.dispose()


def _copy_sqlite(source: str, target: Path, *, source_read_only: bool) -> None:
    """Copy a whole SQLite database with the online backup API, in one step (one moment)."""
    uri = Path(source).resolve().as_uri() + ("?mode=ro" if source_read_only else "")
    try:
        with (
            closing(sqlite3.connect(uri, uri=True)) as origin,
            closing(sqlite3.connect(target)) as copy,
        ):
            origin.backup(copy)
            # One self-contained file: no write-ahead log beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise BackupError(
            f"The SQLite database could not be copied from {source} to {target}: {exc}.",
            hint="Check that both paths are readable and writable by this user and that the "
            "disk has room.",
        ) from None


def _drop_everything(connection: Connection) -> None:
    """Drop every table, view, sequence and type of the database's schema (pg_restore then
    makes them as the backup had them: none of a newer schema may remain)."""
    found = connection.execute(
        text(
            "SELECT 'VIEW', table_name FROM information_schema.views "
            "WHERE table_schema = current_schema() "
            "UNION ALL SELECT 'TABLE', tablename FROM pg_tables "
            "WHERE schemaname = current_schema() "
            "UNION ALL SELECT 'SEQUENCE', sequencename FROM pg_sequences "
            "WHERE schemaname = current_schema() "
            "UNION ALL SELECT 'TYPE', t.typname FROM pg_type t "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd')"
        )
    ).all()
    order = {"VIEW": 0, "TABLE": 1, "SEQUENCE": 2, "TYPE": 3}
    quote = connection.dialect.identifier_preparer.quote
    for what, name in sorted(found, key=lambda row: order[row[0]]):
        connection.execute(text(f"DROP {what} IF EXISTS {quote(name)} CASCADE"))


def _run(program: str, arguments: list[str], url: str, doing: str, hint: str) -> None:
    """Run a PostgreSQL client program against ``url``; its complaint becomes a refusal."""
    conninfo, environment = _libpq(url)
    try:
        done = subprocess.run(
            [_binary(program), *arguments, f"--dbname={conninfo}"],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise BackupError(
            f"{program} could not be started to {doing}: {exc}.",
            hint="Install the PostgreSQL client programs (Debian: postgresql-client).",
        ) from None
    if done.returncode != 0:
        said = done.stderr.strip() or f"exit status {done.returncode}"
        if "version mismatch" in said:
            hint = (
                f"This {program} is older than the server: put the server's version (or a newer "
                "one) first on PATH (Debian: /usr/lib/postgresql/<version>/bin)."
            )
        raise BackupError(f"{program} could not {doing}: {said}", hint=hint)


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise BackupError(
        f"PostgreSQL's {name} is not installed.",
        hint="Install the PostgreSQL client programs (Debian: postgresql-client) at the "
        "server's version or newer.",
    )


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq connection string of a SQLAlchemy URL, and the environment carrying its
    password (a password in the arguments would show in ``ps``)."""
    parsed = make_url(url)
    words: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "dbname": parsed.database,
    }
    for name, value in parsed.query.items():
        words[name] = value if isinstance(value, str) else value[-1]
    environment = dict(os.environ)
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)
    conninfo = " ".join(
        f"{name}={_libpq_quote(str(value))}" for name, value in words.items() if value is not None
    )
    return conninfo, environment


def _libpq_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    return "" if database in (None, "", ":memory:") else str(database)


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind)

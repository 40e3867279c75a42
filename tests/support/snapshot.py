"""Seeded rows made once per test process and put back in later tests.

Most tests start from the demo (``seed_demo``) and many add the sample catalog
(``seed_sample_catalog``): ~70 and ~90 ms of CPU per test (and more of PostgreSQL's) for rows
that are the same in every test but for the two servers' origins, which each test's own ports
make. The first test of a process seeds for real and keeps the rows the seeding wrote; a later
test inserts the same rows, with its own servers' origins in place of the first test's.

It stays honest by refusing to guess: rows are kept only when the seeding wrote to tables that
were empty before it and changed no other table, and put back only into tables that are empty
again; otherwise the seeding runs for real. The seedings keep tests of their own
(``tests/devlms/test_seed_demo.py``, ``tests/catalog/test_sample.py``), and the first test of
every process runs them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    union_all,
)

from app.models import metadata


@dataclass(frozen=True)
class _Kept:
    rows: tuple[tuple[Table, tuple[dict[str, Any], ...]], ...]
    """Each table the seeding wrote to, in dependency order, with its rows."""
    origins: Mapping[str, str]
    """The origins in the rows, by name (``tool``, ``lms``), as they were when kept."""
    result: Any
    """What the seeding returned."""


_kept: dict[str, _Kept | None] = {}
"""What each seeding wrote, by name; ``None`` when it cannot be put back (see the module)."""


def seeded(
    connection: Connection, name: str, origins: Mapping[str, str], seed: Callable[[], Any]
) -> Any:
    """Put back the rows seeding ``name`` wrote in an earlier test, or run ``seed`` and keep
    them. ``origins`` are the origins the seeding writes into rows (for the servers' ports);
    ``connection`` sees what ``seed`` writes (the same transaction, or after its commit)."""
    before = _counts(connection)
    kept = _kept.get(name)
    if kept is not None and all(before[table.name] == 0 for table, _ in kept.rows):
        _put_back(connection, kept, origins)
        return kept.result
    result = seed()
    if name not in _kept:
        after = _counts(connection)
        written = [t for t in metadata.sorted_tables if after[t.name] != before[t.name]]
        if written:  # (one that found its rows there already wrote none: keep the next)
            _kept[name] = _keep(connection, written, before, origins, result)
    return result


def _counts(connection: Connection) -> dict[str, int]:
    tables = metadata.sorted_tables
    query = union_all(*(select(literal(t.name), func.count()).select_from(t) for t in tables))
    return {name: count for name, count in connection.execute(query)}


def _keep(
    connection: Connection,
    written: list[Table],
    before: Mapping[str, int],
    origins: Mapping[str, str],
    result: Any,
) -> _Kept | None:
    if any(before[t.name] for t in written):
        return None  # it added to rows that were there: what it wrote is not all its own
    return _Kept(
        rows=tuple((table, _rows_of(connection, table)) for table in written),
        origins=dict(origins),
        result=result,
    )


def _json_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if isinstance(c.type, JSON)]


def _rows_of(connection: Connection, table: Table) -> tuple[dict[str, Any], ...]:
    """The table's rows; in a JSON column, SQL NULL is ``None`` and JSON's ``null`` is
    ``JSON.NULL`` (both read as ``None``)."""
    json = _json_columns(table)
    query = select(table, *(c.is_(None).label(f"is_null {c.name}") for c in json))
    rows = []
    for found in connection.execute(query).mappings():
        row = {c.name: found[c] for c in table.columns}
        for column in json:
            if row[column.name] is None and not found[f"is_null {column.name}"]:
                row[column.name] = JSON.NULL
        rows.append(row)
    return tuple(rows)


def _put_back(connection: Connection, kept: _Kept, origins: Mapping[str, str]) -> None:
    swaps = {kept.origins[name]: origins[name] for name in kept.origins}
    # An origin ends at its port's last digit: ":5001" must not match inside ":50012".
    pattern = re.compile("|".join(f"{re.escape(old)}(?![0-9])" for old in swaps))

    def rewrite(value: Any) -> Any:
        if not swaps:
            return value
        if isinstance(value, str):
            return pattern.sub(lambda m: swaps[m.group(0)], value)
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        if isinstance(value, dict):
            return {k: rewrite(v) for k, v in value.items()}
        return value

    for table, rows in kept.rows:
        # A JSON column's None is SQL NULL, as it was read: its own parameter says so.
        json = {c.name: f"json {c.name}" for c in _json_columns(table)}
        statement = insert(table).values(
            {name: bindparam(key, type_=JSON(none_as_null=True)) for name, key in json.items()}
        )
        connection.execute(
            statement, [{json.get(k, k): rewrite(v) for k, v in r.items()} for r in rows]
        )
    if connection.dialect.name == "postgresql":
        _move_sequences_past(connection, kept)


def _move_sequences_past(connection: Connection, kept: _Kept) -> None:
    """Rows put back with their ids leave the tables' sequences behind them (a table without
    one has no serial sequence: ``setval(NULL, ...)`` is NULL and changes nothing)."""
    moves = []
    for table, rows in kept.rows:
        keys = list(table.primary_key.columns)
        if len(keys) == 1 and isinstance(rows[0][keys[0].name], int):
            highest = max(row[keys[0].name] for row in rows)
            moves.append(
                func.setval(func.pg_get_serial_sequence(table.name, keys[0].name), highest)
            )
    if moves:
        connection.execute(select(*moves))

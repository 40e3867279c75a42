"""A report's numbers as one table, which the page shows and the CSV download writes: the same
header and the same cells (already formatted), so the download is exactly what was shown.

A CSV is UTF-8 with a byte order mark (Excel reads accents right), CRLF line ends (RFC 4180),
and every cell kept from running as a spreadsheet formula (``safe_cell``, the class progress
CSV's rule).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.db import utcnow
from app.progress.services import safe_cell


@dataclass(frozen=True)
class Column:
    header: str
    numeric: bool = False
    """Right-aligned on the page."""


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[Column, ...]
    rows: Sequence[tuple[str, ...]]
    """Each row's cells as shown; the first is the row's header."""

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]


def csv_bytes(table: Table) -> bytes:
    """The table as CSV: the header row, then every row as shown."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(header) for header in table.headers])
    for row in table.rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8-sig")


def csv_filename(report: str, now: datetime | None = None) -> str:
    """The download's name: the report and the day (safe characters only: it goes into a
    ``Content-Disposition`` header)."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", report).strip("-") or "report"
    return f"{safe}-{(now or utcnow()):%Y-%m-%d}.csv"


def number(value: float | None, places: int = 1) -> str:
    """A figure as the table holds it: whole numbers without a point, others to ``places``
    decimals; empty for none (the page shows a dash)."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{places}f}"

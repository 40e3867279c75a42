"""What a report is filtered to and grouped by, read from its address so that a report can be
bookmarked and shared: ``?organisation=lakemont&from=2025-01-01&to=2025-06-30&by=month``.

Values name things by their stable public names (slugs, a platform's uuid, ISO dates). A value
that names nothing the reader may report on, or is not a date, is refused with a 400 that
says which and what to do; an organisation admin is told the same about another organisation
as about one that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app import inputs
from app.errors import AppError

GROUPS = {
    "organisation": "Organisation",
    "platform": "Platform",
    "course": "Course",
    "stack": "Stack",
    "credential": "Credential",
    "month": "Month",
}
"""What a report's rows may stand for (``by``), and the column's header."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class InvalidFilter(AppError):
    code = "invalid_filter"
    title = "This report cannot be shown like that"

    def __init__(self, message: str, *, hint: str, field: str) -> None:
        super().__init__(message, hint=hint)
        self.field = field
        """The filter (its name in the address and its field's id on the page)."""


@dataclass(frozen=True)
class Filters:
    """A report's filters as the address gives them (not yet checked against the catalog)."""

    organisation: str | None = None
    """An organisation's slug."""
    platform: str | None = None
    """A platform's uuid."""
    stack: str | None = None
    credential: str | None = None
    start: date | None = None
    """The first day counted (``from``), UTC."""
    end: date | None = None
    """The last day counted (``to``), UTC."""
    by: str = "credential"

    @classmethod
    def parse(cls, args: Mapping[str, str], *, groups: tuple[str, ...] = ()) -> Filters:
        """Read the filters; ``groups`` are the ``by`` this report offers (the first is the
        default), none if its rows are not grouped."""
        fields = inputs.Fields(args)
        start = _date(fields, "from")
        end = _date(fields, "to")
        if start and end and start > end:
            raise InvalidFilter(
                f"The period starts on {start.isoformat()}, after it ends on {end.isoformat()}.",
                hint="Choose a “from” date on or before the “to” date.",
                field="from",
            )
        by = fields.optional_text("by", max_length=inputs.SLUG_CHARS)
        if not groups and by is not None:
            raise InvalidFilter(
                f"This report's rows are not grouped, so it cannot be grouped by “{by[:40]}”.",
                hint="Leave “by” out of the address.",
                field="by",
            )
        if by is not None and by not in groups:
            raise InvalidFilter(
                f"This report cannot be grouped by “{by[:40]}”.",
                hint="Group it by one of: " + ", ".join(GROUPS[g].lower() for g in groups) + ".",
                field="by",
            )
        return cls(
            organisation=fields.optional_text("organisation", max_length=inputs.SLUG_CHARS),
            platform=fields.optional_text("platform", max_length=inputs.SLUG_CHARS),
            stack=fields.optional_text("stack", max_length=inputs.SLUG_CHARS),
            credential=fields.optional_text("credential", max_length=inputs.SLUG_CHARS),
            start=start,
            end=end,
            by=(by or groups[0]) if groups else "",
        )

    @property
    def since(self) -> datetime | None:
        return datetime.combine(self.start, time(), UTC) if self.start else None

    @property
    def until(self) -> datetime | None:
        """The moment after the last day (the period is ``[since, until)``)."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC) if self.end else None

    def query_args(self, default_by: str = "", **changes: Any) -> dict[str, str]:
        """These filters as query arguments (with ``changes``), leaving out what is not set."""
        changed = replace(self, **changes) if changes else self
        values = {
            "organisation": changed.organisation,
            "platform": changed.platform,
            "stack": changed.stack,
            "credential": changed.credential,
            "from": changed.start.isoformat() if changed.start else None,
            "to": changed.end.isoformat() if changed.end else None,
            "by": changed.by if changed.by != default_by else None,
        }
        return {key: value for key, value in values.items() if value}

    @property
    def narrowed(self) -> bool:
        """Some filter is set (the page offers to clear them)."""
        return any(
            (self.organisation, self.platform, self.stack, self.credential, self.start, self.end)
        )


def _date(fields: inputs.Fields, name: str) -> date | None:
    value = fields.optional_text(name, max_length=inputs.SLUG_CHARS)
    if value is None:
        return None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidFilter(
            f"“{value[:40]}” is not a date.",
            hint=f"Give the “{name}” date as year-month-day, e.g. 2025-09-01.",
            field=name,
        ) from None

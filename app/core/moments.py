"""One way of showing a moment in time, on every page: ``{{ value | moment }}``.

The server writes a ``<time>`` element whose ``datetime`` is the instant in UTC (ISO 8601) and
whose text is a readable default in UTC with the zone named ("7 Dec 2026, 19:08 UTC"), so a page
read without scripts is never wrong. ``core/static/moments.js`` (loaded by ``base.html``) then
rewrites every such element in the viewer's own time zone, which only the browser knows, and
language: the LMS's ``launch_presentation.locale`` inside a launch, the browser's elsewhere
(``<html data-locale>``). Times a page changes later (an autosave's "Saved at", a review hold
renewed) go through the same script, so a time never changes format on the same page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup

STYLES = ("datetime", "date", "time")
"""``datetime``: day, month, year and time; ``date``: the day only; ``time``: the time only
(for moments within the day being looked at, like a review hold's end)."""


def utc_iso(value: datetime) -> str:
    """Return the instant as ISO 8601 in UTC, to the second (stored times are naive UTC)."""
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def default_text(value: datetime, style: str = "datetime") -> str:
    """The text shown before the script runs (or without it): UTC, with the zone named."""
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if style == "date":
        return f"{moment.day} {moment:%B %Y}"
    if style == "time":
        return f"{moment:%H:%M} UTC"
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def moment(value: datetime | None, style: str = "datetime", empty: str = "") -> Markup:
    """Render ``value`` as a ``<time>`` element the page's script shows in the viewer's zone
    and language; ``empty`` (escaped) for no value."""
    if style not in STYLES:
        raise ValueError(f"unknown time style {style!r}: one of {', '.join(STYLES)}")
    if value is None:
        return Markup.escape(empty)
    return Markup('<time datetime="{}" data-moment="{}">{}</time>').format(
        utc_iso(value), style, default_text(value, style)
    )

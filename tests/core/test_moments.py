"""One way of showing a moment (issue 28 item 8): ``{{ value | moment }}`` writes a ``<time>``
element with the instant in UTC for the page's script, and a readable UTC default naming its
zone for a page read without scripts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask import render_template_string

from app.core.moments import default_text, moment, utc_iso

INSTANT = datetime(2026, 3, 14, 21, 45, 9, 123456, tzinfo=UTC)


def test_a_moment_is_a_time_element_in_utc_with_its_zone_named() -> None:
    assert str(moment(INSTANT)) == (
        '<time datetime="2026-03-14T21:45:09Z" data-moment="datetime">14 Mar 2026, 21:45 UTC</time>'
    )


@pytest.mark.parametrize(
    ("style", "text"),
    [("datetime", "14 Mar 2026, 21:45 UTC"), ("date", "14 March 2026"), ("time", "21:45 UTC")],
)
def test_each_style_has_a_readable_default(style: str, text: str) -> None:
    assert default_text(INSTANT, style) == text
    assert f'data-moment="{style}">{text}</time>' in str(moment(INSTANT, style))


def test_another_zone_and_a_naive_utc_value_are_the_same_instant() -> None:
    kolkata = INSTANT.astimezone(timezone(timedelta(hours=5, minutes=30)))
    naive = INSTANT.replace(tzinfo=None)
    assert utc_iso(kolkata) == utc_iso(naive) == "2026-03-14T21:45:09Z"
    assert moment(kolkata) == moment(naive) == moment(INSTANT)


def test_no_value_shows_the_placeholder_escaped() -> None:
    assert moment(None) == ""
    assert str(moment(None, empty="<none>")) == "&lt;none&gt;"


def test_an_unknown_style_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown time style"):
        moment(INSTANT, "weekday")


def test_every_template_reaches_it_as_a_filter(app) -> None:
    with app.test_request_context():
        html = render_template_string('{{ when | moment("date") }}', when=INSTANT)
    assert html == '<time datetime="2026-03-14T21:45:09Z" data-moment="date">14 March 2026</time>'

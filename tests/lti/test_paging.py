"""The ``Link`` header of paged service answers (RFC 8288 §3), as platforms send it."""

from __future__ import annotations

import pytest

from app.lti.paging import next_link, parse_link_header

PAGE = "https://lms.example/api/lti/courses/3/memberships?page=2"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://lms.example/m?page=3>; rel="next"', "https://lms.example/m?page=3"),
        ("<https://lms.example/m?page=3>; rel=next", "https://lms.example/m?page=3"),
        ('<https://lms.example/m?page=3>; REL="Next"', "https://lms.example/m?page=3"),
        ('<https://lms.example/m?page=9>; rel="next last"', "https://lms.example/m?page=9"),
        (
            '<https://lms.example/m?page=3>; title="a; b, c"; rel="next"',
            "https://lms.example/m?page=3",
        ),
        # Canvas: every relation in one header, next not first.
        (
            '<https://lms.example/m?page=2&per_page=10>; rel="current",'
            '<https://lms.example/m?page=3&per_page=10>; rel="next",'
            '<https://lms.example/m?page=1&per_page=10>; rel="first",'
            '<https://lms.example/m?page=8&per_page=10>; rel="last"',
            "https://lms.example/m?page=3&per_page=10",
        ),
        # A target with a comma, and the header folded over lines.
        (
            '<https://lms.example/m?ids=1,2>; rel="prev",\r\n <https://lms.example/m?ids=3,4>;\n'
            ' rel="next"',
            "https://lms.example/m?ids=3,4",
        ),
        (
            '</api/lti/courses/3/memberships?page=3>; rel="next"',
            "https://lms.example/api/lti/courses/3/memberships?page=3",
        ),
        ('<?page=3>; rel="next"', "https://lms.example/api/lti/courses/3/memberships?page=3"),
    ],
)
def test_the_next_page_is_found(header, expected):
    assert next_link(header, PAGE) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        '<https://lms.example/m?page=1>; rel="prev"',
        '<https://lms.example/m?page=1>; rel="prev"; rel="next"',  # only the first rel counts
        '<https://lms.example/m?page=1>; title="next"',
        '<https://lms.example/m?page=1>; rel="nextpage"',
        "https://lms.example/m?page=3; rel=next",  # no angle brackets: not a link-value
        '<>; rel="next"',
    ],
)
def test_no_next_page(header):
    assert next_link(header, PAGE) is None


def test_a_malformed_value_does_not_hide_the_next_one():
    header = 'garbage; rel="next", <https://lms.example/m?page=4>; rel="next"'
    assert parse_link_header(header) == [("https://lms.example/m?page=4", {"rel": "next"})]

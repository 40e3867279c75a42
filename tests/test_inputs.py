"""The one way in for outside input (``app/inputs.py``, issue 25): each check on its own.
``tests/security/test_bad_input*.py`` send the same values through every route."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule

from app import inputs
from app.errors import AppError
from app.inputs import BadInput, Fields


@pytest.mark.parametrize("value", ["0", "7", " 42 ", 2**31 - 1, 0])
def test_a_whole_number_in_ascii_digits_within_the_column_is_taken(value):
    assert inputs.whole_number("n", value) == int(str(value).strip())


@pytest.mark.parametrize(
    "value", ["²", "٣", "1e3", "1.0", "-1", "", "x", str(2**31), str(2**63), "9" * 5000, True, 1.5]
)
def test_anything_else_is_refused_naming_the_field(value):
    with pytest.raises(BadInput, match="“version”") as refused:
        inputs.whole_number("version", value)
    assert refused.value.field == "version"
    assert refused.value.status == 400


def test_json_wants_a_number_not_digits_in_a_string():
    assert inputs.whole_number("n", 3, strict=True) == 3
    with pytest.raises(BadInput):
        inputs.whole_number("n", "3", strict=True)


@pytest.mark.parametrize(
    ("value", "found"),
    [("12", 12), ("٣", None), ("²", None), (str(2**31), None), ("", None), ("1x", None)],
)
def test_a_reference_is_an_id_only_when_a_column_can_hold_it(value, found):
    assert inputs.as_id(value) == found


@pytest.mark.parametrize(
    "value", ["1e999", "nan", "inf", float("nan"), float("inf"), "٣", "501", 10**400]
)
def test_a_number_must_be_finite_ascii_and_within_bounds(value):
    with pytest.raises(BadInput, match="“hours”"):
        inputs.finite_number("hours", value, minimum=0, maximum=500)


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "a\udfffb"])
def test_text_that_cannot_be_stored_is_refused(value):
    with pytest.raises(BadInput, match="“title”"):
        inputs.text("title", value)


def test_text_longer_than_its_limit_is_refused_saying_how_long():
    with pytest.raises(BadInput, match="at most 10 characters long \\(11 sent\\)"):
        inputs.text("title", "x" * 11, max_length=10)
    assert inputs.text("title", "é" * 10, max_length=10) == "é" * 10


@pytest.mark.parametrize("token", ["тест", "two words", "a\x00", "a" * 5000, "a=b"])
def test_a_bearer_token_is_rfc_6750_characters_of_a_sensible_length(token):
    with pytest.raises(BadInput, match="“registration_token”"):
        inputs.bearer_token("registration_token", token)
    assert inputs.bearer_token("t", "eyJhbGciOi.J9-_~+/x==") == "eyJhbGciOi.J9-_~+/x=="


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        ({"feedback": "\ud800"}, "feedback", "lone surrogate"),
        ({"text": "a\x00"}, "text", "NUL"),
        ({"criteria": {"k": {"comment": "\udc00"}}}, "criteria", "lone surrogate"),
        ({"version": float("inf")}, "version", "finite"),
        ({"a": [float("nan")]}, "a", "finite"),
        ({"\ud800": 1}, "body", "lone surrogate"),
        ({"criteria": json.loads("[" * 40 + "]" * 40)}, "criteria", "nested"),
    ],
)
def test_json_is_checked_whole_naming_the_member_at_fault(document, field, words):
    with pytest.raises(BadInput, match=re.escape(f"“{field}”")) as refused:
        inputs.check_json(document)
    assert words in refused.value.message


def test_json_nested_a_little_is_fine():
    inputs.check_json({"criteria": {"k": {"met": True, "comment": "ok"}}, "list": [[1, 2.5]]})


def test_fields_read_each_type_and_give_defaults_when_missing():
    form = Fields(MultiDict({"n": "3", "t": "  hi  ", "ids": ["1", "2"], "empty": ""}))
    assert form.integer("n") == 3
    assert form.integer("missing", 0) == 0
    assert form.optional_integer("empty") is None
    assert form.text("t", strip=True) == "hi"
    assert form.optional_text("empty") is None
    assert form.integers("ids") == [1, 2]
    with pytest.raises(BadInput, match="“missing” is missing"):
        form.integer("missing")


@pytest.mark.parametrize(
    ("value", "page"), [("3", 3), ("x", 1), ("0", 1), ("²", 1), ("9" * 9, 100_000)]
)
def test_a_page_number_that_is_not_one_shows_the_first_page(value, page):
    assert Fields(MultiDict({"page": value})).page() == page


def test_a_refused_field_can_be_said_in_the_pages_own_words():
    class Refused(AppError):
        code = "refused"

    with (
        pytest.raises(Refused, match=re.escape("Choose a score. The field “delivery”")),
        inputs.reworded(Refused, "Choose a score."),
    ):
        Fields(MultiDict({"delivery": "²"})).integers("delivery")


def _adapter(rule: str):
    url_map = Map([Rule(rule, endpoint="e")], converters=inputs.CONVERTERS)
    return url_map.bind("tool.example")


@pytest.mark.parametrize("segment", ["2147483648", "9223372036854775808", "٣", "²", "-1", "1.0"])
def test_an_id_segment_the_database_cannot_hold_matches_no_route(segment):
    with pytest.raises(NotFound):
        _adapter("/attempts/<int:attempt_id>").match(f"/attempts/{segment}")


def test_an_id_segment_up_to_the_databases_integer_matches():
    adapter = _adapter("/attempts/<int:attempt_id>")
    assert adapter.match("/attempts/2147483647") == ("e", {"attempt_id": 2**31 - 1})


@pytest.mark.parametrize("segment", ["a\x00b", "a\x1bb", "a\x7fb", "a" * 201])
def test_a_string_segment_with_control_characters_or_too_long_matches_no_route(segment):
    with pytest.raises(NotFound):
        _adapter("/work/<slug>").match(f"/work/{segment}")
    assert _adapter("/work/<slug>").match("/work/lesson-plan") == ("e", {"slug": "lesson-plan"})

"""The authoring forms' messages read as a person wrote them, naming the field by its label
(issue 28 item 10: "Choose judges the part: …", "Enter the met when." were assembled from the
labels); a choice with one option is made already."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from app.catalog.authoring import ORGANISATION_FIELDS
from app.catalog.authoring_forms import DETAILS, LISTS, Field, defaults, parse
from app.catalog.stack_authoring import STACK_FIELDS

EVERY_FIELD = [
    *(("details", f) for f in DETAILS),
    *((name, f) for name, spec in LISTS.items() for f in spec.fields),
    *(("organisation", f) for f in ORGANISATION_FIELDS),
    *(("stack", f) for f in STACK_FIELDS),
]
ASKED = [(where, f) for where, f in EVERY_FIELD if f.required or f.kind in {"select", "choices"}]


@pytest.mark.parametrize(("where", "f"), ASKED, ids=[f"{w}.{f.name}" for w, f in ASKED])
def test_every_required_field_and_choice_has_its_own_sentence_naming_it(
    where: str, f: Field
) -> None:
    assert f.missing, f"{where}.{f.name} ({f.label}) has no message of its own"
    assert f.label.lower() in f.missing.lower(), f"{f.missing!r} does not name “{f.label}”"
    assert f.missing[0].isupper() and f.missing.endswith("."), f.missing


def test_an_empty_criterion_is_told_what_to_do_in_sentences() -> None:
    form = parse(
        LISTS["criteria"].fields,
        MultiDict({"title": "", "part": "", "pass_descriptor": ""}),
        choices={"part": [("plan", "Lesson plan"), ("reflection", "Reflection")]},
    )
    assert form.errors == {
        "title": "Give this criterion a title, e.g. “Every student responds”.",
        "part": "Under “Judges the part”, choose the part of the submission this criterion judges.",
        "pass_descriptor": "Say under “Met when” what evidence meets this criterion.",
    }


def test_a_field_without_a_sentence_of_its_own_quotes_its_label() -> None:
    plain = Field("venue", "Venue", "text", required=True)
    choice = Field("size", "Room size", "select", required=True, choices=(("s", "S"), ("l", "L")))
    form = parse([plain, choice], MultiDict({"venue": "", "size": "xl"}))
    assert form.errors == {
        "venue": "Fill in “Venue”.",
        "size": "Choose one of the options under “Room size”: S or L.",
    }


def test_the_only_part_is_chosen_already_for_a_new_criterion() -> None:
    fields = LISTS["criteria"].fields
    assert defaults(fields, {"part": [("plan", "Lesson plan")]})["part"] == "plan"
    two = {"part": [("plan", "Lesson plan"), ("reflection", "Reflection")]}
    assert defaults(fields, two)["part"] == ""

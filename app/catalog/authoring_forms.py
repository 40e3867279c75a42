"""What the authoring forms accept: one description per field (label, hint, kind, limits) that
both draws the form and checks what comes back, with a message a person can act on.

A field's ``path`` is where its value lives in a version's content (the catalog format), so
``("credit", "amount")`` is ``content["credit"]["amount"]``. An empty optional field is left
out of the content rather than stored empty, as the catalog format expects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
MARKDOWN_MAX = 20000
EVIDENCE_KINDS = (("text", "Written answer"), ("file", "File upload"), ("link", "Link"))


@dataclass(frozen=True)
class Field:
    """One form field."""

    name: str
    """The form field's name and the HTML id."""
    label: str
    kind: str
    """``text``, ``textarea`` (plain), ``markdown``, ``int``, ``number``, ``url``, ``bool``,
    ``slug``, ``tags``, ``choices`` (several checkboxes), ``select`` (one)."""
    path: tuple[str, ...] = ()
    required: bool = False
    """Needed to save at all."""
    for_publishing: bool = False
    """Not needed to save a draft, needed to publish."""
    hint: str = ""
    min_length: int = 0
    max_length: int = 200
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[tuple[str, str], ...] = ()
    default: Any = None
    """What a new item's field holds."""
    missing: str = ""
    """What to say when a required field is left empty (or a choice is not one of the
    options): a sentence written for this field, naming it by its label. Assembled ones read as
    machine-made ("Enter the met when."), so every required field and every choice has one
    (a test checks)."""

    @property
    def key(self) -> tuple[str, ...]:
        return self.path or (self.name,)


@dataclass
class Parsed:
    """A submitted form: what was typed (to show again), errors per field, and the values."""

    typed: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    """Nested like the content; a ``None`` leaf means "leave it out"."""

    @property
    def is_valid(self) -> bool:
        return not self.errors


# --- The credential's own fields -----------------------------------------------------------------

DETAILS: tuple[Field, ...] = (
    Field(
        "title",
        "Title",
        "text",
        required=True,
        min_length=3,
        max_length=200,
        hint="What educators see in the catalog and on the badge, e.g. “Hinge questions”.",
        missing="Give the credential a title: educators see it in the catalog and on the badge.",
    ),
    Field(
        "short_description",
        "Short description",
        "textarea",
        for_publishing=True,
        min_length=10,
        max_length=500,
        hint="One or two sentences for the catalog listing (10 to 500 characters).",
    ),
    Field(
        "competency",
        "Competency",
        "markdown",
        for_publishing=True,
        max_length=MARKDOWN_MAX,
        hint="What an educator who earns it can do. Markdown: **bold**, *italic*, lists, links.",
    ),
    Field(
        "key_method",
        "Key method",
        "markdown",
        for_publishing=True,
        max_length=MARKDOWN_MAX,
        hint="The instructional method the competency rests on, and why it works.",
    ),
    Field(
        "tags",
        "Tags",
        "tags",
        hint="Words educators filter by, separated by commas, e.g. assessment, questioning.",
        max_length=60,
    ),
    Field(
        "estimated_hours",
        "Estimated hours",
        "number",
        minimum=0,
        maximum=500,
        hint="About how long it takes, classroom time included, e.g. 8 or 12.5.",
    ),
    Field(
        "credit_amount",
        "Continuing-education credit",
        "number",
        path=("credit", "amount"),
        minimum=0,
        maximum=1000,
        hint="How much credit it carries, e.g. 1.5. Leave empty if none.",
    ),
    Field(
        "credit_unit",
        "Credit unit",
        "text",
        path=("credit", "unit"),
        max_length=60,
        hint="What the credit is counted in, e.g. CEUs or contact hours.",
    ),
    Field(
        "attempt_limit",
        "Attempts allowed",
        "int",
        minimum=1,
        maximum=20,
        hint="How many times an educator may submit. Leave empty for the default, 3.",
    ),
    Field(
        "passing_kind",
        "Passing rule",
        "select",
        path=("passing_rule", "kind"),
        choices=(
            ("all", "Every criterion met"),
            ("at_least", "At least a number of criteria met"),
        ),
        default="all",
        missing="Choose a passing rule: every criterion met, or at least a number of them.",
    ),
    Field(
        "passing_count",
        "Criteria that must be met",
        "int",
        path=("passing_rule", "count"),
        minimum=1,
        maximum=100,
        hint="Only for “at least a number of criteria met”.",
    ),
    Field(
        "second_review",
        "Two independent reviews",
        "bool",
        path=("review", "second_review"),
        hint="Each submission is judged by two assessors; a disagreement goes to a lead.",
    ),
    Field(
        "blind",
        "Blind review",
        "bool",
        path=("review", "blind"),
        hint="Assessors do not see the educator's name, email or course.",
    ),
    Field(
        "turnaround_days",
        "Review within (days)",
        "int",
        path=("review", "turnaround_days"),
        minimum=1,
        maximum=90,
        hint="Submissions waiting longer are flagged. Leave empty for the default, 14.",
    ),
    Field(
        "valid_for_days",
        "Badge valid for (days)",
        "int",
        minimum=1,
        maximum=36500,
        hint="The badge expires this long after it is earned. Leave empty if it never does.",
    ),
)


# --- The lists in a version, and their items -----------------------------------------------------


@dataclass(frozen=True)
class ListSpec:
    """One of a version's ordered lists: its name in the content, its words, its fields."""

    name: str
    title: str
    singular: str
    intro: str
    fields: tuple[Field, ...]
    summary: str
    """The field that names an item in the list."""
    for_publishing: bool = False
    """At least one item is needed to publish."""


LISTS: dict[str, ListSpec] = {
    spec.name: spec
    for spec in (
        ListSpec(
            "parts",
            "What to submit",
            "part",
            "The submission, in parts. Educators see each part's guidance beside their answer; "
            "each rubric criterion judges one part.",
            (
                Field(
                    "title",
                    "Title",
                    "text",
                    required=True,
                    min_length=1,
                    max_length=200,
                    missing="Give this part a title, e.g. “Lesson plan”.",
                ),
                Field(
                    "key",
                    "Key",
                    "slug",
                    max_length=80,
                    hint="A short name for this part, e.g. lesson-plan. Leave empty to make one "
                    "from the title.",
                ),
                Field(
                    "guidance",
                    "Guidance",
                    "markdown",
                    required=True,
                    max_length=MARKDOWN_MAX,
                    hint="What to submit and how. Markdown.",
                    missing="Write the guidance: tell educators what to submit for this part, "
                    "and how.",
                ),
                Field(
                    "evidence_kinds",
                    "Accepted evidence",
                    "choices",
                    required=True,
                    choices=EVIDENCE_KINDS,
                    default=["text"],
                    missing="Tick at least one kind of accepted evidence: a written answer, a "
                    "file upload or a link.",
                ),
                Field(
                    "word_limit",
                    "Word limit",
                    "int",
                    minimum=10,
                    maximum=20000,
                    hint="For written answers. Leave empty for no limit.",
                ),
                Field(
                    "required",
                    "Required",
                    "bool",
                    default=True,
                    hint="An educator cannot submit without it.",
                ),
            ),
            summary="title",
            for_publishing=True,
        ),
        ListSpec(
            "criteria",
            "Rubric",
            "criterion",
            "Each criterion judges one part and is met or not yet. Say what evidence meets it.",
            (
                Field(
                    "title",
                    "Title",
                    "text",
                    required=True,
                    min_length=1,
                    max_length=200,
                    missing="Give this criterion a title, e.g. “Every student responds”.",
                ),
                Field(
                    "key",
                    "Key",
                    "slug",
                    max_length=80,
                    hint="A short name, e.g. purpose. Leave empty to make one from the title.",
                ),
                Field(
                    "part",
                    "Judges the part",
                    "select",
                    required=True,
                    missing="Under “Judges the part”, choose the part of the submission this "
                    "criterion judges.",
                ),
                Field(
                    "pass_descriptor",
                    "Met when",
                    "markdown",
                    required=True,
                    max_length=MARKDOWN_MAX,
                    hint="What evidence meets it. Markdown.",
                    missing="Say under “Met when” what evidence meets this criterion.",
                ),
            ),
            summary="title",
            for_publishing=True,
        ),
        ListSpec(
            "method_components",
            "Method components",
            "component",
            "The steps or parts of the key method, in order.",
            (
                Field(
                    "title",
                    "Title",
                    "text",
                    required=True,
                    min_length=1,
                    max_length=200,
                    missing="Give this component a title, e.g. “Find the hinge point”.",
                ),
                Field(
                    "description",
                    "Description",
                    "markdown",
                    required=True,
                    max_length=MARKDOWN_MAX,
                    missing="Write a description of this step of the method.",
                ),
            ),
            summary="title",
        ),
        ListSpec(
            "research",
            "Supporting research",
            "citation",
            "Full citations of the research behind the method, with a link where there is one.",
            (
                Field(
                    "citation",
                    "Citation",
                    "textarea",
                    required=True,
                    min_length=10,
                    max_length=1000,
                    hint="In the style you use, e.g. APA. Markdown italics (*Title*) are kept.",
                    missing="Paste the full citation, e.g. in APA style.",
                ),
                Field("url", "Link", "url", max_length=1024, hint="A DOI or publisher link."),
            ),
            summary="citation",
        ),
        ListSpec(
            "resources",
            "Resources",
            "resource",
            "Links educators will find useful while they work.",
            (
                Field(
                    "title",
                    "Title",
                    "text",
                    required=True,
                    min_length=1,
                    max_length=300,
                    missing="Give this resource a title, e.g. “Dylan Wiliam Center”.",
                ),
                Field(
                    "url",
                    "Link",
                    "url",
                    required=True,
                    max_length=1024,
                    missing="Enter the resource's link, starting with https://.",
                ),
                Field("description", "Description", "textarea", max_length=1000),
            ),
            summary="title",
        ),
    )
}


# --- Reading and checking ------------------------------------------------------------------------


def _get(content: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = content
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def shown(fields: Sequence[Field], content: Mapping[str, Any]) -> dict[str, Any]:
    """Return the form's values for what a version (or a list item) holds now."""
    typed: dict[str, Any] = {}
    for f in fields:
        value = _get(content, f.key)
        if f.kind == "tags":
            typed[f.name] = ", ".join(value or [])
        elif f.kind == "bool":
            typed[f.name] = bool(value)
        elif f.kind == "choices":
            typed[f.name] = list(value or [])
        elif value is None:
            typed[f.name] = ""
        elif f.kind == "number" and isinstance(value, float) and value.is_integer():
            typed[f.name] = str(int(value))
        else:
            typed[f.name] = str(value)
    return typed


def defaults(
    fields: Sequence[Field], choices: Mapping[str, Sequence[tuple[str, str]]] | None = None
) -> dict[str, Any]:
    """Return the form's values for a new item. A choice with only one option (a criterion of
    a draft with one part) holds it already: there is nothing to choose."""
    typed: dict[str, Any] = {}
    for f in fields:
        options = tuple((choices or {}).get(f.name, f.choices))
        if f.kind == "bool":
            typed[f.name] = bool(f.default)
        elif f.kind == "choices":
            typed[f.name] = list(f.default or [])
        elif f.kind == "select" and f.default is None and len(options) == 1:
            typed[f.name] = options[0][0]
        else:
            typed[f.name] = "" if f.default is None else str(f.default)
    return typed


def _set(values: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for part in path[:-1]:
        values = values.setdefault(part, {})
    values[path[-1]] = value


def slugify(text: str) -> str:
    """Return a key made from a title: lower-case words joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"['\u2019]", "", text.lower()))
    return "-".join(words)[:60].strip("-")


def parse(
    fields: Sequence[Field],
    form: Any,
    *,
    choices: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> Parsed:
    """Check a submitted form against its fields.

    ``form`` is a request's form (``get`` and ``getlist``); ``choices`` gives the options of
    ``select`` fields whose options depend on the version (a criterion's part)."""
    result = Parsed(typed={})
    for f in fields:
        options = tuple((choices or {}).get(f.name, f.choices))
        if f.kind == "bool":
            value: Any = form.get(f.name) in {"1", "on", "yes", "true"}
            result.typed[f.name] = value
            _set(result.values, f.key, value if value else None)
            continue
        if f.kind == "choices":
            picked = [v for v in form.getlist(f.name) if v in dict(options)]
            result.typed[f.name] = picked
            if not picked and f.required:
                result.errors[f.name] = _missing(f, options)
            _set(result.values, f.key, [v for v, _ in options if v in picked] or None)
            continue
        raw = str(form.get(f.name, "") or "").replace("\r\n", "\n")
        text = raw if f.kind in {"markdown", "textarea"} else raw.strip()
        if f.kind in {"markdown", "textarea"}:
            text = text.strip("\n").rstrip()
        result.typed[f.name] = text
        if not text:
            if f.required:
                result.errors[f.name] = _missing(f, options)
            _set(result.values, f.key, None)
            continue
        error, value = _check(f, text, options)
        if error:
            result.errors[f.name] = error
        _set(result.values, f.key, value)
    return result


def _missing(f: Field, options: Sequence[tuple[str, str]]) -> str:
    """The field's own sentence; for a field without one, a plain one that quotes its label
    (the label's words are the author's way to find it on the page)."""
    if f.missing:
        return f.missing
    if f.kind in {"select", "choices"}:
        return f"Choose one of the options under “{f.label}”: {_or(options)}."
    return f"Fill in “{f.label}”."


def _or(options: Sequence[tuple[str, str]]) -> str:
    labels = [label for _, label in options]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def _check(f: Field, text: str, options: Sequence[tuple[str, str]]) -> tuple[str | None, Any]:
    """Return (an error, or ``None``; the clean value) for a non-empty field."""
    if f.kind in {"text", "textarea", "markdown", "url", "slug"}:
        if len(text) > f.max_length:
            return f"{f.label} must be at most {f.max_length} characters ({len(text)} now).", text
        if len(text) < f.min_length:
            return f"{f.label} must be at least {f.min_length} characters.", text
    if f.kind == "url":
        parts = urlsplit(text)
        if parts.scheme not in {"http", "https"} or not parts.hostname or " " in text:
            return "Enter a full web address starting with https://.", text
    if f.kind == "slug" and not SLUG.fullmatch(text):
        return (
            f"{f.label} may use lower-case letters, digits and single hyphens only, "
            "e.g. lesson-plan.",
            text,
        )
    if f.kind == "tags":
        tags: list[str] = []
        for tag in (t.strip() for t in text.split(",")):
            if not tag:
                continue
            if len(tag) > f.max_length:
                return f"A tag must be at most {f.max_length} characters: “{tag[:20]}…”.", text
            if tag.lower() not in {t.lower() for t in tags}:
                tags.append(tag)
        return None, tags or None
    if f.kind in {"int", "number"}:
        try:
            if not text.isascii():  # int() and float() read other scripts' digits too
                raise ValueError(text)
            number: float = int(text) if f.kind == "int" else float(text)
        except ValueError:
            whole = "a whole number" if f.kind == "int" else "a number"
            return f"{f.label} must be {whole}, e.g. {int(f.minimum or 0) + 1}.", text
        if number != number or number in {float("inf"), float("-inf")}:
            return f"{f.label} must be a number.", text
        if f.minimum is not None and (
            number <= f.minimum if f.kind == "number" else number < f.minimum
        ):
            bound = "more than" if f.kind == "number" else "at least"
            return f"{f.label} must be {bound} {f.minimum:g}.", text
        if f.maximum is not None and number > f.maximum:
            return f"{f.label} must be at most {f.maximum:g}.", text
        if f.kind == "number" and float(number).is_integer():
            number = int(number)
        return None, number
    if f.kind == "select" and text not in dict(options):
        return _missing(f, options), text
    return None, text
